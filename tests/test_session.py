"""Session engine logic with a keyword scorer and a fake clock (engines are exercised in test_practice.py)."""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from fakes import FakeClock, InterruptingListener, KeywordScorer, RecordingSink, TimedListener

from simulator.engines.base import Heard, Source
from simulator.record import NullSink
from simulator.session import LOW_CONFIDENCE, Session, SessionOptions, caller_lines, why_repeat
from simulator.validate import check_scenario_file

CATS = {"greeting", "ask_case_info", "verify_identity", "empathy", "hold", "commitment", "closing"}


def scenario():
    s, problems = check_scenario_file(FIXTURES / "valid-min.yaml", CATS)
    assert problems == []
    return s


def run(replies, *, clock=None, seconds=2.0, confidence=None, sink=None, **options):
    clock = clock or FakeClock()
    session = Session(
        scenario(),
        KeywordScorer(),
        TimedListener(replies, clock, seconds, confidence),
        sink=sink,
        options=SessionOptions(exam=True, seed=1, **options),
        clock=clock,
    )
    return session, session.run()


def path(call):
    return [(t.turn_id, t.next_turn) for t in call.turns if t.counted]


def test_good_replies_take_the_point_branch_and_complete():
    session, call = run(["您好, 请问案号是多少?", "不用谢"])
    assert path(call) == [("opening", "thanks"), ("thanks", "end")]
    assert call.status == "complete" and call.end_reason == "end"
    assert call.turns[0].points_hit == ["ask_case_no"]
    assert call.turns[0].score == 100.0
    assert call.scorecard["completed"] is True


def test_forbidden_phrase_takes_the_forbidden_branch_first():
    _, call = run(["您好, 不知道案号", "请您别着急"])
    assert path(call) == [("opening", "upset"), ("upset", "end")]
    assert call.turns[0].forbidden[0]["phrase"] == "不知道"


def test_missed_point_takes_the_fallback_branch():
    _, call = run(["您好", "请您别着急"])
    assert path(call)[0] == ("opening", "upset")


def test_caller_lines_are_filled_with_the_drawn_variables():
    _, call = run(["您好, 案号?", "不用谢"])
    assert call.variables["case_no"] in call.turns[0].caller_line
    assert "{" not in call.turns[0].caller_line


def test_replies_running_out_leave_an_incomplete_call_with_its_turns():
    sink = RecordingSink()
    _, call = run(["您好, 案号?"], sink=sink)
    assert call.status == "incomplete" and call.end_reason == "replies_exhausted"
    assert len(call.turns) == 1
    assert sink.events[0][0] == "started"
    assert sink.events[1] == ("turn", 0, "opening", 100.0, True)
    assert sink.events[-1] == ("ended", "incomplete", "replies_exhausted")


def test_ctrl_c_saves_the_call_as_incomplete():
    sink = RecordingSink()
    session = Session(
        scenario(),
        KeywordScorer(),
        InterruptingListener("您好, 案号?"),
        sink=sink,
        options=SessionOptions(exam=True, seed=1),
    )
    call = session.run()
    assert call.end_reason == "interrupted" and call.status == "incomplete"
    assert [e[0] for e in sink.events] == ["started", "turn", "ended"]


def test_time_limit_ends_the_call():
    # valid-min allows 60 s; the first reply takes 70 s of fake time, so the caller's next line never comes
    _, call = run(["您好", "请您别着急"], seconds=70.0)
    assert call.end_reason == "time_limit"
    assert call.status == "complete"
    assert [t.turn_id for t in call.turns] == ["opening"]
    assert call.call_s == 70.0
    assert call.scorecard["over_time"] is True


def test_response_time_is_measured_per_turn():
    _, call = run(["您好, 案号?", "不用谢"], seconds=3.5)
    assert [t.response_s for t in call.turns] == [3.5, 3.5]


