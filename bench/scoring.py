"""Benchmark the reply scorer on the labeled evaluation set, beside two baselines.

    .venv/bin/python bench/scoring.py                  # every part: tune, dev..dev6, heldout, heldout2, heldout3
    .venv/bin/python bench/scoring.py --tuning-only    # while tuning: the tuning parts only (no held-out number)
    .venv/bin/python bench/scoring.py --parts dev6     # one new batch, before tuning on it
    .venv/bin/python bench/scoring.py --errors         # also list the scorer's mistakes on the tuning parts

Parts (tests/data/scoring_eval_<part>.jsonl, labeled by the rules of tests/data/README.md):
- tune, dev, dev2 .. dev6: the guide is tuned and the reply model trained on these; their mistakes may be listed;
- heldout, heldout2, heldout3: never tuned or trained on; only aggregate numbers are printed, never a line or a
  mistake.

For each part: precision / recall / F1 per category and for forbidden phrases (micro over ids), then the
mistakes per ``kind`` of line (paraphrase, asr, negation, trap, ...), for:
- scorer:    scoring.scorer.Scorer (the guide, pinyin matching, guards, and the reply model's additions);
- guide only: the same without the reply model (scoring/reply_model.py);
- exact:     exact substring of the guide's phrases after the same normalisation (NFKC, Traditional->Simplified,
             你->您, no punctuation or fillers), no guards;
- rapidfuzz: rapidfuzz.fuzz.partial_ratio of the same phrases on the normalised characters, threshold picked on
             the tuning parts (the best micro F1), no guards.
Then the median and p95 milliseconds per reply (one core, after load) and the guide load time in a fresh process.
"""

from __future__ import annotations

import argparse
import itertools
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
_PARTS = json.loads((DATA / "parts.json").read_text(encoding="utf-8"))  # the one list of parts
TUNING_PARTS = tuple(_PARTS["tuning"])
HELDOUT_PARTS = tuple(_PARTS["heldout"])
# The key-point set (tests/data/KEYPOINTS.md): tests/data/keypoint_eval_<part>.jsonl
KP_TUNING_PARTS = tuple(_PARTS["keypoints"]["tuning"])
KP_HELDOUT_PARTS = tuple(_PARTS["keypoints"]["heldout"])
PARTS = TUNING_PARTS + HELDOUT_PARTS
KINDS = ("standard", "paraphrase", "asr", "negation", "trap", "none", "mixed")
FUZZY_THRESHOLDS = (70, 75, 80, 85, 90, 95, 100)
Labels = tuple[set[str], set[str]]  # categories, forbidden ids


def load_part(part: str) -> list[dict]:
    path = DATA / f"scoring_eval_{part}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(rows: list[dict], predictions: list[Labels], categories: list[str]) -> dict:
    counts = {c: [0, 0, 0] for c in categories + ["categories (micro)", "forbidden (micro)"]}
    for row, (cats, forb) in zip(rows, predictions, strict=True):
        gold_c, gold_f = set(row["categories"]), set(row["forbidden"])
        for c in categories:
            _add(counts[c], c in cats, c in gold_c)
            _add(counts["categories (micro)"], c in cats, c in gold_c)
        for fid in forb | gold_f:
            _add(counts["forbidden (micro)"], fid in forb, fid in gold_f)
    return {k: prf(*v) for k, v in counts.items()}


def kind_errors(rows: list[dict], predictions: list[Labels]) -> dict[str, tuple[int, int, int, int]]:
    """Per kind: lines, lines with any mistake, labels missed, labels added (aggregate counts only)."""
    out: dict[str, list[int]] = {}
    for row, (cats, forb) in zip(rows, predictions, strict=True):
        gold = set(row["categories"]) | {"!" + f for f in row["forbidden"]}
        got = cats | {"!" + f for f in forb}
        cell = out.setdefault(row["kind"], [0, 0, 0, 0])
        cell[0] += 1
        cell[1] += got != gold
        cell[2] += len(gold - got)
        cell[3] += len(got - gold)
    return {k: tuple(v) for k, v in out.items()}


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


def fuzzy_scores(scorer) -> Callable[[str], dict[str, float]]:
    """Best rapidfuzz partial_ratio per label (categories by id, forbidden as '!id'); thresholds are applied later."""
    from rapidfuzz import fuzz

    from scoring.normalize import normalize

    cats, forb = guide_phrases(scorer)
    labels = dict(cats) | {"!" + f: ps for f, ps in forb.items()}

    def scores(text: str) -> dict[str, float]:
        norm = normalize(text).text
        return {
            label: max((fuzz.partial_ratio(p, norm) for p in ps if len(p) <= len(norm) + 2), default=0.0)
            for label, ps in labels.items()
        }

    return scores


