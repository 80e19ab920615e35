"""Invariants of the scorer, over generated input: it never crashes, scores stay in 0..100, spans stay
inside the reply, and every guide category's own standard phrase (and each plain variant) hits it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.scorer import Scorer
from scoring.types import KeyPoint

SCORER = Scorer.default()
CATEGORIES = sorted(SCORER.guide.categories)
# Characters the scorer has to live with: hotline words, punctuation, digits, fillers, Traditional
# forms, look-alikes, and anything else Unicode has.
HOTLINE = list(
    "您你好请讲案号法官当事人本人稍等不知道清楚归我们管急什么说过听懂领导下班规定再见谢嗯那个，。？！…、 0123456789幺十百千萬請講號"
)
text_strategy = st.one_of(
    st.text(alphabet=st.sampled_from(HOTLINE), max_size=60),
    st.text(max_size=40),
    st.lists(
        st.sampled_from(["您好", "请讲", "不知道", "稍等", "不是", "没法", "案号", "，", "你", "12368"]), max_size=12
    ).map("".join),
)
expect_strategy = st.lists(st.sampled_from(CATEGORIES + ["unknown_category"]), max_size=4)
points_strategy = st.lists(
    st.builds(
        KeyPoint,
        id=st.sampled_from(["a", "b", "c"]),
        text=st.just("要点"),
        any=st.lists(
            st.one_of(text_strategy, st.sampled_from(["案号", "法官…名字", "(2022)沪0105民初1234号", "(|)", "…"])),
            max_size=3,
        ).map(tuple),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy, expect=expect_strategy, key_points=points_strategy)
def test_never_crashes_and_stays_in_range(text: str, expect: list[str], key_points: list[KeyPoint]) -> None:
    analysis = SCORER.analyze(text, expect, key_points)
    turn = SCORER.score_turn(analysis, expect, key_points)
    assert 0.0 <= turn.score <= 100.0
    assert set(turn.hit) | set(turn.missed) == set(expect)
    for start, end in (
        [m.span for m in analysis.matches] + [f.span for f in analysis.forbidden] + [p.span for p in analysis.points]
    ):
        assert 0 <= start < end <= len(text)
    if not expect and not key_points and not analysis.forbidden:
        assert turn.score == 100.0
    assert analysis.to_json()["categories"] == analysis.categories


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(["", "嗯,", "好的。", "那个"]), category=st.sampled_from(CATEGORIES))
def test_standard_phrase_hits_its_own_category(prefix: str, category: str) -> None:
    standard = SCORER.guide.categories[category].standard
    analysis = SCORER.analyze(prefix + standard, [category])
    assert category in analysis.categories
    assert SCORER.score_turn(analysis, [category]).score == 100.0


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_plain_variant_hits_its_own_category(category: str) -> None:
    """Each concrete phrase of each one-part variant, said alone, counts for its category."""
    compiled = next(c for c in SCORER._categories if c.category.id == category)
    missed = [
        text
        for pattern in compiled.patterns
        for text in pattern.expansions(limit=200)
        if category not in SCORER.analyze(text).categories
    ]
    assert missed == []


@pytest.mark.parametrize("fid", [f.id for f in SCORER.guide.forbidden])
def test_every_forbidden_phrase_is_caught_alone(fid: str) -> None:
    compiled = next(c for c in SCORER._forbidden if c.forbidden.id == fid)
    missed = [
        text
        for pattern in compiled.patterns
        for text in pattern.expansions(limit=200)
        if fid not in {f.id for f in SCORER.analyze(text).forbidden}
    ]
    assert missed == []
