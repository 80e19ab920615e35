"""The guide measured: the tune and dev parts of the evaluation set must stay above a threshold (so a guide
or scorer change that regresses fails CI), and the authors' own replies below must all come out right.

The held-out parts (tests/data/parts.json) are never used here: they are only for bench/scoring.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring.scorer import Scorer

DATA = Path(__file__).resolve().parent / "data"
PARTS = json.loads((DATA / "parts.json").read_text(encoding="utf-8"))
TUNE_F1_FLOOR = 0.97  # measured 1.00 on categories and forbidden when this test was written
DEV_F1_FLOOR = 0.97  # measured 0.99 / 0.99 after tuning on it (0.87 / 0.87 before)
DEV2_F1_FLOOR = 0.97  # measured 1.00 / 1.00 after tuning on it (0.86 / 0.97 before)
# Fourth round (guide and reply model): measured after / before tuning, categories / forbidden.
LATER_PARTS = [
    ("dev3", 240, 0.94),  # 0.96 / 0.98 after (0.87 / 0.82 before)
    ("dev4", 220, 0.96),  # 0.98 / 0.99 after (0.93 / 0.92 before)
    ("dev5", 240, 0.97),  # 0.99 / 1.00 after (0.94 / 0.92 before)
    ("dev6", 220, 0.95),  # 0.97 / 0.97 after (0.86 / 0.87 before)
    ("dev7", 220, 0.85),  # issue 10 (boundaries, own-words rudeness): categories 0.85 / forbidden 0.47 before
    ("dev8", 160, 0.85),  # issue 10, second batch: 0.80 / 0.70 before tuning on it
    ("dev9", 160, 0.85),  # issue 10, second batch: 0.86 / 0.71 before tuning on it
]

# Replies written by the scorer's author from how hotline agents talk (not taken from the evaluation set), labeled
# by the rules of tests/data/README.md: paraphrases, recognizer errors and traps the guide must handle. They live as
# data in tests/data/scoring_author_lines.jsonl (the reply model trains on them too).
AUTHOR_LINES = [
    json.loads(line) for line in (DATA / PARTS["author"]).read_text(encoding="utf-8").splitlines() if line.strip()
]


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer.default()


def _f1(rows: list[dict], scorer: Scorer) -> tuple[float, float]:
    counts = {"categories": [0, 0, 0], "forbidden": [0, 0, 0]}
    for row in rows:
        analysis = scorer.analyze(row["text"])
        for kind, predicted, gold in (
            ("categories", set(analysis.categories), set(row["categories"])),
            ("forbidden", {f.id for f in analysis.forbidden}, set(row["forbidden"])),
        ):
            counts[kind][0] += len(predicted & gold)
            counts[kind][1] += len(predicted - gold)
            counts[kind][2] += len(gold - predicted)
    return tuple(2 * tp / (2 * tp + fp + fn) for tp, fp, fn in counts.values())


@pytest.mark.parametrize(
    ("part", "lines", "floor"),
    [("tune", 262, TUNE_F1_FLOOR), ("dev", 298, DEV_F1_FLOOR), ("dev2", 205, DEV2_F1_FLOOR), *LATER_PARTS],
)
def test_tuning_part_meets_the_floor(scorer: Scorer, part: str, lines: int, floor: float) -> None:
    path = DATA / f"scoring_eval_{part}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == lines
    categories_f1, forbidden_f1 = _f1(rows, scorer)
    assert categories_f1 >= floor, f"category F1 on the {part} part fell to {categories_f1:.3f}"
    assert forbidden_f1 >= floor, f"forbidden-phrase F1 on the {part} part fell to {forbidden_f1:.3f}"


@pytest.mark.parametrize("row", AUTHOR_LINES, ids=[row["id"] for row in AUTHOR_LINES])
def test_author_lines(scorer: Scorer, row: dict) -> None:
    analysis = scorer.analyze(row["text"])
    got = (set(analysis.categories), {f.id for f in analysis.forbidden})
    want = (set(row["categories"]), set(row["forbidden"]))
    assert got == want, f"{row['text']}: got {got}, expected {want}"


def test_every_tuning_part_has_a_floor() -> None:
    floored = {"tune", "dev", "dev2"} | {part for part, _, _ in LATER_PARTS}
    assert floored == set(PARTS["tuning"])