def fuzzy_labels(scores: dict[str, float], threshold: float) -> Labels:
    hit = {label for label, s in scores.items() if s >= threshold}
    return {h for h in hit if not h.startswith("!")}, {h[1:] for h in hit if h.startswith("!")}


def fuzzy_baseline(scorer, threshold: float) -> Callable[[str], Labels]:
    """The same baseline as one function, with the score cutoff (for timing: it may stop early)."""
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


# -- substance: key points, contradictions, must-not rules ----------------------------------------------------


def load_kp_part(part: str) -> list[dict]:
    path = DATA / f"keypoint_eval_{part}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


Substance = tuple[set[str], set[str], set[str]]  # points credited, points contradicted, must-not ids broken


def kp_scorer_predict(scorer, library: dict) -> Callable[[dict], Substance]:
    from simulator.session import judge_reply

    def predict(row: dict) -> Substance:
        analysis, _, _ = judge_reply(library[row["scenario"]], row["turn"], row["reply"], scorer, row.get("values"))
        return (
            {p.id for p in analysis.points},
            {c.point for c in analysis.contradictions},
            {m.id for m in analysis.must_not},
        )

    return predict


def kp_keyword_predict(library: dict) -> Callable[[dict], Substance]:
    """What a scenario author would otherwise write: each phrase of ``any`` (its alternatives spelled out) and the
    drawn value as plain substrings after normalising; another listed value of the variable, without the right
    one, is a contradiction; a must-not phrase found is a breach."""
    from scoring.matcher import SyntaxProblem, compile_phrase
    from scoring.normalize import normalize
    from simulator.session import TurnRules

    def spelled(phrase: str) -> list[list[str]]:
        try:
            pattern = compile_phrase(phrase)
        except SyntaxProblem:
            return [[normalize(phrase).text]]
        parts = [type(pattern)(pattern.source, (part,)).expansions(500) for part in pattern.parts]
        return [list(x) for x in itertools.islice(itertools.product(*parts), 500)]

    def found(phrases, text: str) -> bool:
        for phrase in phrases:
            for pieces in spelled(phrase):
                pos = 0
                for piece in pieces:
                    pos = text.find(piece, pos)
                    if pos < 0:
                        break
                    pos += len(piece)
                else:
                    return True
        return False

    def predict(row: dict) -> Substance:
        scenario = library[row["scenario"]]
        values = {**scenario.draw(0), **(row.get("values") or {})}
        rules = TurnRules.of(scenario, scenario.turns[row["turn"]], values)
        text = normalize(row["reply"]).text
        points, wrong, broken = set(), set(), set()
        for point in rules.points:
            right = bool(point.value) and normalize(point.value).text in text
            if point.value and not right and any(normalize(o).text in text for o in point.others):
                wrong.add(point.id)
            elif right or found(point.any, text):
                points.add(point.id)
        for rule in rules.must_not:
            if found(rule.any, text):
                broken.add(rule.id)
        return points, wrong, broken

    return predict


def kp_evaluate(rows: list[dict], predictions: list[Substance]) -> dict[str, tuple[float, float, float]]:
    counts = {"key points": [0, 0, 0], "contradictions": [0, 0, 0], "must_not": [0, 0, 0]}
    for row, (points, wrong, broken) in zip(rows, predictions, strict=True):
        gold_wrong = {c["point"] for c in row["contradictions"]}
        for name, got, gold in (
            ("key points", points, set(row["points"])),
            ("contradictions", wrong, gold_wrong),
            ("must_not", broken, set(row["must_not"])),
        ):
            for label in got | gold:
                _add(counts[name], label in got, label in gold)
    return {k: prf(*v) for k, v in counts.items()}