def test_unjudgeable_reply_asks_to_repeat_without_a_score():
    _, call = run(["???", "您好, 案号?", "不用谢"])
    first = call.turns[0]
    assert first.asked_repeat and first.score is None and not first.counted
    assert path(call) == [("opening", "thanks"), ("thanks", "end")]
    assert call.scorecard["score"] == 100


def test_low_confidence_asks_to_repeat_then_scores_after_max_repeats():
    _, call = run(["您好", "您好", "您好", "您好, 案号?", "不用谢"], confidence=0.1)
    assert [t.asked_repeat for t in call.turns[:3]] == [True, True, True]
    assert call.turns[3].score is not None  # the 4th attempt is scored, not asked again forever


def test_a_trainee_who_hangs_up_before_the_end_leaves_an_incomplete_call_that_cannot_pass():
    clock = FakeClock()
    listener = TimedListener(["您好, 案号?", Heard("", "typed", hangup=True)], clock)
    session = Session(scenario(), KeywordScorer(), listener, options=SessionOptions(exam=True), clock=clock)
    call = session.run()
    assert call.end_reason == "hangup" and call.status == "incomplete"
    assert not session.scorecard.passed
    assert session.scorecard.practise_next == ["把这通电话完整地接完:练习中途结束了,再练一遍"]  # no "try harder ones"


class RetryOnceUI:
    """Mentor-mode UI that asks to retry the first scored reply and records what it was shown."""

    def __init__(self):
        self.feedback_scores = []
        self.retried = False

    def call_starts(self, scenario, call): ...
    def caller_says(self, name, text): ...
    def notice(self, text): ...
    def ask_repeat(self, reason): ...
    def call_ends(self, scenario, call, scorecard, hidden):
        self.hidden = hidden

    def feedback(self, turn, record, analysis, score):
        self.feedback_scores.append(score.score)

    def offer_retry(self):
        if not self.retried:
            self.retried = True
            return True
        return False

    def mentor_comment(self, mentor):
        return f"{mentor}: 语气再柔和些"


def test_mentor_mode_feedback_retry_and_comment():
    clock = FakeClock()
    ui = RetryOnceUI()
    sink = RecordingSink()
    listener = TimedListener(["喂", "您好, 请问案号?", "不用谢"], clock)
    session = Session(
        scenario(),
        KeywordScorer(),
        listener,
        ui=ui,
        sink=sink,
        options=SessionOptions(mentor="陈老师", seed=2),
        clock=clock,
    )
    call = session.run()
    assert ui.feedback_scores == [0.0, 100.0, 100.0]
    first, retry = call.turns[0], call.turns[1]
    assert not first.counted and retry.retry_of == 0 and retry.counted
    assert retry.comment == "陈老师: 语气再柔和些"
    assert ("turn", 0, "opening", 0.0, False) in sink.events  # the superseded attempt is saved, marked
    assert call.scorecard["score"] == 100  # the retry counts, the first attempt does not
    assert ui.hidden == [f"案号是{call.variables['case_no']}"]


def test_exam_mode_gives_no_feedback():
    clock = FakeClock()
    ui = RetryOnceUI()
    Session(
        scenario(),
        KeywordScorer(),
        TimedListener(["您好, 案号?", "不用谢"], clock),
        ui=ui,
        options=SessionOptions(exam=True),
        clock=clock,
    ).run()
    assert ui.feedback_scores == []


def test_caller_lines_cover_every_variable_value():
    lines = caller_lines(scenario())
    assert "您好, 我的案号是(2024)沪0105民初1号。" in lines
    assert "您好, 我的案号是(2024)沪0105民初2号。" in lines
    assert len(lines) == 4


def test_turn_ids_may_equal_end_reasons(tmp_path):
    text = (
        (FIXTURES / "valid-min.yaml")
        .read_text(encoding="utf-8")
        .replace("upset", "hangup")
        .replace("id: valid-min", "id: named")
    )
    (tmp_path / "named.yaml").write_text(text, encoding="utf-8")
    s, problems = check_scenario_file(tmp_path / "named.yaml", CATS)
    assert problems == []
    clock = FakeClock()
    call = Session(
        s, KeywordScorer(), TimedListener(["喂", "请您别着急"], clock), options=SessionOptions(exam=True), clock=clock
    ).run()
    assert [t.turn_id for t in call.turns] == ["opening", "hangup"]
    assert call.end_reason == "end"


