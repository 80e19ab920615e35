"""Faults and hostile input (issue: nothing lost, nothing leaked): each test reproduces a failure seen by a probe."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, free_port, run_cli

BOMB = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
)


def test_a_yaml_alias_bomb_is_refused_quickly_with_one_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    started = time.monotonic()
    result = run_cli("validate", str(path))
    assert time.monotonic() - started < 30
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "YAML 展开后超过 200,000 个值" in result.stdout


def test_an_oversized_scenario_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("brief: " + "很长" * 1_100_000, encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert "超过上限 2,000,000 - 场景文件通常只有几 KB" in result.stdout


def _one_call(db):
    replies = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
    result = run_cli("practice", "wrong-courtroom", "--replies", str(replies), "--no-audio", "--db", str(db))
    assert result.returncode == 0, result.stderr


def test_the_report_never_overwrites_the_database_or_a_foreign_file(tmp_path):
    db = tmp_path / "h.db"
    _one_call(db)
    before = db.read_bytes()
    result = run_cli("report", "--html", str(db), "--db", str(db))
    assert result.returncode == 1
    assert "是成绩数据库本身, 不能写报告到这里" in result.stderr
    assert db.read_bytes() == before

    notes = tmp_path / "notes.txt"
    notes.write_text("导师的笔记", encoding="utf-8")
    result = run_cli("report", "--html", str(notes), "--db", str(db))
    assert (
        result.returncode == 1 and "已存在, 且不是本工具生成的报告 - 换一个文件名, 或加 --force 覆盖" in result.stderr
    )
    assert notes.read_text(encoding="utf-8") == "导师的笔记"
    assert run_cli("report", "--html", str(notes), "--db", str(db), "--force").returncode == 0

    page = tmp_path / "report.html"
    assert run_cli("report", "--html", str(page), "--db", str(db)).returncode == 0
    assert run_cli("report", "--html", str(page), "--db", str(db)).returncode == 0  # our own report: replaced
    assert not list(tmp_path.glob("*.tmp"))


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralized(db_url):
    db = db_url
    replies = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
    name = '=HYPERLINK("http://x.example","点我")'
    result = run_cli("practice", "wrong-courtroom", "--replies", str(replies), "--no-audio", "--db", str(db),
                     "--trainee", name)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = run_cli("team", "--db", str(db), "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["trainee"] == "'" + name
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())


def test_a_lone_surrogate_in_a_batch_is_printed_not_a_traceback(tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"id": 1, "text": "您好\\ud800请讲"}\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "run_training.py", "score-reply", "--batch", str(batch)],
        capture_output=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in result.stderr
    assert json.loads(result.stdout.decode("utf-8").splitlines()[0])["id"] == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_sigterm_and_sighup_save_the_call_as_incomplete(db_url, signum):
    # the store named by the environment, as a seat is set up
    db = db_url
    env = {**os.environ, "HOTLINE_TRAINER_DB": str(db)}
    process = subprocess.Popen(
        [sys.executable, "run_training.py", "practice", "wrong-courtroom", "--no-audio", "--trainee", "小周"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip
    process.stdin.write("您好，请讲。请您报一下案号和法官的姓名。\n".encode())
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _turns_saved(db):
        time.sleep(0.2)
    process.send_signal(signum)
    process.communicate(timeout=60)
    assert process.returncode == 130
    calls = json.loads(run_cli("history", "--db", str(db), "--json").stdout)
    assert [(c["status"], c["end_reason"], c["turn_count"]) for c in calls] == [("incomplete", "interrupted", 1)]


def _turns_saved(db) -> bool:
    result = run_cli("history", "--db", str(db), "--json")
    return result.returncode == 0 and any(c["turn_count"] for c in json.loads(result.stdout or "[]"))


def test_rich_markup_in_scenario_text_and_names_is_shown_literally(tmp_path):
    text = (ROOT / "scenarios" / "wrong-courtroom.yaml").read_text(encoding="utf-8")
    hostile = text.replace("say: 喂，您好，我是来开庭的律师", "say: 喂[/]，您好[bold red]，我是来开庭的律师", 1)
    path = tmp_path / "wrong-courtroom.yaml"
    path.write_text(hostile, encoding="utf-8")
    assert run_cli("validate", str(path)).returncode == 0
    replies = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
    played = run_cli(
        "practice", str(path), "--replies", str(replies), "--no-audio", "--no-save", "--mentor", "[/]李老师"
    )
    assert played.returncode == 0 and "Traceback" not in played.stderr, played.stderr[-2000:]
    assert "喂[/]，您好[bold" in played.stdout
    shown = run_cli("show", str(path))
    assert shown.returncode == 0 and "喂[/]，您好[bold" in shown.stdout


def test_control_characters_in_names_never_reach_the_terminal(db_url):
    db = db_url
    name = "\x1b]0;pwned\x07\x1b[2J小王"
    replies = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
    result = run_cli("practice", "wrong-courtroom", "--replies", str(replies), "--no-audio", "--db", str(db),
                     "--trainee", name, "--mentor", "\x1b[31m李")  # fmt: skip
    assert result.returncode == 0, result.stderr
    call_id = json.loads(run_cli("history", "--db", str(db), "--json").stdout)[0]["call_id"]
    for argv in (["history"], ["team"], ["team", "--csv"], ["progress", name], ["history", "show", call_id]):
        out = run_cli(*argv, "--db", str(db))
        assert out.returncode == 0, (argv, out.stderr)
        assert "\x1b" not in out.stdout + out.stderr and "\x07" not in out.stdout, argv
    assert "\\x1b]0;pwned\\x07\\x1b[2J小王" in run_cli("team", "--db", str(db), "--json").stdout.replace("\\\\", "\\")


def test_a_reply_over_the_cap_is_refused_at_once_and_a_long_numeral_run_stays_fast():
    from scoring.scorer import MAX_REPLY_CHARS, TOO_LONG, Scorer

    scorer = Scorer.default()
    started = time.perf_counter()
    analysis = scorer.analyze("百" * 10_000)
    assert time.perf_counter() - started < 0.1
    assert not analysis.judgeable and analysis.why_not_judgeable == TOO_LONG
    started = time.perf_counter()
    scorer.analyze("一千零" * (MAX_REPLY_CHARS // 3))
    assert time.perf_counter() - started < 2.0


def test_the_scorer_never_crashes_on_random_text_and_stays_bounded():
    """A bounded fuzzer: mixed Chinese, digits, punctuation, controls and surrogates, up to the length cap."""
    import random

    from scoring.scorer import Scorer

    scorer = Scorer.default()
    rng = random.Random(12368)
    alphabet = list("您好请讲稍等法官案号不知道一二三四五六七八九十百千万零两0123456789，。？！、“”（）…- \n\t") + [
        "\x00", "\x1b", "\ud800", "\u200b", "\ufeff", "𠀀",
    ]  # fmt: skip
    worst = 0.0
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1000)))
        started = time.perf_counter()
        analysis = scorer.analyze(text, ("greeting", "hold"))
        worst = max(worst, time.perf_counter() - started)
        assert isinstance(analysis.judgeable, bool)
        if analysis.judgeable:
            assert 0 <= scorer.score_turn(analysis, ("greeting", "hold")).score <= 100
    assert worst < 1.0, f"slowest reply took {worst:.2f} s"


def test_reading_commands_never_create_or_touch_a_database_they_did_not_make(tmp_path):
    import sqlite3

    missing = tmp_path / "typo" / "histroy.db"
    for argv in (["history"], ["team"], ["progress", "小王"], ["report", "--html", str(tmp_path / "r.html")]):
        result = run_cli(*argv, "--db", str(missing))
        assert result.returncode == 1 and result.stderr.startswith("错误: 没有成绩数据库"), (argv, result.stderr)
    assert not (tmp_path / "typo").exists()

    foreign = tmp_path / "other-app.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    before = foreign.read_bytes()
    for argv in (["history"], ["team"]):
        result = run_cli(*argv, "--db", str(foreign))
        assert result.returncode == 1 and "不是本工具的成绩数据库" in result.stderr
    replies = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
    result = run_cli("practice", "wrong-courtroom", "--replies", str(replies), "--no-audio", "--db", str(foreign))
    assert result.returncode == 1 and "不是本工具的成绩数据库" in result.stderr
    assert foreign.read_bytes() == before and not (tmp_path / "other-app.sqlite-wal").exists()


def test_a_damaged_database_is_one_line_for_every_command(tmp_path):
    db = tmp_path / "h.db"
    _one_call(db)
    run_cli("history", "--db", str(db))  # checkpointed and closed
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # garbage over the header's tail and the schema page
    db.write_bytes(bytes(data))
    for path in tmp_path.glob("h.db-*"):
        path.unlink()
    replies = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
    for argv in (["history"], ["team"], ["progress", "学员"], ["report", "--html", str(tmp_path / "r.html")],
                 ["practice", "wrong-courtroom", "--replies", str(replies), "--no-audio"]):  # fmt: skip
        result = run_cli(*argv, "--db", str(db))
        assert result.returncode == 1, (argv, result.stdout[-300:])
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, (argv, result.stderr)
        assert "成绩数据库" in result.stderr


def test_a_write_that_fails_mid_call_keeps_the_call_going_and_saves_it_to_a_recovery_file(tmp_path):
    from core.errors import TrainerError
    from simulator.library import find_scenario
    from simulator.record import RecoveringSink
    from simulator.session import play

    class DiskFullAfterFirstTurn:
        def __init__(self):
            self.turns = 0

        def call_started(self, call):
            pass

        def turn_scored(self, call, turn):
            self.turns += 1
            if self.turns > 1:
                raise TrainerError("成绩数据库 h.db 无法使用: 磁盘已满 - 用 --db 指定另一个文件")

        def call_ended(self, call):
            raise AssertionError("never reached once the store failed")

    notices: list[str] = []
    sink = RecoveringSink(DiskFullAfterFirstTurn(), tmp_path / "recovered", notices.append)
    scenario = find_scenario("wrong-courtroom")
    example = scenario.examples[0]
    values = scenario.draw(example.seed)
    replies = [
        r.replace("{judge}", values["judge"]).replace("{right_room}", values["right_room"]) for r in example.replies
    ]
    session = play(scenario, replies, seed=example.seed, sink=sink)
    assert session.call.completed and session.scorecard.passed  # the call went on to the end
    assert len(notices) == 1 and "磁盘已满" in notices[0] and str(sink.recovered) in notices[0]
    saved = json.loads(sink.recovered.read_text(encoding="utf-8"))
    assert saved["call_id"] == session.call.call_id and saved["status"] == "complete"
    assert [t["reply"] for t in saved["turns"]] == replies
    assert saved["scorecard"]["score"] == session.scorecard.score


def test_a_call_left_in_progress_by_a_killed_process_is_closed_when_the_store_next_opens(db_url):
    from datetime import UTC, datetime, timedelta

    from simulator.history.store import HistoryStore
    from simulator.record import CallRecord, TurnRecord

    db = db_url
    long_ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat(timespec="seconds")
    just_now = datetime.now(UTC).isoformat(timespec="seconds")
    with HistoryStore(db) as store:
        for call_id, started in (("dead00000001", long_ago), ("live00000002", just_now)):
            call = CallRecord(call_id, "小王", "wrong-courtroom", "h", started_at=started, time_limit_s=180)
            store.call_started(call)
            store.turn_scored(call, TurnRecord(0, "opening", "喂", "您好,请讲。", "typed", 2.0, score=90.0))
    calls = {c["call_id"]: c for c in json.loads(run_cli("history", "--db", str(db), "--json").stdout)}
    assert (calls["dead00000001"]["status"], calls["dead00000001"]["end_reason"]) == ("incomplete", "abandoned")
    assert calls["dead00000001"]["turn_count"] == 1  # its turns are kept
    assert calls["live00000002"]["status"] == "in_progress"  # a call still within its time is left alone


def test_anonymize_replaces_every_form_of_a_name_it_knows(tmp_path, db_url):
    db = db_url
    replies = ROOT / "scenarios" / "replies" / "wrong-courtroom.txt"
    result = run_cli("practice", "wrong-courtroom", "--replies", str(replies), "--no-audio", "--db", str(db),
                     "--trainee", "王小明", "--mentor", "陈静")  # fmt: skip
    assert result.returncode == 0, result.stderr
    call_id = json.loads(run_cli("history", "--db", str(db), "--json").stdout)[0]["call_id"]
    comment = "小明这句不错; Wang Xiaoming 下次先问案号; wangxiaoming 语速偏快; 陈老师: 在Beijing也一样"
    assert run_cli("review", call_id, "--comment", comment, "--mentor", "陈静", "--db", str(db)).returncode == 0
    shown = run_cli("history", "show", call_id, "--db", str(db), "--anonymize", "--json").stdout
    page = tmp_path / "r.html"
    assert run_cli("report", "--html", str(page), "--db", str(db), "--anonymize").returncode == 0
    for text in (shown, page.read_text(encoding="utf-8")):
        for form in ("王小明", "小明", "Wang Xiaoming", "wangxiaoming", "陈静", "陈老师"):
            assert form not in text, form
    assert "Beijing" in shown  # pinyin is replaced as a whole word only


# ---- a centre's PostgreSQL server that is not there, not ours, or empty ---------------------------------


def test_an_unreachable_server_is_one_line_without_the_password():
    url = f"postgresql://seat:s3cret@127.0.0.1:{free_port()}/hotline"
    for argv in (["history"], ["team"], ["db", "migrate"]):
        result = run_cli(*argv, "--db", url)
        assert result.returncode == 1, argv
        assert "连不上服务器" in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert "s3cret" not in result.stderr and "seat:***@" in result.stderr


def test_a_missing_database_on_the_server_says_to_create_it(postgres_server):
    from urllib.parse import urlsplit

    url = urlsplit(postgres_server)._replace(path="/no_such_centre").geturl()
    result = run_cli("db", "migrate", "--db", url)
    assert result.returncode == 1 and "服务器上没有这个库" in result.stderr and "createdb" in result.stderr


def test_a_server_database_of_another_program_is_refused_untouched(postgres_server):
    import psycopg
    from conftest import new_postgres_database

    url = new_postgres_database(postgres_server)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    for argv in (["history"], ["db", "migrate"]):
        result = run_cli(*argv, "--db", url)
        assert result.returncode == 1 and "不是本工具的成绩数据库" in result.stderr, result.stderr
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"invoices"}


def test_reading_an_empty_server_database_says_to_migrate_and_creates_nothing(postgres_server):
    import psycopg
    from conftest import new_postgres_database

    url = new_postgres_database(postgres_server)
    result = run_cli("team", "--db", url)
    assert result.returncode == 1 and "db migrate" in result.stderr, result.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
