"""The history store on both backends, a real SQLite file and a real PostgreSQL server: saving calls as they
happen, reading them back, reviews, migrations, and many processes writing one store at once."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import NotFound, TrainerError
from simulator.history import dialect, postgres_dialect, sqlite_dialect
from simulator.history.location import Location, locate
from simulator.history.queries import AmbiguousId
from simulator.history.rows import utc_iso
from simulator.history.schema import LATEST_VERSION, MIGRATIONS, SchemaTooNew, migrate
from simulator.history.store import HistoryStore, default_db_path
from simulator.record import COMPLETE, END_REACHED, INCOMPLETE, INTERRUPTED, REPLIES_EXHAUSTED, CallRecord, TurnRecord

ROOT = Path(__file__).resolve().parent.parent
NO_IDEA = {"id": "bu-zhi-dao", "phrase": "不知道", "span": [0, 3], "suggest": "我帮您查询一下", "severity": "major"}


def turn(
    index: int, *, score: float | None = 80.0, expected=("greeting",), missed=(), forbidden=(), **extra
) -> TurnRecord:
    return TurnRecord(
        index=index,
        turn_id=extra.pop("turn_id", f"t{index}"),
        caller_line=extra.pop("caller_line", f"来电第{index}句"),
        reply=extra.pop("reply", "您好,请讲。"),
        source=extra.pop("source", "typed"),
        response_s=extra.pop("response_s", 2.5),
        expected=list(expected),
        missed=list(missed),
        categories=[c for c in expected if c not in missed],
        forbidden=list(forbidden),
        score=score,
        **extra,
    )


def new_call(trainee: str = "王小明", scenario: str = "wrong-courtroom", started_at: str = "2026-11-02T09:00:00Z",
             **extra) -> CallRecord:  # fmt: skip
    return CallRecord(call_id=extra.pop("call_id", ""), trainee=trainee, scenario_id=scenario,
                      scenario_hash="sha-1", started_at=started_at, **extra)  # fmt: skip


def play(store: HistoryStore, call: CallRecord, turns: list[TurnRecord], *, status=COMPLETE, reason=END_REACHED,
         score: float | None = None, passed: bool | None = None, end: bool = True) -> CallRecord:  # fmt: skip
    """Drive the store the way a session does: started, each turn as scored, ended."""
    store.call_started(call)
    for t in turns:
        call.turns.append(t)
        store.turn_scored(call, t)
    if end:
        call.status, call.end_reason = status, reason
        if score is not None:
            call.scorecard = {"score": score, "passed": passed, "completed": status == COMPLETE}
        store.call_ended(call)
    return call


@pytest.fixture
def store(db_url):
    with HistoryStore(db_url) as s:
        yield s


def test_typed_complete_call_round_trips(store):
    call = play(store, new_call(mentor="李老师", variables={"case_no": "(2023)沪0105民初5678号"}, seed=3),
                [turn(0, expected=("greeting", "ask_case_info"), missed=("ask_case_info",), score=55,
                      reasons=[{"delta": -45, "why": "没有询问案号"}], comment="先问案号"),
                 turn(1, forbidden=[NO_IDEA], score=60)],
                score=57.5, passed=False)  # fmt: skip
    saved = store.get_call(call.call_id)
    assert saved.status == COMPLETE and saved.end_reason == END_REACHED
    assert saved.trainee == "王小明" and saved.mentor == "李老师" and saved.scenario_hash == "sha-1"
    assert saved.variables == {"case_no": "(2023)沪0105民初5678号"} and saved.seed == 3
    assert saved.scorecard == {"score": 57.5, "passed": False, "completed": True}
    assert [t.to_json() for t in saved.turns] == [t.to_json() for t in call.turns]
    row = store.get_call_row(call.call_id)
    assert (row.score, row.passed, row.reviewed_score, row.turn_count) == (57.5, False, None, 2)


def test_spoken_turns_keep_audio_path_and_confidence(store):
    spoken = turn(0, source="voice", audio_path="/data/audio/c1-0.wav", confidence=0.82,
                  speech={"chars_per_min": 131.0, "silence_before_s": 0.6, "longest_pause_s": 1.2})  # fmt: skip
    call = play(store, new_call(), [spoken, turn(1, source="wav", audio_path="/data/audio/c1-1.wav")], score=80)
    saved = store.get_call(call.call_id).turns
    assert [(t.source, t.audio_path) for t in saved] == [
        ("voice", "/data/audio/c1-0.wav"),
        ("wav", "/data/audio/c1-1.wav"),
    ]
    assert saved[0].confidence == 0.82 and saved[0].speech["chars_per_min"] == 131.0


def test_each_turn_is_committed_before_the_call_ends(store, db_url):
    call = play(store, new_call(started_at=utc_iso()), [turn(0), turn(1)], end=False)
    # Another connection (another process, or the same one after a crash) sees both turns already.
    with HistoryStore(db_url) as other:
        saved = other.get_call(call.call_id)
    assert [t.index for t in saved.turns] == [0, 1] and saved.status == "in_progress"


@pytest.mark.parametrize("reason", [INTERRUPTED, REPLIES_EXHAUSTED])
def test_call_cut_off_is_saved_incomplete_with_its_turns(store, reason):
    call = play(store, new_call(), [turn(0, score=90), turn(1, score=70)], status=INCOMPLETE, reason=reason)
    row = store.get_call_row(call.call_id)
    assert (row.status, row.end_reason, row.turn_count) == (INCOMPLETE, reason, 2)
    assert row.score == 80.0  # no scorecard: the mean of the answered turns
    assert [t.score for t in store.get_call(call.call_id).turns] == [90, 70]


def test_call_still_in_progress_at_the_end_is_stored_incomplete(store):
    call = new_call()
    play(store, call, [turn(0)], end=False)
    store.call_ended(call)  # the session never set a status
    assert store.get_call_row(call.call_id).status == INCOMPLETE


def test_turn_without_call_started_still_saves_the_call(store):
    call = new_call()
    call.turns.append(turn(0))
    store.turn_scored(call, call.turns[0])
    assert call.call_id and store.get_call(call.call_id).turns[0].reply == "您好,请讲。"


def test_retry_and_repeat_do_not_count(store):
    first = turn(0, expected=("empathy",), missed=("empathy",), score=30)
    repeat = turn(1, score=None, asked_repeat=True, counted=False, reply="嗯")
    call = play(store, new_call(), [first, repeat], end=False)
    first.counted = False  # the session marks the attempt superseded, then saves it again
    store.turn_scored(call, first)
    retry = turn(2, expected=("empathy",), score=90, retry_of=0)
    call.turns.append(retry)
    store.turn_scored(call, retry)
    call.status, call.end_reason = COMPLETE, END_REACHED
    store.call_ended(call)
    assert [t.counted for t in store.get_call(call.call_id).turns] == [False, False, True]
    (empathy,) = [c for c in store.category_totals("王小明") if c.category == "empathy"]
    assert (empathy.expected, empathy.missed) == (1, 0)  # only the retry counts
    assert store.get_call_row(call.call_id).score == 90.0


def test_mentor_comment_after_scoring_updates_the_turn(store):
    call = play(store, new_call(), [turn(0)], end=False)
    call.turns[0].comment = "语速放慢一点"
    store.turn_scored(call, call.turns[0])  # the session saves the turn again with the comment
    assert store.get_call(call.call_id).turns[0].comment == "语速放慢一点"


def test_summaries_follow_the_turns(store):
    play(store, new_call(), [turn(0, expected=("greeting", "empathy"), missed=("empathy",), forbidden=[NO_IDEA]),
                             turn(1, expected=("empathy",), forbidden=[NO_IDEA, NO_IDEA])], score=70)  # fmt: skip
    play(store, new_call(started_at="2026-11-03T09:00:00Z"), [turn(0, expected=("empathy",), missed=("empathy",))],
         score=40)  # fmt: skip
    totals = {c.category: (c.expected, c.missed) for c in store.category_totals("王小明")}
    assert totals == {"greeting": (1, 0), "empathy": (3, 2)}
    (forbidden,) = store.forbidden_totals("王小明")
    assert (forbidden.phrase, forbidden.suggest, forbidden.uses) == ("不知道", "我帮您查询一下", 3)
    before = (store.category_totals(), store.forbidden_totals())
    store.rebuild_summaries()
    assert (store.category_totals(), store.forbidden_totals()) == before


def test_call_ids_are_short_and_prefixes_resolve_like_git(store):
    a = play(store, new_call(call_id="abcd1111aaaa"), [turn(0)])
    play(store, new_call(call_id="abcd2222bbbb"), [turn(0)])
    fresh = play(store, new_call(), [turn(0)])
    assert len(fresh.call_id) == 12
    assert store.resolve_call_id("abcd1") == a.call_id
    assert store.resolve_call_id("ABCD1111AAAA") == a.call_id
    with pytest.raises(AmbiguousId, match="编号前缀 'abcd' 对应多个通话 .*请多输入几位"):
        store.resolve_call_id("abcd")
    with pytest.raises(NotFound, match="至少 4 位"):
        store.resolve_call_id("abc")
    with pytest.raises(NotFound, match="没有编号以 'ffff' 开头的通话"):
        store.resolve_call_id("ffff")


def test_override_keeps_the_original(store):
    call = play(store, new_call(), [turn(0, score=60), turn(1, score=100)], score=80, passed=True)
    review = store.add_override(call.call_id, 0, 90, "识别把案号听成暗号", mentor="李老师")
    assert (review.original_score, review.new_score, review.reason, review.mentor) == (
        60,
        90,
        "识别把案号听成暗号",
        "李老师",
    )
    assert store.get_call(call.call_id).turns[0].score == 60  # the scorer's score is never overwritten
    row = store.get_call_row(call.call_id)
    assert (row.score, row.reviewed_score, row.effective_score) == (80, 95, 95)  # 80 + (90 - 60) / 2
    store.add_override(call.call_id, 0, 70, "再听一遍录音, 确实没问案号")
    overrides = [r for r in store.reviews(call.call_id) if r.kind == "override"]
    assert [(r.original_score, r.new_score) for r in overrides] == [(60, 90), (60, 70)]
    assert store.turn_overrides(call.call_id) == {0: 70}
    assert store.get_call_row(call.call_id).reviewed_score == 85


def test_override_needs_a_reason_a_range_and_a_scored_turn(store):
    call = play(store, new_call(), [turn(0), turn(1, score=None, asked_repeat=True, counted=False)], score=80)
    with pytest.raises(TrainerError, match="^改分必须写明理由 - 请加上 --reason 理由$"):
        store.add_override(call.call_id, 0, 90, "  ")
    with pytest.raises(TrainerError, match="超出范围"):
        store.add_override(call.call_id, 0, 101, "理由")
    with pytest.raises(TrainerError, match="没有评分"):
        store.add_override(call.call_id, 1, 50, "理由")
    with pytest.raises(NotFound, match="没有第 5 轮 - 这通电话共 2 轮"):
        store.add_override(call.call_id, 4, 50, "理由")
    assert store.reviews(call.call_id) == []


def test_comments_on_a_turn_and_on_the_call(store):
    call = play(store, new_call(), [turn(0)], score=80)
    store.add_comment(call.call_id, "开场很好", mentor="李老师", turn_index=0)
    store.add_comment(call.call_id, "整体语气可以再温和些")
    assert [(r.turn_index, r.kind, r.text) for r in store.reviews(call.call_id)] == [
        (0, "comment", "开场很好"),
        (None, "comment", "整体语气可以再温和些"),
    ]
    with pytest.raises(TrainerError, match="评语是空的"):
        store.add_comment(call.call_id, "")


def test_list_calls_filters(store):
    play(store, new_call("甲", "wrong-courtroom", "2026-10-01T09:00:00Z"), [turn(0)], score=80)
    play(store, new_call("乙", "online-filing", "2026-10-05T09:00:00Z"), [turn(0)], score=80)
    play(store, new_call("甲", "online-filing", "2026-10-09T09:00:00Z"), [turn(0)], status=INCOMPLETE,
         reason=INTERRUPTED)  # fmt: skip
    listed = lambda **kw: [(c.trainee, c.scenario_id) for c in store.list_calls(**kw)]  # noqa: E731
    assert listed() == [("甲", "online-filing"), ("乙", "online-filing"), ("甲", "wrong-courtroom")]
    assert listed(trainee="甲") == [("甲", "online-filing"), ("甲", "wrong-courtroom")]
    assert listed(scenario="online-filing", status=COMPLETE) == [("乙", "online-filing")]
    assert listed(since="2026-10-04T00:00:00Z") == [("甲", "online-filing"), ("乙", "online-filing")]
    assert listed(since="2026-10-04T00:00:00Z", until="2026-10-06T00:00:00Z") == [("乙", "online-filing")]
    assert listed(limit=1) == [("甲", "online-filing")]


def test_times_are_stored_as_sortable_utc():
    assert utc_iso("2026-11-02T17:00:00+08:00") == "2026-11-02T09:00:00Z"
    assert utc_iso("2026-11-02T09:00:00.123456Z") == "2026-11-02T09:00:00Z"
    with pytest.raises(TrainerError, match="请用 YYYY-MM-DD"):
        utc_iso("11/02/2026")


def test_default_path_follows_env(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTLINE_TRAINER_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path().path == tmp_path / "xdg" / "hotline-trainer" / "history.db"
    monkeypatch.setenv("HOTLINE_DB", "postgresql://seat@centre-server/hotline")
    assert default_db_path() == Location("postgresql", "postgresql://seat@centre-server/hotline")
    monkeypatch.setenv("HOTLINE_TRAINER_DB", str(tmp_path / "elsewhere.db"))  # the longer name wins
    assert default_db_path().path == tmp_path / "elsewhere.db"


@pytest.mark.parametrize(
    "value, kind, shown",
    [
        (
            "postgresql://seat:s3cret@db.centre:5433/hotline",
            "postgresql",
            "postgresql://seat:***@db.centre:5433/hotline",
        ),
        ("postgres://seat@db/hotline", "postgresql", "postgres://seat@db/hotline"),
        ("sqlite:///var/lib/hotline/history.db", "sqlite", "/var/lib/hotline/history.db"),
        ("history.db", "sqlite", "history.db"),
    ],
)
def test_db_locations(value, kind, shown):
    location = locate(value)
    assert (location.kind, str(location)) == (kind, shown)


@pytest.mark.parametrize("value", ["mysql://root:pw@db/hotline", "http://centre/history", "sqlite://relative.db"])
def test_a_url_the_store_cannot_use_is_refused_not_made_a_folder(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TrainerError, match="不支持的数据库地址") as refused:
        HistoryStore(value)
    assert "pw" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_database_is_in_wal_mode(tmp_path):
    with HistoryStore(tmp_path / "history.db") as store:
        assert store._read("PRAGMA journal_mode")[0][0] == "wal"


# ---- migrations -----------------------------------------------------------------------------------


def test_migrations_are_numbered_in_order():
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def connect(db_url: str):
    location = locate(db_url)
    d = dialect.backend(location)
    return d.connect(location), d


def test_migrations_apply_in_order_once(db_url):
    conn, d = connect(db_url)
    assert migrate(conn, d) == list(range(1, LATEST_VERSION + 1))
    assert migrate(conn, d) == []  # idempotent
    rows = conn.execute("SELECT version, applied_at FROM schema_migrations ORDER BY applied_at, version").fetchall()
    assert [r["version"] for r in rows] == list(range(1, LATEST_VERSION + 1))
    conn.close()
    HistoryStore(db_url).close()  # opening again applies nothing and keeps the versions
    conn, d = connect(db_url)
    assert conn.execute("SELECT COUNT(*) AS n FROM schema_migrations").fetchone()["n"] == LATEST_VERSION
    conn.close()


def test_old_database_is_upgraded_with_its_data(db_url):
    conn, d = connect(db_url)
    migrate(conn, d, upto=1)  # a database from before reviews and summaries
    conn.execute(
        "INSERT INTO calls (call_id, trainee, scenario_id, started_at, status, score, passed) "
        "VALUES ('0123456789ab', '老学员', 'online-filing', '2026-01-05T08:00:00Z', 'complete', 75, 1)"
    )
    conn.execute(
        "INSERT INTO turns (call_id, idx, turn_id, expected, missed, forbidden, score) VALUES "
        "('0123456789ab', 0, 'opening', '[\"greeting\",\"empathy\"]', '[\"empathy\"]', ?, 75)",
        (json.dumps([NO_IDEA], ensure_ascii=False),),
    )
    conn.close()
    with HistoryStore(db_url) as upgraded:
        assert upgraded.schema_versions() == list(range(1, LATEST_VERSION + 1))
        assert {c.category: (c.expected, c.missed) for c in upgraded.category_totals("老学员")} == {
            "greeting": (1, 0),
            "empathy": (1, 1),
        }
        assert [f.uses for f in upgraded.forbidden_totals("老学员")] == [1]
        upgraded.add_override("0123456789ab", 0, 95, "录音里其实说了")
        assert upgraded.get_call_row("0123456789ab").reviewed_score == 95


def test_database_from_a_newer_version_is_refused(db_url):
    HistoryStore(db_url).close()
    conn, _ = connect(db_url)
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', '2030-01-01T00:00:00Z')",
                 (LATEST_VERSION + 1,))  # fmt: skip
    conn.close()
    with pytest.raises(SchemaTooNew, match="请升级 hotline-trainer"):
        HistoryStore(db_url)


def test_broken_file_is_a_clear_error(tmp_path):
    path = tmp_path / "not-a-db.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(TrainerError, match="用 --db 指定另一个文件"):
        HistoryStore(path)


# ---- concurrency ----------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {root!r})
    from simulator.history.store import HistoryStore
    from simulator.record import CallRecord, TurnRecord
    db, sync, who, calls, turns = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    open(os.path.join(sync, "ready-" + who), "w").close()
    while not os.path.exists(os.path.join(sync, "go")):  # start together: all open the new store at once
        time.sleep(0.005)
    began = time.time()
    store = HistoryStore(db)
    for n in range(calls):
        call = CallRecord(call_id="", trainee=who, scenario_id="wrong-courtroom", scenario_hash="x")
        store.call_started(call)
        for i in range(turns):
            t = TurnRecord(index=i, turn_id=f"t{{i}}", caller_line="喂", reply=f"{{who}}-{{n}}-{{i}}", source="typed",
                           response_s=1.0, expected=["greeting"], missed=["greeting"] if i % 2 else [], score=50.0 + i)
            call.turns.append(t)
            store.turn_scored(call, t)
        call.status, call.end_reason, call.scorecard = "complete", "end", {{"score": 60.0, "passed": False}}
        store.call_ended(call)
    store.close()
    print(began, time.time())
    """
)


