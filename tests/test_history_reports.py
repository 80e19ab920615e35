"""History, progress and team values on a small database whose numbers are worked out by hand."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console
from test_history_store import NO_IDEA, new_call, play, turn

from core.errors import NotFound, TrainerError
from simulator.history import reports
from simulator.history.pseudonyms import Pseudonymizer
from simulator.history.store import HistoryStore
from simulator.history.terminal import render_call, render_progress, render_team, sparkline
from simulator.record import INCOMPLETE, INTERRUPTED

RUDE = {"id": "kuai-dian", "phrase": "快点说", "span": [0, 3], "suggest": "请您慢慢讲", "severity": "minor"}


@pytest.fixture
def store(db_url):
    """王小明: 3 complete calls (50, 70, 90) and one cut off; 李华: 2 complete calls (80 passed, 60)."""
    with HistoryStore(db_url) as s:
        play(
            s,
            new_call("王小明", "wrong-courtroom", "2026-10-01T09:00:00Z", mentor="李老师"),
            [
                turn(0, expected=("greeting", "empathy"), missed=("empathy",), score=50),
                turn(1, expected=("commitment",), forbidden=[NO_IDEA], score=50),
            ],
            score=50,
            passed=False,
        )
        play(
            s,
            new_call("王小明", "wrong-courtroom", "2026-10-08T09:00:00Z"),
            [turn(0, expected=("greeting", "empathy"), missed=("empathy",), score=70)],
            score=70,
            passed=False,
        )
        play(
            s,
            new_call("王小明", "online-filing", "2026-10-15T09:00:00Z"),
            [turn(0, expected=("greeting", "empathy"), score=90)],
            score=90,
            passed=True,
        )
        play(
            s,
            new_call("王小明", "wrong-courtroom", "2026-10-22T09:00:00Z"),
            [turn(0, expected=("empathy",), missed=("empathy",), forbidden=[RUDE], score=40)],
            status=INCOMPLETE,
            reason=INTERRUPTED,
        )
        play(
            s,
            new_call("李华", "online-filing", "2026-10-02T09:00:00Z"),
            [turn(0, expected=("greeting", "hold"), missed=("hold",), score=80)],
            score=80,
            passed=True,
        )
        play(s, new_call("李华", "judge-no-answer", "2026-10-03T09:00:00Z"),
             [turn(0, expected=("hold",), missed=("hold",), score=60),
              turn(1, expected=("hold",), missed=("hold",), score=60),
              turn(2, expected=("hold", "closing"), score=60)], score=60, passed=False)  # fmt: skip
        yield s


def test_progress_values(store):
    library = {"wrong-courtroom": "律师走错了开庭地点", "online-filing": "网上立案", "judge-no-answer": "联系法官"}
    p = reports.progress(store, "王小明", library=library)
    assert (p.calls, p.complete, p.incomplete, p.in_progress, p.passed) == (4, 3, 1, 0, 1)
    assert (p.pass_rate, p.latest, p.best, p.trend) == (0.333, 90, 90, 20)  # trend: 90 - 70
    assert [(pt.scenario_id, pt.score) for pt in p.points] == [("wrong-courtroom", 50), ("wrong-courtroom", 70),
                                                               ("online-filing", 90)]  # fmt: skip
    assert [(c.category, c.expected, c.missed, c.rate) for c in p.categories] == [
        ("empathy", 4, 3, 0.75),
        ("commitment", 1, 0, 0.0),
        ("greeting", 3, 0, 0.0),
    ]
    # the cut-off call's forbidden phrase counts as still used, as does the first call's (both within the last 10)
    assert [(f.phrase, f.uses, f.recent_uses) for f in p.forbidden_still_used] == [("不知道", 1, 1), ("快点说", 1, 1)]
    assert [(s.scenario_id, s.attempts, s.complete, s.best) for s in p.scenarios_not_passed] == [
        ("wrong-courtroom", 3, 2, 70),
        ("judge-no-answer", 0, 0, None),  # never tried
    ]
    assert p.practise_next == [
        "改掉服务禁语「不知道」(最近 10 通里用了 1 次), 改说「我帮您查询一下」",
        f"练习「{reports.category_title('empathy')}」: 最近漏掉 75%"
        + (f", 标准用语「{reports.category_standard('empathy')}」" if reports.category_standard("empathy") else ""),
        "再练场景 wrong-courtroom(最好 70 分, 未通过)",
    ]
    assert [w["week"] for w in p.weekly] == ["2026-09-28", "2026-10-05", "2026-10-12"]


def test_progress_of_unknown_trainee(store):
    with pytest.raises(NotFound, match="没有学员 '张三' 的通话记录 - 用 team 查看学员名单"):
        reports.progress(store, "张三")


def test_progress_counts_overrides_and_keeps_originals(store):
    (first,) = store.list_calls(trainee="王小明", since="2026-10-01", until="2026-10-02")
    store.add_override(first.call_id, 0, 100, "其实已安抚")
    p = reports.progress(store, "王小明")
    point = p.points[0]
    assert (point.score, point.original_score, point.reviewed) == (75, 50, True)  # 50 + (100 - 50) / 2


def test_team_values_and_sorting(store):
    rows = reports.team(store)
    assert [
        (r.trainee, r.calls, r.complete, r.latest, r.best, r.trend, r.pass_rate, r.weakest, r.weakest_rate)
        for r in rows
    ] == [  # fmt: skip
        ("李华", 2, 2, 60, 80, -20, 0.5, "hold", 0.75),
        ("王小明", 4, 3, 90, 90, 20, 0.333, "empathy", 0.75),
    ]
    assert [r.trainee for r in reports.team(store, "best")] == ["王小明", "李华"]
    assert [r.trainee for r in reports.team(store, "trend", reverse=True)] == ["李华", "王小明"]
    assert [r.trainee for r in reports.team(store, "calls")] == ["王小明", "李华"]
    with pytest.raises(TrainerError, match="不能按 'age' 排序"):
        reports.team(store, "age")


def test_history_rows_show_both_scores(store):
    (first,) = store.list_calls(trainee="李华", scenario="online-filing")
    store.add_override(first.call_id, 0, 95, "hold 是误判")
    (row,) = reports.history_rows(store, reports.pseudonymizer(store, False), trainee="李华", scenario="online-filing")
    assert (row["score"], row["reviewed_score"], row["effective_score"]) == (80, 95, 95)


def test_call_detail_has_every_turn_review_and_comment(store):
    (call,) = store.list_calls(trainee="王小明", since="2026-10-01", until="2026-10-02")
    store.add_override(call.call_id, 1, 90, "不知道是在说自己的情况", mentor="李老师")
    store.add_comment(call.call_id, "整体不错", mentor="李老师")
    detail = reports.call_detail(store, call.call_id[:6], reports.pseudonymizer(store, False))
    assert [(t["n"], t["original_score"], t["override_score"], t["effective_score"]) for t in detail["turns"]] == [
        (1, 50, None, 50),
        (2, 50, 90, 90),
    ]
    assert detail["turns"][1]["reviews"][0]["reason"] == "不知道是在说自己的情况"
    assert [r["text"] for r in detail["call_reviews"]] == ["整体不错"]
    assert (detail["score"], detail["reviewed_score"]) == (50, 70)


def test_trend_delta():
    assert reports.trend_delta([]) is None
    assert reports.trend_delta([80]) is None
    assert reports.trend_delta([60, 80]) == 20
    assert reports.trend_delta([0] * 5 + [50, 50, 50, 50, 50, 60, 60, 60, 60, 60]) == 10  # the last 10 only


def test_pseudonyms_are_stable_and_distinct():
    secret = bytes(range(32))
    names = [f"学员{i}" for i in range(2000)]
    a = Pseudonymizer(secret, names, ["李老师"])
    b = Pseudonymizer(secret, reversed(names), ["李老师"])
    assert a.name("学员7") == b.name("学员7")
    assert a.name("学员7").startswith("学员-") and len(a.name("学员7")) in (7, 11)
    assert len({a.name(n) for n in names}) == len(names)  # collisions of the short form get the long form
    assert 0 < sum(len(a.name(n)) == 11 for n in names) < 200  # 2,000 names share some of 65,536 short forms
    assert a.name("李老师", "导师").startswith("导师-")
    assert Pseudonymizer(bytes(32), names).name("学员7") != a.name("学员7")  # another database, another secret
    assert a.scrub("李老师说学员7和学员70都进步了") == (
        f"{a.name('李老师', '导师')}说{a.name('学员7')}和{a.name('学员70')}都进步了"
    )


def test_anonymized_team_and_progress(store):
    names = reports.pseudonymizer(store, True)
    rows = reports.team(store, names=names)
    assert all(r.trainee.startswith("学员-") for r in rows)
    assert {r.trainee for r in rows} == {names.name("王小明"), names.name("李华")}
    assert reports.progress(store, "王小明", names).trainee == names.name("王小明")
    again = reports.pseudonymizer(store, True)
    assert again.name("王小明") == names.name("王小明")


# ---- terminal views ------------------------------------------------------------------------------


def rendered(fn, *args, width: int = 100) -> str:
    out = io.StringIO()
    fn(*args, Console(file=out, width=width, color_system=None, highlight=False))
    return out.getvalue()


def test_progress_view(store):
    text = rendered(render_progress, reports.progress(store, "王小明"))
    assert "王小明 的练习进度" in text
    assert "通话 4 通: 完成 3, 未完成 1" in text
    assert "通过率 33%  最新 90  最好 90  趋势 ↑+20" in text
    assert "  " + sparkline([50, 70, 90]) in text and sparkline([50, 70, 90]) == "▅▆█"
    assert "接下来练什么:" in text and "1. 改掉服务禁语「不知道」" in text


def test_team_view(store):
    text = rendered(lambda stats, console: render_team(stats, console, "name"), reports.team(store))
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0].startswith("团队成绩(2 位学员, 按姓名排序)")
    (li,) = [line for line in lines if line.startswith(" 李华")]
    assert li.split()[:6] == ["李华", "2", "60", "80", "↓-20", "50%"]


def test_call_view_shows_original_and_override(store):
    (call,) = store.list_calls(trainee="李华", scenario="online-filing")
    store.add_override(call.call_id, 0, 95, "[bold]hold 是误判[/bold]")
    text = rendered(render_call, reports.call_detail(store, call.call_id, reports.pseudonymizer(store, False)))
    assert "得分 80→95" in text
    assert "改分 80 → 95  理由: [bold]hold 是误判[/bold]" in text  # user text is not rich markup
    assert "总分 80→" in text


def test_sparkline_is_one_character_per_score():
    rng = random.Random(1)
    scores = [rng.uniform(0, 100) for _ in range(100)]
    line = sparkline(scores, width=60)
    assert len(line) == 60 and sparkline([0, 100]) == "▁█"


def test_a_trainee_who_misses_nothing_has_no_weakest_category(db_url):
    from simulator.history.reports import team

    with HistoryStore(db_url) as s:
        for i in range(3):
            play(s, new_call("满分", started_at=f"2026-11-0{i + 1}T09:00:00Z"),
                 [turn(0, expected=("greeting", "empathy"), score=100)], score=100, passed=True)  # fmt: skip
        (row,) = team(s)
    assert (row.weakest, row.weakest_rate) == ("", None)


def test_a_chart_worth_of_points_keeps_the_totals_of_every_call(store):
    p = reports.progress(store, "王小明", points_last=2)
    assert [pt.score for pt in p.points] == [70, 90]  # the latest two complete calls
    assert (p.calls, p.complete, p.incomplete, p.passed, p.best, p.latest, p.trend) == (4, 3, 1, 1, 90, 90, 20)


def test_weeks_start_on_monday_and_average_the_effective_scores(db_url):
    with HistoryStore(db_url) as s:
        for started, score in (
            ("2026-11-01T23:30:00Z", 40),
            ("2026-11-02T00:10:00Z", 60),
            ("2026-11-08T12:00:00Z", 90),
        ):
            play(s, new_call("周一", "online-filing", started), [turn(0, score=score)], score=score, passed=score >= 60)
        (sunday,) = s.list_calls(trainee="周一", until="2026-11-02")
        s.add_override(sunday.call_id, 0, 100, "其实很好")  # 40 -> 100: the week uses the mentor's score
        weeks = [(w.week, w.calls, w.mean, w.best) for w in s.weekly_scores("周一")]
    # 2026-11-01 is a Sunday (week of 10-26); Monday 11-02 and Sunday 11-08 share the week of 11-02
    assert weeks == [("2026-10-26", 1, 100.0, 100.0), ("2026-11-02", 2, 75.0, 90.0)]


def test_team_reads_each_trainees_latest_calls_in_one_statement_even_with_ties(db_url):
    """Calls saved in the same second (scripted runs) keep their order; the cut-off never drops or adds a call."""
    rng = random.Random(5)
    with HistoryStore(db_url) as s:
        for trainee, calls in (("甲", 30), ("乙", 3), ("丙", 25)):
            for i in range(calls):
                score = rng.randrange(30, 100)
                second = f"{10 + i // 4:02d}"  # four calls a second: ties at any cut-off
                play(s, new_call(trainee, "online-filing", f"2026-11-02T09:00:{second}Z"), [turn(0, score=score)],
                     score=score, passed=score >= 60)  # fmt: skip
        latest = s.latest_scored_calls(2 * reports.RECENT_CALLS)
        expected = {t: s.scored_calls(t, last=2 * reports.RECENT_CALLS) for t in ("甲", "乙", "丙")}
    assert {t: [c.call_id for c in calls] for t, calls in latest.items()} == {
        t: [c.call_id for c in calls] for t, calls in expected.items()
    }
    assert [len(latest[t]) for t in ("甲", "乙", "丙")] == [20, 3, 20]