def test_the_repeat_rule_is_the_sessions_and_spares_clear_replies():
    scorer = KeywordScorer()

    def why(heard):
        return why_repeat(heard, scorer.analyze(heard.text))

    assert why(Heard("您好", "typed")) == "" and why(Heard("您好", "voice", confidence=LOW_CONFIDENCE)) == ""
    assert why(Heard("???", "typed")) == "没有听清"  # the scorer's reason
    assert why(Heard("您好", "wav", confidence=LOW_CONFIDENCE - 0.01)) == "没有听清 (识别置信度低)"
    assert why_repeat(Heard("您好", "voice", confidence=0.3), scorer.analyze("您好"), min_confidence=0.2) == ""


def test_an_unsure_transcript_is_asked_again_only_where_the_doubt_could_change_the_score():
    from scoring.types import KeyPoint

    scorer = KeywordScorer()
    unsure = LOW_CONFIDENCE - 0.1
    point = KeyPoint("case_no", "问案号", ("案号",))

    def why(text, expect=("greeting",), points=()):
        heard = Heard(text, "voice", confidence=unsure)
        return why_repeat(heard, scorer.analyze(text, expect, points), expect=expect, points=points)

    assert why("您好") == ""  # everything asked of it is there: scored as heard, however unsure
    assert why("您好，请报一下案号", points=(point,)) == ""
    assert why("喂") == "没有听清 (识别置信度低)"  # the greeting may have been said and misheard
    assert why("您好", points=(point,)) == "没有听清 (识别置信度低)"  # so may the key point
    assert why("您好，不知道") == "没有听清 (识别置信度低)"  # a penalty a mishearing could have made up
    assert why_repeat(Heard("您好", "voice", confidence=unsure), scorer.analyze("您好")) != ""  # no turn: asked again


def test_reply_sources_are_the_stored_names_and_know_what_was_spoken():
    assert [s.value for s in Source] == [
        "typed",
        "scripted",
        "voice",
        "wav",
    ]  # stored in the history, printed by --json
    assert Heard("您好", "voice").spoken and Heard("您好", Source.WAV).spoken
    assert not Heard("您好", "typed").spoken and not Heard("您好", "scripted").spoken
    assert Heard("您好", "scripted").scripted and not Heard("您好", "wav").scripted
    with pytest.raises(ValueError):
        Heard("您好", "telepathy")


def test_without_a_sink_the_call_is_kept_in_memory_only():
    session, call = run(["您好, 案号?", "不用谢"], sink=None)
    assert call.status == "complete" and len(call.turns) == 2
    assert isinstance(session.sink, NullSink)
    assert all(type(t.source) is str for t in call.turns)  # plain strings in the record, as the store expects


def test_scripted_replies_are_filled_with_drawn_values():
    clock = FakeClock()
    session = Session(
        scenario(),
        KeywordScorer(),
        TimedListener(["您好, 案号是{case_no}吗?", "不用谢"], clock),
        options=SessionOptions(exam=True, seed=4),
        clock=clock,
    )
    call = session.run()
    assert call.turns[0].reply == f"您好, 案号是{call.variables['case_no']}吗?"


def test_speech_summary_covers_spoken_turns_only():
    from simulator.record import TurnRecord
    from simulator.ui import speech_summary

    typed = TurnRecord(0, "a", "", "您好", "typed", 1.0)
    spoken = [
        TurnRecord(
            1,
            "b",
            "",
            "您好",
            "voice",
            1.0,
            speech={"chars_per_min": 100.0, "silence_before_s": 0.5, "longest_pause_s": 1.0},
        ),
        TurnRecord(
            2,
            "c",
            "",
            "您好",
            "voice",
            1.0,
            speech={"chars_per_min": 140.0, "silence_before_s": 2.5, "longest_pause_s": 0.2},
        ),
    ]
    assert speech_summary([typed]) == ""
    assert (
        speech_summary([typed, *spoken])
        == "说话: 平均语速 120 字/分 (建议约 200), 开口前最长停顿 2.5 秒, 句中最长停顿 1.0 秒"
    )