def keypoint_report(scorer, parts: tuple[str, ...], *, errors: bool) -> None:
    from simulator.library import load_library

    library = {s.id: s for s in load_library()}
    rows = {part: load_kp_part(part) for part in parts}
    methods = {"scorer": kp_scorer_predict(scorer, library), "keyword": kp_keyword_predict(library)}
    predictions = {(m, part): [fn(r) for r in rows[part]] for m, fn in methods.items() for part in parts}
    print("\n## Substance: key points, contradictions, must-not rules (tests/data/KEYPOINTS.md)\n")
    print("F1 (precision / recall); for contradictions the recall is the share of wrong facts caught.\n")
    print("| part | measure | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for part in parts:
        results = {m: kp_evaluate(rows[part], predictions[(m, part)]) for m in methods}
        tag = "held out" if part in KP_HELDOUT_PARTS else "tuning"
        for measure in ("key points", "contradictions", "must_not"):
            cells = []
            for m in methods:
                p, r, f = results[m][measure]
                cells.append(f"{f:.2f} ({p:.2f}/{r:.2f})")
            print(f"| kp {part} ({tag}, {len(rows[part])}) | {measure} | " + " | ".join(cells) + " |")
    if errors:
        for part in parts:
            if part in KP_HELDOUT_PARTS:
                continue
            print(f"\nScorer substance mistakes on kp {part} (held-out mistakes are never shown):")
            for row, (points, wrong, broken) in zip(rows[part], predictions[("scorer", part)], strict=True):
                gold = (set(row["points"]), {c["point"] for c in row["contradictions"]}, set(row["must_not"]))
                if (points, wrong, broken) != gold:
                    print(
                        f"  {row['id']} {row['scenario']}/{row['turn']} [{row['kind']}] {row['reply']}"
                        f"  points {sorted(points)} want {sorted(gold[0])}; wrong {sorted(wrong)}"
                        f" want {sorted(gold[1])}; must_not {sorted(broken)} want {sorted(gold[2])}"
                    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--errors", action="store_true", help="list the scorer's mistakes on the tuning parts (tune, dev, dev2)"
    )
    parser.add_argument(
        "--tuning-only",
        "--tune-only",
        action="store_true",
        help="while tuning: the tuning parts only; the held-out parts are not even loaded",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=TUNING_PARTS,
        metavar="PART",
        help=f"only these tuning parts ({', '.join(TUNING_PARTS)}), e.g. a new batch before it is tuned on",
    )
    parser.add_argument("--no-timing", action="store_true", help="skip the speed and load measurements")
    parser.add_argument(
        "--substance-only", action="store_true", help="only the key-point, contradiction and must-not table"
    )
    args = parser.parse_args()
    parts = tuple(args.parts) if args.parts else TUNING_PARTS if args.tuning_only else PARTS
    tuning_parts = [part for part in parts if part in TUNING_PARTS]

    from scoring.scorer import Scorer

    scorer = Scorer.load()
    kp_parts = KP_TUNING_PARTS if args.tuning_only or args.parts else KP_TUNING_PARTS + KP_HELDOUT_PARTS
    if args.substance_only:
        keypoint_report(scorer, kp_parts, errors=args.errors)
        return 0
    guide_alone = Scorer(scorer.guide)  # the same guide without the reply model
    categories = list(scorer.guide.categories)
    rows = {part: load_part(part) for part in parts}

    ours = scorer_predict(scorer)
    guide_only = scorer_predict(guide_alone)
    exact = exact_baseline(scorer)
    scores = fuzzy_scores(scorer)
    fuzzy_raw = {part: [scores(r["text"]) for r in rows[part]] for part in parts}
    best_t, best_f = 0.0, -1.0
    for t in FUZZY_THRESHOLDS:  # the baseline's threshold, fairly chosen on the tuning parts
        total = 0.0
        for part in tuning_parts:
            result = evaluate(rows[part], [fuzzy_labels(s, t) for s in fuzzy_raw[part]], categories)
            total += result["categories (micro)"][2] + result["forbidden (micro)"][2]
        if total > best_f:
            best_t, best_f = t, total
    fuzzy_name = f"rapidfuzz>={best_t:g}"
    predictions = {
        "scorer": {part: [ours(r["text"]) for r in rows[part]] for part in parts},
        "guide only": {part: [guide_only(r["text"]) for r in rows[part]] for part in parts},
        "exact": {part: [exact(r["text"]) for r in rows[part]] for part in parts},
        fuzzy_name: {part: [fuzzy_labels(s, best_t) for s in fuzzy_raw[part]] for part in parts},
    }
    methods = list(predictions)
    results = {(m, part): evaluate(rows[part], predictions[m][part], categories) for m in methods for part in parts}

    print("Evaluation set: " + ", ".join(f"{part} {len(rows[part])} lines" for part in parts))
    print(f"(tuned on: {', '.join(tuning_parts)}; never tuned on: {', '.join(p for p in parts if p in HELDOUT_PARTS)})")
    print(
        f"\nF1 (precision / recall) per label, part by part. rapidfuzz threshold {best_t:g} chosen on "
        + " + ".join(tuning_parts)
        + "."
    )
    for part in parts:
        print(f"\n### {part} ({len(rows[part])} lines)\n")
        print("| label | " + " | ".join(methods) + " |")
        print("|---|" + "---|" * len(methods))
        for label in categories + ["categories (micro)", "forbidden (micro)"]:
            cells = []
            for m in methods:
                p, r, f = results[(m, part)][label]
                cells.append(f"{f:.2f} ({p:.2f}/{r:.2f})")
            name = f"**{label}**" if "micro" in label else label
            print(f"| {name} | " + " | ".join(cells) + " |")

    print("\nSummary (micro F1, categories / forbidden):\n")
    print("| part | " + " | ".join(methods) + " |")
    print("|---|" + "---|" * len(methods))
    for part in parts:
        cells = [
            f"{results[(m, part)]['categories (micro)'][2]:.2f} / {results[(m, part)]['forbidden (micro)'][2]:.2f}"
            for m in methods
        ]
        print(f"| {part} | " + " | ".join(cells) + " |")
    heldout_parts = [part for part in parts if part in HELDOUT_PARTS]
    if len(heldout_parts) > 1:  # every held-out line counted once, as one unseen set
        pooled_rows = [r for part in heldout_parts for r in rows[part]]
        cells = []
        for m in methods:
            pooled = evaluate(pooled_rows, [p for part in heldout_parts for p in predictions[m][part]], categories)
            cells.append(f"{pooled['categories (micro)'][2]:.2f} / {pooled['forbidden (micro)'][2]:.2f}")
        print(f"| all held-out ({len(pooled_rows)} lines) | " + " | ".join(cells) + " |")

    print(
        "\nMistakes per kind: lines wrong / lines (labels missed, labels added) for the scorer, then lines wrong for "
        + ", ".join(methods[1:])
        + ":\n"
    )
    errors = {(m, part): kind_errors(rows[part], predictions[m][part]) for m in methods for part in parts}
    print("| kind | " + " | ".join(parts) + " |")
    print("|---|" + "---|" * len(parts))
    for kind in KINDS + ("all",):
        cells = []
        for part in parts:
            triple = []
            for m in methods:
                table = errors[(m, part)]
                cell = (
                    [sum(v[i] for v in table.values()) for i in range(4)]
                    if kind == "all"
                    else table.get(kind, (0,) * 4)
                )
                triple.append(f"{cell[1]}/{cell[0]} (-{cell[2]} +{cell[3]})" if m == "scorer" else f"{cell[1]}")
            cells.append(" \\| ".join(triple))
        print(f"| {kind} | " + " | ".join(cells) + " |")

    if not args.no_timing:
        texts = [r["text"] for part in parts for r in rows[part]]
        print("\nSpeed (ms per reply, after load, one core):\n")
        print("| method | median | p95 |")
        print("|---|---|---|")
        fns = {"scorer": ours, "guide only": guide_only, "exact": exact, fuzzy_name: fuzzy_baseline(scorer, best_t)}
        for m, fn in fns.items():
            med, p95 = timing(fn, texts, rounds=5 if m in ("scorer", "guide only") else 1)
            print(f"| {m} | {med:.2f} | {p95:.2f} |")
        load = cold_load_s()
        start = time.perf_counter()
        Scorer.load()
        warm = time.perf_counter() - start
        print(
            f"\nGuide load: {load:.2f} s in a fresh process (imports, tables, compile); "
            f"{warm:.2f} s to reload in-process."
        )

    keypoint_report(scorer, kp_parts, errors=args.errors)
    if args.errors:
        for part in tuning_parts:
            _print_errors(part, rows[part], predictions["scorer"][part])
    return 0


def _print_errors(part: str, rows: list[dict], predictions: list[Labels]) -> None:
    print(f"\nScorer mistakes on the {part.upper()} part (held-out mistakes are never shown):")
    for row, (cats, forb) in zip(rows, predictions, strict=True):
        gold_c, gold_f = set(row["categories"]), set(row["forbidden"])
        if cats != gold_c or forb != gold_f:
            extra = sorted((cats - gold_c) | (forb - gold_f))
            missing = sorted((gold_c - cats) | (gold_f - forb))
            print(f"  {row['id']} [{row['kind']}] {row['text']}  +{extra} -{missing}")


if __name__ == "__main__":
    sys.exit(main())
