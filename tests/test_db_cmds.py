"""The store commands on both backends: db migrate, db info, and db import of a laptop's SQLite history."""

from __future__ import annotations

import hashlib
import json

from conftest import run_cli
from test_history_store import NO_IDEA, new_call, play, turn

from simulator.history.schema import LATEST_VERSION
from simulator.history.store import HistoryStore
from simulator.record import INCOMPLETE, INTERRUPTED


def run_json(*argv: str):
    result = run_cli(*argv, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_migrate_creates_the_tables_once(db_url):
    assert run_json("db", "migrate", "--db", db_url)["applied"] == list(range(1, LATEST_VERSION + 1))
    again = run_json("db", "migrate", "--db", db_url)
    assert again["applied"] == [] and again["version"] == LATEST_VERSION
    assert run_json("db", "info", "--db", db_url)["calls"] == 0


def laptop(path) -> str:
    """A trainee's offline history: a complete call reviewed by a mentor, and a call still in progress."""
    with HistoryStore(path) as s:
        play(s, new_call("小王", "wrong-courtroom", "2026-11-02T09:00:00Z", call_id="1aa000000001", mentor="李老师"),
             [turn(0, expected=("greeting", "empathy"), missed=("empathy",), score=50),
              turn(1, forbidden=[NO_IDEA], score=70)], score=60, passed=False)  # fmt: skip
        s.add_override("1aa000000001", 0, 80, "录音里其实安抚了", mentor="李老师")
        s.add_comment("1aa000000001", "开场不错", mentor="李老师")
        play(s, new_call("小王", "online-filing", "2026-11-03T09:00:00Z", call_id="1aa000000002"),
             [turn(0, score=90)], end=False)  # fmt: skip
    return str(path)


def fingerprint(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_import_adds_everything_once_and_keeps_reviews(db_url, tmp_path):
    source = laptop(tmp_path / "laptop.db")
    before = fingerprint(source)
    first = run_json("db", "import", source, "--db", db_url)
    assert (first["calls_added"], first["turns_added"], first["reviews_added"]) == (2, 3, 2)
    again = run_json("db", "import", source, "--db", db_url)
    assert (again["calls_added"], again["turns_added"], again["reviews_added"], again["calls_unchanged"]) == (
        0,
        0,
        0,
        2,
    )
    assert fingerprint(source) == before  # read through a copy: the trainee's file is untouched
    imports = [e for e in run_json("audit", "--db", db_url) if e["action"] == "db.import"]
    assert [e["detail"]["calls_added"] for e in imports] == [0, 2]  # newest first: the second import added nothing
    assert {e["subject"] for e in imports} == {source}

    shown = run_json("history", "show", "1aa000000001", "--db", db_url)
    assert shown["score"] == 60 and shown["reviewed_score"] == 75  # the original kept; +30 on one of two turns
    (override,) = shown["turns"][0]["reviews"]
    assert (override["original_score"], override["new_score"], override["reason"]) == (50, 80, "录音里其实安抚了")
    assert shown["turns"][0]["effective_score"] == 80
    assert [r["text"] for r in shown["call_reviews"]] == ["开场不错"]
    progress = run_json("progress", "小王", "--db", db_url)
    assert progress["calls"] == 2
    with HistoryStore(db_url) as centre, HistoryStore(source) as own:
        assert centre.category_totals("小王") == own.category_totals("小王")
        assert centre.forbidden_totals("小王") == own.forbidden_totals("小王")


def test_a_call_finished_after_an_import_is_completed_by_the_next(db_url, tmp_path):
    source = laptop(tmp_path / "laptop.db")
    run_json("db", "import", source, "--db", db_url)
    with HistoryStore(source) as s:  # the trainee goes on practising offline
        call = s.get_call("1aa000000002")
        call.turns.append(turn(1, score=40))
        s.turn_scored(call, call.turns[-1])
        call.status, call.end_reason = INCOMPLETE, INTERRUPTED
        s.call_ended(call)
        s.add_comment("1aa000000002", "第二轮太急", mentor="李老师", turn_index=1)
    later = run_json("db", "import", source, "--db", db_url)
    assert (later["calls_updated"], later["turns_added"], later["reviews_added"]) == (1, 1, 1)
    shown = run_json("history", "show", "1aa000000002", "--db", db_url)
    assert shown["status"] == "incomplete" and len(shown["turns"]) == 2


def test_import_refuses_what_it_cannot_read(tmp_path):
    source = laptop(tmp_path / "laptop.db")
    same = run_cli("db", "import", source, "--db", source)
    assert same.returncode == 1 and "就是 --db 本身" in same.stderr
    url = run_cli("db", "import", "postgresql://seat@centre/hotline", "--db", str(tmp_path / "c.db"))
    assert url.returncode == 1 and "SQLite 成绩文件" in url.stderr
    missing = run_cli("db", "import", str(tmp_path / "nope.db"), "--db", str(tmp_path / "c.db"))
    assert missing.returncode == 1 and "没有文件" in missing.stderr
    assert not (tmp_path / "c.db").exists()
