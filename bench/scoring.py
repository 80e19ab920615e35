"""Benchmark the reply scorer on the labeled evaluation set, beside two baselines.

    .venv/bin/python bench/scoring.py            # the table (tune and held-out)
    .venv/bin/python bench/scoring.py --errors   # also list the scorer's mistakes on the TUNE part only

Prints precision / recall / F1 per category and for forbidden phrases (micro over ids), on the tune
and held-out parts of tests/data/scoring_eval_*.jsonl, for:
- scorer:    scoring.scorer.Scorer (the guide, pinyin matching, guards);
- exact:     exact substring of the guide's phrases after the same normalisation (NFKC, Traditional->Simplified,
             你->您, no punctuation or fillers), no guards;
- rapidfuzz: rapidfuzz.fuzz.partial_ratio of the same phrases on the normalised characters, threshold picked on
             the tune part (the best micro F1), no guards.
Then the median and p95 milliseconds per reply (one core, after load) and the guide load time in a fresh process.
Held-out mistakes are never printed: tune only on the tune part.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
PARTS = ("tune", "heldout")
Labels = tuple[set[str], set[str]]  # categories, forbidden ids


def load_part(part: str) -> list[dict]:
    path = DATA / f"scoring_eval_{part}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(rows: list[dict], predict: Callable[[str], Labels], categories: list[str]) -> dict:
    counts = {c: [0, 0, 0] for c in categories + ["categories (micro)", "forbidden (micro)"]}
    for row in rows:
        cats, forb = predict(row["text"])
        gold_c, gold_f = set(row["categories"]), set(row["forbidden"])
        for c in categories:
            _add(counts[c], c in cats, c in gold_c)
            _add(counts["categories (micro)"], c in cats, c in gold_c)
        for fid in forb | gold_f:
            _add(counts["forbidden (micro)"], fid in forb, fid in gold_f)
    return {k: prf(*v) for k, v in counts.items()}


def _add(cell: list[int], predicted: bool, gold: bool) -> None:
    if predicted and gold:
        cell[0] += 1
    elif predicted:
        cell[1] += 1
    elif gold:
        cell[2] += 1


def guide_phrases(scorer) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The concrete phrases a baseline would use: standard phrases and every plain variant, expanded."""

    def phrases(patterns) -> list[str]:
        return sorted({text for p in patterns for text in p.expansions()})

    cats = {c.category.id: phrases(c.patterns) for c in scorer._categories}
    forb = {f.forbidden.id: phrases(f.patterns) for f in scorer._forbidden}
    return cats, forb


def exact_baseline(scorer) -> Callable[[str], Labels]:
    from scoring.normalize import normalize

    cats, forb = guide_phrases(scorer)

    def predict(text: str) -> Labels:
        norm = normalize(text).text
        return (
            {c for c, phrases in cats.items() if any(p in norm for p in phrases)},
            {f for f, phrases in forb.items() if any(p in norm for p in phrases)},
        )

    return predict


def fuzzy_baseline(scorer, threshold: float) -> Callable[[str], Labels]:
    from rapidfuzz import fuzz

    from scoring.normalize import normalize

    cats, forb = guide_phrases(scorer)

    def predict(text: str) -> Labels:
        norm = normalize(text).text

        def hit(phrases: list[str]) -> bool:
            return any(fuzz.partial_ratio(p, norm, score_cutoff=threshold) for p in phrases if len(p) <= len(norm) + 2)

        return {c for c, ps in cats.items() if hit(ps)}, {f for f, ps in forb.items() if hit(ps)}

    return predict


def scorer_predict(scorer) -> Callable[[str], Labels]:
    def predict(text: str) -> Labels:
        a = scorer.analyze(text)
        return set(a.categories), {f.id for f in a.forbidden}

    return predict


def timing(predict: Callable[[str], Labels], texts: list[str], rounds: int = 5) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            predict(text)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def cold_load_s() -> float:
    code = (
        "import time; t = time.perf_counter(); from scoring.scorer import Scorer; Scorer.load(); "
        "print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--errors", action="store_true", help="list the scorer's mistakes on the tune part")
    parser.add_argument(
        "--tune-only", action="store_true", help="while tuning: leave the held-out part (and timings) out entirely"
    )
    args = parser.parse_args()
    parts = ("tune",) if args.tune_only else PARTS

    from scoring.scorer import Scorer

    scorer = Scorer.load()
    categories = list(scorer.guide.categories)
    rows = {part: load_part(part) for part in parts}

    ours = scorer_predict(scorer)
    exact = exact_baseline(scorer)
    best_t, best_f = 0.0, -1.0
    for t in (70, 75, 80, 85, 90, 95, 100):  # the baseline's threshold, fairly chosen on the tune part
        result = evaluate(rows["tune"], fuzzy_baseline(scorer, t), categories)
        f = result["categories (micro)"][2] + result["forbidden (micro)"][2]
        if f > best_f:
            best_t, best_f = t, f
    fuzzy = fuzzy_baseline(scorer, best_t)
    methods = {"scorer": ours, "exact": exact, f"rapidfuzz>={best_t:g}": fuzzy}
    results = {(m, part): evaluate(rows[part], fn, categories) for m, fn in methods.items() for part in parts}

    print("Evaluation set: " + ", ".join(f"{part} {len(rows[part])} lines" for part in parts) + "\n")
    header = "| label | " + " | ".join(f"{m} {part}" for m in methods for part in parts) + " |"
    print("F1 (precision / recall) per label:\n")
    print(header)
    print("|" + "---|" * (1 + len(methods) * len(parts)))
    for label in categories + ["categories (micro)", "forbidden (micro)"]:
        cells = []
        for m in methods:
            for part in parts:
                p, r, f = results[(m, part)][label]
                cells.append(f"{f:.2f} ({p:.2f}/{r:.2f})")
        name = f"**{label}**" if "micro" in label else label
        print(f"| {name} | " + " | ".join(cells) + " |")

    if args.tune_only:
        _print_errors(rows["tune"], ours) if args.errors else None
        return 0
    texts = [r["text"] for part in parts for r in rows[part]]
    print("\nSpeed (ms per reply, after load, one core):\n")
    print("| method | median | p95 |")
    print("|---|---|---|")
    for m, fn in methods.items():
        med, p95 = timing(fn, texts, rounds=5 if m == "scorer" else 1)
        print(f"| {m} | {med:.2f} | {p95:.2f} |")
    load = cold_load_s()
    start = time.perf_counter()
    Scorer.load()
    warm = time.perf_counter() - start
    print(
        f"\nGuide load: {load:.2f} s in a fresh process (imports, tables, compile); {warm:.2f} s to reload in-process."
    )

    if args.errors:
        _print_errors(rows["tune"], ours)
    return 0


def _print_errors(rows: list[dict], predict: Callable[[str], Labels]) -> None:
    print("\nScorer mistakes on the TUNE part (held-out mistakes are never shown):")
    for row in rows:
        cats, forb = predict(row["text"])
        gold_c, gold_f = set(row["categories"]), set(row["forbidden"])
        if cats != gold_c or forb != gold_f:
            extra = sorted((cats - gold_c) | (forb - gold_f))
            missing = sorted((gold_c - cats) | (gold_f - forb))
            print(f"  {row['id']} [{row['kind']}] {row['text']}  +{extra} -{missing}")


if __name__ == "__main__":
    sys.exit(main())