@pytest.mark.parametrize("writers, calls, turns", [(2, 25, 12), (30, 5, 4)], ids=["2x25-calls", "30x5-calls"])
def test_processes_writing_one_store_at_once_lose_nothing(db_url, tmp_path, writers, calls, turns):
    """Trainees at their seats practising at the same moment, on a store none of them has opened before."""
    script = WRITER.format(root=str(ROOT))
    names = [f"学员{n:02d}" for n in range(writers)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url, str(tmp_path), who, str(calls), str(turns)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for who in names
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{who}").exists() for who in names) and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * writers, [err.decode()[-500:] for _, err in outputs]
    spans = [tuple(map(float, out.split())) for out, _ in outputs]
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # all writers really overlapped
    with HistoryStore(db_url) as store:
        assert store.count_calls() == writers * calls
        for who in names:
            rows = store.list_calls(trainee=who, limit=None)
            assert len(rows) == calls and {r.status for r in rows} == {COMPLETE}
            assert {r.turn_count for r in rows} == {turns}
            replies = {t.reply for r in rows for t in store.get_call(r.call_id).turns}
            assert replies == {f"{who}-{n}-{i}" for n in range(calls) for i in range(turns)}
            (greeting,) = store.category_totals(who)
            assert (greeting.expected, greeting.missed) == (calls * turns, calls * (turns // 2))
        assert store.schema_versions() == list(range(1, LATEST_VERSION + 1))


# ---- properties -----------------------------------------------------------------------------------

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reply=texts, comment=texts, trainee=texts.filter(bool), score=st.floats(0, 100))
def test_any_text_round_trips(store, reply, comment, trainee, score):
    call = play(store, new_call(trainee=trainee), [turn(0, reply=reply, comment=comment, score=score)], score=score)
    saved = store.get_call(call.call_id)
    kept = lambda text: text.replace("\x00", "\ufffd")  # noqa: E731 - PostgreSQL's text has no NUL; both keep U+FFFD
    assert (saved.trainee, saved.turns[0].reply, saved.turns[0].comment, saved.turns[0].score) == (
        kept(trainee), kept(reply), kept(comment), score)  # fmt: skip
    assert call.call_id in [c.call_id for c in store.list_calls(trainee=kept(trainee), limit=None)]


# ---- where the SQL is ------------------------------------------------------------------------------

# The history store: the only files that may hold SQL or talk to a database driver. The rest of the project calls
# HistoryStore and gets dataclasses back, whichever backend holds them.
STORE_FILES = {
    f"simulator/history/{name}.py"
    for name in ("dialect", "sqlite_dialect", "postgres_dialect", "schema", "summaries", "rows", "queries", "store")
}
DRIVERS = ("sqlite3", "psycopg")
SQL_KEYWORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", "CREATE TABLE", "CREATE INDEX", "PRAGMA ")


def sql_in(source: str) -> list[str]:
    """The SQL keywords a source file contains, and ``import sqlite3`` / ``import psycopg`` if it imports a driver."""
    found = [keyword.strip() for keyword in SQL_KEYWORDS if keyword in source]
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        found.extend(f"import {driver}" for driver in DRIVERS if any(n.split(".")[0] == driver for n in names))
    return found


def test_sql_lives_only_in_the_history_store_files():
    """A training centre moving to a database server rewrites the store, nothing else."""
    sources = [ROOT / "run_training.py", *(p for top in ("core", "scoring", "simulator", "bench", "scripts")
                                           for p in (ROOT / top).rglob("*.py"))]  # fmt: skip
    outside = {}
    for path in sources:
        name = path.relative_to(ROOT).as_posix()
        if name not in STORE_FILES and (found := sql_in(path.read_text(encoding="utf-8"))):
            outside[name] = found
    assert outside == {}
    assert all((ROOT / name).exists() for name in STORE_FILES)


def test_the_sql_check_can_fail():
    assert sql_in('rows = conn.execute("SELECT call_id FROM calls")') == ["SELECT"]
    assert sql_in("def f():\n    import sqlite3\n") == ["import sqlite3"]
    assert sql_in("from sqlite3 import connect\n") == ["import sqlite3"]
    assert sql_in("# sqlite3 loads lazily, inside the handlers\n") == []
    assert sql_in("from psycopg.rows import dict_row\n") == ["import psycopg"]
    assert "import sqlite3" in sql_in((ROOT / "simulator/history/sqlite_dialect.py").read_text(encoding="utf-8"))
    assert "import psycopg" in sql_in((ROOT / "simulator/history/postgres_dialect.py").read_text(encoding="utf-8"))


# sha256 of each shipped migration's statements as each backend runs them (joined by NUL). A database made by an
# older version ran exactly these; changing one would make old and new databases differ. Add a migration instead,
# and its hashes here.
SHIPPED_MIGRATIONS = {
    "sqlite": {
        1: "3eecfc885b3fa418a76c7d64b46e92e2f8fc87d3aaac168397780d9bca73b142",
        2: "2c1a0db624017c6ca34ef159155017b801fecf020b468d5cb37af75bab105d07",
        3: "e854dda0a714f16d067005e3ea294a70bb2e6807edd70a730ea4cf9de7ad2c14",
        4: "4b41d45837729bebafca05cf12cdef4238431851cdc4ad330591168b23860dc8",
        5: "a8c14c3daa4dc63c8ff9e030107e140595635fcc47044da4879d256f3e5d963a",
        6: "afad5e21937885e029abf4f49b529e26334c75b43314d35222eb28d9e00ddd61",
        7: "a775c95dfb3293e3cf30369003ccedc3cbe561013bda3b237aa5ea4ff9b1fb95",
        8: "813f2616bec637767f078c3e562abf34f6c529793803a6699b7756ccf61c8e74",
    },
    "postgresql": {
        1: "9d6262235672fd6e1fa16d27227679c7d3529e2686843b758b057120d49708db",
        2: "253d25d14d5c9d6b566aa281e2487527e82fd44024a962ba650dffc95791327b",
        3: "53886da281ac70c3c5fc7913d9b9537b3747b19205830108a0a33fe0fa09922b",
        4: "4b41d45837729bebafca05cf12cdef4238431851cdc4ad330591168b23860dc8",
        5: "eb9240a3b404f29cd26e80559d44e600b5265ba5d18a2b542a959b4b2388eb70",
        6: "10f1a2b29e67775678de730b07f67cc6220d3d84bad13b11a640599dc1f55eb1",
        7: "5d821bac83d0739ca0711e4cb0515590cc4df4feb1a54d9e381bf27224ea90a2",
        8: "593498768042164d44196dc4c90162b317e6b2c6baf0a4da953e16b240f913de",
    },
}


@pytest.mark.parametrize("d", [sqlite_dialect, postgres_dialect], ids=lambda d: d.NAME)
def test_shipped_migrations_never_change(d):
    """The schema statements are pinned; a backfill is pinned by name (it runs the current summary statements,
    which compute the same tables)."""
    hashes = {
        m.version: hashlib.sha256("\0".join(m.for_backend(d, backfills=False)).encode()).hexdigest() for m in MIGRATIONS
    }
    shipped = SHIPPED_MIGRATIONS[d.NAME]
    assert {v: h for v, h in hashes.items() if v in shipped} == shipped
    assert set(hashes) == set(shipped), "a new migration: add its hashes to SHIPPED_MIGRATIONS"


def test_team_totals_kept_up_by_every_write_match_a_full_rebuild(store):
    """Per-trainee totals move on call start and end, overrides and bulk imports; rebuilt from the calls they agree."""
    play(store, new_call("甲", call_id="7ea000000001"), [turn(0, score=40), turn(1, score=60)], score=50, passed=False)
    play(store, new_call("甲", started_at="2026-11-03T09:00:00Z"), [turn(0, score=90)], score=90, passed=True)
    play(store, new_call("乙", started_at="2026-11-04T09:00:00Z"), [turn(0, score=70)], end=False)
    store.add_override("7ea000000001", 0, 100, "录音里说了")
    bulk = [new_call("乙", call_id=f"7eb00000000{i}", started_at=f"2026-11-0{i + 5}T09:00:00Z") for i in range(3)]
    for i, call in enumerate(bulk):
        call.turns.append(turn(0, score=60.0 + 10 * i))
        call.status, call.scorecard = "complete", {"score": 60.0 + 10 * i, "passed": i > 0, "work_order": {"score": 50}}
    store.import_calls(bulk)
    kept = store.team_rows()
    store.rebuild_summaries()
    assert store.team_rows() == kept
    assert [(r.trainee, r.calls, r.complete, r.passed, r.best) for r in kept] == [
        ("乙", 4, 3, 2, 80.0), ("甲", 2, 2, 1, 90.0)]  # fmt: skip
