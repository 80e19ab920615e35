"""The call scorecard: mean of judged turns, time rules, pass/fail, what to practise next."""

from __future__ import annotations

import pytest

from scoring.scorecard import FAILED_CALL_MAX, OVERTIME_DEDUCTION, SLOW_DEDUCTION, ScoredTurn, build_scorecard
from scoring.scorer import Scorer
from scoring.types import KeyPoint


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer.default()


def turn(scorer: Scorer, turn_id: str, reply: str, expect: list[str], response_s: float = 3.0, points=()) -> ScoredTurn:
    analysis = scorer.analyze(reply, expect, points)
    score = scorer.score_turn(analysis, expect, points) if analysis.judgeable else None
    return ScoredTurn(turn_id, reply, score, response_s, [p.id for p in points], {p.id: p.text for p in points})


def card(scorer: Scorer, turns, *, call_s: float = 60, time_limit_s: float = 180, completed: bool = True, **kw):
    return build_scorecard(
        turns, time_limit_s=time_limit_s, call_s=call_s, completed=completed, guide=scorer.guide, **kw
    )


def test_a_good_call_passes(scorer: Scorer) -> None:
    turns = [
        turn(scorer, "opening", "您好,请讲。请您报一下案号。", ["greeting", "ask_case_info"]),
        turn(scorer, "end", "不用谢,再见。", ["closing"]),
    ]
    data = card(scorer, turns).to_json()
    assert data["score"] == 100.0 and data["passed"] and data["completed"] and not data["over_time"]
    assert data["categories"] == {
        "greeting": {"expected": 1, "hit": 1},
        "ask_case_info": {"expected": 1, "hit": 1},
        "closing": {"expected": 1, "hit": 1},
    }
    assert data["turns"] == [
        {"turn": "opening", "score": 100.0, "response_s": 3.0},
        {"turn": "end", "score": 100.0, "response_s": 3.0},
    ]
    assert len(data["practise_next"]) == 3 and all(isinstance(p, str) and p for p in data["practise_next"])


def test_a_critical_forbidden_phrase_fails_the_call(scorer: Scorer) -> None:
    turns = [
        turn(scorer, "opening", "您好,请讲。", ["greeting"]),
        turn(scorer, "t2", "你听不懂吗?请问您是当事人本人吗?", ["verify_identity"]),
    ]
    sc = card(scorer, turns)
    data = sc.to_json()
    # the turns average 75, but a failed call scores at most FAILED_CALL_MAX, with the reason shown
    assert data["score"] == FAILED_CALL_MAX == 59.0 and not data["passed"] and data["critical"]
    assert {"delta": -16.0, "why": "不合格的通话总分最高计 59 分"} in data["reasons"]
    assert data["forbidden"] == [
        {
            "id": "cant_understand",
            "phrase": "你听不懂吗",
            "suggest": next(f.instead for f in scorer.guide.forbidden if f.id == "cant_understand"),
            "severity": "critical",
            "count": 1,
        }
    ]
    assert data["practise_next"][0].startswith("改掉禁语「你听不懂吗」")


def test_unjudged_turns_do_not_count(scorer: Scorer) -> None:
    turns = [
        turn(scorer, "opening", "", ["greeting"]),  # asked to repeat
        turn(scorer, "opening", "您好,请讲。", ["greeting"]),
    ]
    assert turns[0].score is None
    data = card(scorer, turns).to_json()
    assert data["score"] == 100.0 and data["categories"] == {"greeting": {"expected": 1, "hit": 1}}
    assert data["turns"][0]["score"] is None


def test_slow_answers_and_overtime_cost_a_little(scorer: Scorer) -> None:
    turns = [
        turn(scorer, "a", "您好,请讲。", ["greeting"], response_s=20),
        turn(scorer, "b", "不用谢。", ["closing"], response_s=16),
    ]
    data = card(scorer, turns, call_s=200, time_limit_s=180).to_json()
    assert data["slow_turns"] == ["a", "b"] and data["over_time"]
    assert data["score"] == 100 - 2 * SLOW_DEDUCTION - OVERTIME_DEDUCTION
    assert sum(r["delta"] for r in data["reasons"]) == pytest.approx(data["score"])
    assert any("超过时限" in p or "控制通话时长" in p for p in data["practise_next"])


def test_typed_practice_reports_slow_answers_without_cost(scorer: Scorer) -> None:
    turns = [turn(scorer, "a", "您好,请讲。", ["greeting"], response_s=40)]
    data = card(scorer, turns, slow_after_s=None).to_json()
    assert data["score"] == 100.0 and data["slow_turns"] == []


def test_incomplete_or_low_calls_do_not_pass(scorer: Scorer) -> None:
    good = [turn(scorer, "a", "您好,请讲。", ["greeting"])]
    assert not card(scorer, good, completed=False).passed
    low = [turn(scorer, "a", "好的。", ["greeting", "ask_case_info"])]
    sc = card(scorer, low)
    assert sc.score == 0.0 and not sc.passed
    assert not card(scorer, []).passed


def test_key_points_covered_and_missed(scorer: Scorer) -> None:
    case_no = KeyPoint("ask_case_no", "询问案号", ("案号",))
    judge = KeyPoint("ask_judge", "询问承办法官", ("法官…名字",))
    turns = [turn(scorer, "a", "请您报一下案号。", ["ask_case_info"], points=(case_no, judge))]
    data = card(scorer, turns).to_json()
    assert data["key_points"] == {"covered": ["ask_case_no"], "missed": ["ask_judge"]}
    assert any("询问承办法官" in p for p in data["practise_next"])


def test_practise_next_names_the_most_missed_category(scorer: Scorer) -> None:
    turns = [turn(scorer, t, "好的。", ["empathy"]) for t in ("a", "b")] + [turn(scorer, "c", "好的。", ["hold"])]
    first = card(scorer, turns).practise_next[0]
    assert first == f"练习「安抚与共情」:{scorer.guide.categories['empathy'].standard}"


def test_an_unfinished_call_puts_finishing_it_first():
    from scoring.scorecard import practise_next
    from scoring.scorer import Scorer

    items = practise_next({}, [], [], [], False, Scorer.default().guide, completed=False)
    assert items == ["把这通电话完整地接完:练习中途结束了,再练一遍"]  # not padded with "try a harder scenario"
    assert practise_next({}, [], [], [], False, Scorer.default().guide)[0] != items[0]
