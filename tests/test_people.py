"""People, assignments, the audit trail and the learning path, through the CLI on both backends."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from conftest import ROOT, run_cli

from core.errors import NotFound, TrainerError, ValidationError
from simulator.curriculum import Curriculum, Stage, load_curriculum, standing
from simulator.history.store import HistoryStore
from simulator.people import assignment_state, parse_due, verify_password

REPLIES = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()


def ok(*argv: str, stdin: str | None = None):
    result = run_cli(*argv, "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def fails(*argv: str, stdin: str | None = None) -> str:
    result = run_cli(*argv, stdin=stdin)
    assert result.returncode == 1 and "Traceback" not in result.stderr, (result.stdout, result.stderr)
    return result.stderr


@pytest.fixture
def centre(db_url) -> str:
    """A mentor, a supervisor who may sign in, and two trainees of one group."""
    ok("users", "add", "李老师", "--role", "mentor", "--db", db_url)
    ok("users", "add", "张主任", "--role", "supervisor", "--password-stdin", "--db", db_url, stdin="correct horse 1\n")
    ok("users", "add", "小王", "--role", "trainee", "--mentor", "李老师", "--group", "2026春", "--db", db_url)
    ok("users", "add", "小李", "--role", "trainee", "--group", "2026春", "--db", db_url)
    return db_url


def test_users_are_unique_with_roles_and_hashed_passwords(centre):
    listed = {u["name"]: u for u in ok("users", "list", "--db", centre)}
    assert {n: (u["role"], u["has_password"]) for n, u in listed.items()} == {
        "李老师": ("mentor", False), "张主任": ("supervisor", True), "小王": ("trainee", False),
        "小李": ("trainee", False)}  # fmt: skip
    assert listed["小王"]["mentor"] == "李老师" and listed["小王"]["cohort"] == "2026春"
    assert "已有名为 小王 的用户" in fails("users", "add", "小王", "--role", "mentor", "--db", centre)
    assert "不是已登记的导师" in fails("users", "add", "小赵", "--role", "trainee", "--mentor", "小李", "--db", centre)
    assert "密码太短" in fails("users", "passwd", "小王", "--db", centre, stdin="short\n")
    with HistoryStore(centre) as store:
        stored = store.password_hash("张主任")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse 1") and not verify_password(stored, "correct horse 2")
    assert not verify_password(None, "anything at all")


def test_assignments_are_checked_before_anything_is_written(centre):
    assert "不是已登记的学员" in fails("assign", "wrong-courtroom", "--to", "小张", "--due", NEXT_WEEK, "--db", centre)
    assert "已经过去了" in fails("assign", "wrong-courtroom", "--to", "小王", "--due", "2020-01-01", "--db", centre)
    assert "是不是 wrong-courtroom" in fails(
        "assign", "wrong-courtrom", "--to", "小王", "--due", NEXT_WEEK, "--db", centre
    )
    assert "没有指定学员" in fails("assign", "wrong-courtroom", "--due", NEXT_WEEK, "--db", centre)
    assert "超出范围" in fails("assign", "wrong-courtroom", "--to", "小王", "--due", NEXT_WEEK, "--min-score", "120",
                              "--db", centre)  # fmt: skip
    assert ok("todo", "小王", "--db", centre) == []


def test_an_assignment_is_practised_done_and_shown_on_the_team(centre):
    made = ok("assign", "wrong-courtroom", "online-filing", "--group", "2026春", "--due", NEXT_WEEK, "--min-score", "80",
              "--by", "张主任", "--db", centre)  # fmt: skip
    assert sorted((a["trainee"], a["scenario_id"]) for a in made) == [
        ("小李", "online-filing"),
        ("小李", "wrong-courtroom"),
        ("小王", "online-filing"),
        ("小王", "wrong-courtroom"),
    ]
    mine = {a["scenario_id"]: a for a in ok("todo", "小王", "--db", centre)}
    assert {a["state"] for a in mine.values()} == {"open"}
    target = mine["wrong-courtroom"]["id"]
    call = ok("practice", "--assignment", str(target), "--replies", str(REPLIES), "--no-audio", "--db", centre)
    assert call["trainee"] == "小王" and call["scenario"] == "wrong-courtroom" and call["score"] >= 80
    mine = {a["scenario_id"]: a for a in ok("todo", "小王", "--db", centre)}
    assert mine["wrong-courtroom"]["state"] == "done" and mine["wrong-courtroom"]["attempts"] == 1
    assert mine["online-filing"]["state"] == "open"
    assert "布置给 小王" in fails("practice", "--assignment", str(target), "--trainee", "小李", "--db", centre)
    team = {r["trainee"]: r for r in ok("team", "--db", centre)}
    assert (team["小王"]["assigned"], team["小王"]["assignments_done"]) == (2, 1)
    assert (team["小李"]["calls"], team["小李"]["assigned"], team["小李"]["assignments_done"]) == (0, 2, 0)
    audit = ok("audit", "--db", centre)
    assigned = [e for e in audit if e["action"] == "assign"]
    assert len(assigned) == 4 and {e["actor"] for e in assigned} == {"张主任"}
    assert {e["subject"] for e in audit if e["action"] == "users.add"} == {"李老师", "张主任", "小王", "小李"}


def test_reviews_are_in_the_audit_trail(centre):
    call = ok(
        "practice", "wrong-courtroom", "--trainee", "小王", "--replies", str(REPLIES), "--no-audio", "--db", centre
    )
    ok("review", call["call_id"], "--turn", "1", "--score", "55", "--reason", "没问案号", "--mentor", "李老师",
       "--db", centre)  # fmt: skip
    (entry,) = [e for e in ok("audit", "--actor", "李老师", "--db", centre) if e["action"] == "review.override"]
    assert (
        entry["subject"] == call["call_id"] and entry["detail"]["to"] == 55 and entry["detail"]["reason"] == "没问案号"
    )


def test_assignment_states():
    today = date(2026, 12, 10)
    assert assignment_state("2026-12-10", None, today=today).key == "open"
    assert assignment_state("2026-12-09", None, today=today).key == "overdue"
    assert assignment_state("2026-12-09", "2026-12-08T09:00:00Z", today=today).key == "done"
    assert assignment_state("2026-12-01", "2026-12-08T09:00:00Z", today=today).key == "late"
    assert parse_due("2026-12-10", today=today) == "2026-12-10"
    with pytest.raises(TrainerError, match="已经过去了"):
        parse_due("2026-12-09", today=today)
    with pytest.raises(TrainerError, match="YYYY-MM-DD"):
        parse_due("12/10/2026", today=today)


# ---- the learning path -----------------------------------------------------------------------------

PATH = Curriculum("p", "路径", (Stage("w1", "第一周", 80, ("a", "b", "c")), Stage("w2", "第二周", 75, ("d",))))


def test_standing_is_the_first_stage_not_passed_and_next_follows_weaknesses():
    place = standing(PATH, {"a": 85, "b": 70}, weak_categories=["hold", "empathy"],
                     scenario_categories={"c": ("empathy",), "b": ("greeting",)})  # fmt: skip
    data = place.to_json()
    assert data["current_stage"] == "w1" and [s["passed"] for s in data["stages"]] == [1, 0]
    assert data["next"] == ["b", "c"]  # tried and below the mark first, then what exercises a weak category
    done = standing(PATH, {"a": 85, "b": 90, "c": 80, "d": 75}).to_json()
    assert done["finished"] and done["current_stage"] is None and done["next"] == []


def test_progress_places_a_new_trainee_on_the_path(centre):
    fresh = ok("progress", "小李", "--db", centre)
    assert fresh["calls"] == 0 and fresh["curriculum"]["current_stage"] == "week-1"
    first_stage = {s["id"] for s in fresh["curriculum"]["stages"][0]["scenarios"]}
    assert fresh["curriculum"]["next"] and set(fresh["curriculum"]["next"]) <= first_stage
    ok("practice", "wrong-courtroom", "--trainee", "小王", "--replies", str(REPLIES), "--no-audio", "--db", centre)
    placed = ok("progress", "小王", "--db", centre)["curriculum"]
    first = {s["id"]: s for s in placed["stages"][0]["scenarios"]}
    assert first["wrong-courtroom"]["passed"] and "wrong-courtroom" not in placed["next"]
    assert "没有学员" in fails("progress", "无名氏", "--db", centre)


def test_the_shipped_path_names_only_scenarios_of_the_library():
    known = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    path = load_curriculum("new-agent", known_scenarios=known)
    listed = [s for stage in path.stages for s in stage.scenarios]
    assert len(listed) == len(set(listed)) and set(listed) == known  # every scenario once


def test_a_broken_path_names_file_and_line(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nstages:\n  - id: w1\n    pass_score: 180\n    scenarios: [wrong-courtroom, nope]\n"
                      "    pass_scor: 70\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        load_curriculum(str(broken), known_scenarios={"wrong-courtroom"})
    text = str(caught.value)
    assert f"{broken}:4:" in text and "及格线" in text and f"{broken}:5:" in text and "'nope'" in text
    assert f"{broken}:6:" in text and "未知的键 'pass_scor'" in text and "pass_score" in text
    with pytest.raises(NotFound, match="new-agent"):
        load_curriculum("no-such-path")


def test_a_scenario_tried_below_the_stage_mark_is_never_called_untried(centre):
    """The scorer passed the call at 70; the path's first week wants 80: the advice says how far, not '还没练过'."""
    from test_history_store import new_call, play, turn

    with HistoryStore(centre) as store:
        play(store, new_call("小王", "wrong-courtroom"), [turn(0, score=70)], score=70, passed=True)
    progress = ok("progress", "小王", "--db", centre)
    assert "wrong-courtroom" in progress["curriculum"]["next"]
    (advice,) = [a for a in progress["practise_next"] if "wrong-courtroom" in a]
    assert advice == "再练场景 wrong-courtroom(最好 70 分, 本阶段要 80 分)"