@pytest.mark.parametrize(
    ("condition", "must_not", "contradictions", "holds"),
    [
        ({"must_not": True}, ["promise"], [], True),
        ({"must_not": True}, [], [], False),
        ({"must_not": False}, [], [], True),
        ({"contradiction": True}, [], ["room"], True),
        ({"contradiction": True}, ["promise"], [], False),
        ({"contradiction": False, "must_not": True}, ["promise"], [], True),
    ],
)
def test_branches_can_react_to_must_not_breaches_and_wrong_facts(condition, must_not, contradictions, holds):
    from scoring.types import Contradiction, MustNotUse, ReplyAnalysis, TurnScore
    from simulator.scenario import Condition
    from simulator.session import condition_holds

    analysis = ReplyAnalysis(
        "回答",
        must_not=[MustNotUse(r, "承诺结果", (0, 2), "以法院为准", "critical") for r in must_not],
        contradictions=[Contradiction(p, "第十一法庭", "第十二法庭", (0, 2)) for p in contradictions],
    )
    assert condition_holds(Condition(**condition), analysis, TurnScore(score=50.0)) is holds


class SlowMentorUI:
    """Mentor mode where each comment takes three minutes and every retry prompt is recorded."""

    def __init__(self, clock):
        self.clock = clock
        self.retry_asked = 0

    def call_starts(self, scenario, call): ...
    def caller_says(self, name, text): ...
    def notice(self, text): ...
    def ask_repeat(self, reason): ...
    def feedback(self, turn, record, analysis, score): ...
    def call_ends(self, scenario, call, scorecard, hidden): ...

    def mentor_comment(self, mentor):
        self.clock.now += 180.0
        return "语气再柔和一点"

    def offer_retry(self):
        self.retry_asked += 1
        return False


def test_mentor_time_is_not_call_time_and_a_good_reply_is_not_offered_a_retry():
    clock = FakeClock()
    ui = SlowMentorUI(clock)
    listener = TimedListener(["您好, 请问案号是多少?", "不用谢"], clock, seconds=5.0)
    options = SessionOptions(mentor="陈老师", seed=1)
    session = Session(scenario(), KeywordScorer(), listener, ui=ui, options=options, clock=clock)
    call = session.run()
    assert call.status == "complete" and call.end_reason == "end"  # 2 x 180 s of comments hit no time limit
    assert call.call_s == 10.0  # the two replies, not the mentor's six minutes
    assert ui.retry_asked == 0  # both replies scored 100: no retry prompt to skip
    assert [t.comment for t in call.turns] == ["语气再柔和一点", "语气再柔和一点"]


def test_the_scorecard_panel_rounds_as_history_does_and_always_gives_its_reasons():
    import io

    from rich.console import Console

    from core.text import fmt_score
    from simulator.record import CallRecord
    from simulator.ui import scorecard_panel

    card = {
        "score": 77.8,
        "passed": True,
        "reasons": [{"delta": 79.8, "why": "3 轮已评分回复的平均分"}, {"delta": -2.0, "why": "1 轮应答超过 15 秒"}],
    }
    call = CallRecord("c1", "小王", "wrong-courtroom", "h", scenario_title="律师走错了开庭地点", end_reason="end")
    out = io.StringIO()
    Console(file=out, width=80, highlight=False).print(scorecard_panel(card, call, []))
    text = out.getvalue()
    assert "总分 77.8" in text and fmt_score(77.8) == "77.8" and fmt_score(78.0) == "78"
    assert "得分说明:" in text and "3 轮已评分回复的平均分: 79.8" in text and "1 轮应答超过 15 秒 (-2)" in text
