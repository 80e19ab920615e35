"""The score-history store: every SQL statement of the project lives in this module.

SQLite by default (one file in the user's data folder). A training centre that wants a shared
database server later replaces this one module: the rest of the code calls the methods below and
receives plain dataclasses, never a cursor.

Concurrency: WAL mode, ``busy_timeout`` and ``BEGIN IMMEDIATE`` on every write, so two practice
sessions writing one file wait for each other instead of failing or losing a turn.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.errors import NotFound, TrainerError
from simulator.record import COMPLETE, IN_PROGRESS, INCOMPLETE, CallRecord, TurnRecord

DB_ENV = "HOTLINE_TRAINER_DB"
BUSY_TIMEOUT_MS = 30_000  # a long report may hold the write lock briefly; a practice turn must never fail on it
MIN_PREFIX = 4  # like git: shorter prefixes are too likely to be ambiguous


class AmbiguousId(TrainerError):
    """A call-id prefix that matches more than one call."""


class SchemaTooNew(TrainerError):
    """The database was migrated by a newer version of the trainer."""


def default_db_path() -> Path:
    """``$HOTLINE_TRAINER_DB``, else ``$XDG_DATA_HOME/hotline-trainer/history.db`` (``~/.local/share`` by default)."""
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "hotline-trainer" / "history.db"


def open_store(path: str | Path | None = None) -> HistoryStore:
    """The store at ``path`` (``--db``), else at ``default_db_path()``."""
    return HistoryStore(path)


def new_call_id() -> str:
    """12 hex digits: short enough to type a prefix of, and unique across millions of calls."""
    return secrets.token_hex(6)


def utc_iso(value: str | datetime | None = None) -> str:
    """A time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), so that stored times sort as strings."""
    if value is None or value == "":
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise TrainerError(f"无法识别的时间 {value!r} - 请用 YYYY-MM-DD 或 ISO 8601 格式") from exc
    if moment.tzinfo is None:  # a bare date or time given by a user means their local time
        moment = moment.astimezone()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Migrations: numbered, applied in order, each recorded in schema_migrations. Never edit one that
# has shipped; add the next number instead.


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


# Per-call and per-trainee summaries are recomputed from the turns of the calls in refresh_ids.
# The same statements serve one turn (the practice path) and a million (import, migration backfill).
_SUBTRACT_TRAINEE_CATEGORY = """
UPDATE trainee_category
   SET expected = trainee_category.expected - old.expected, missed = trainee_category.missed - old.missed
  FROM (SELECT c.trainee, cc.category, SUM(cc.expected) AS expected, SUM(cc.missed) AS missed
          FROM call_category cc JOIN calls c ON c.call_id = cc.call_id
         WHERE cc.call_id IN (SELECT call_id FROM refresh_ids)
         GROUP BY c.trainee, cc.category) AS old
 WHERE trainee_category.trainee = old.trainee AND trainee_category.category = old.category"""
_SUBTRACT_TRAINEE_FORBIDDEN = """
UPDATE trainee_forbidden
   SET uses = trainee_forbidden.uses - old.uses
  FROM (SELECT c.trainee, cf.phrase_id, SUM(cf.uses) AS uses
          FROM call_forbidden cf JOIN calls c ON c.call_id = cf.call_id
         WHERE cf.call_id IN (SELECT call_id FROM refresh_ids)
         GROUP BY c.trainee, cf.phrase_id) AS old
 WHERE trainee_forbidden.trainee = old.trainee AND trainee_forbidden.phrase_id = old.phrase_id"""
_DELETE_CALL_CATEGORY = "DELETE FROM call_category WHERE call_id IN (SELECT call_id FROM refresh_ids)"
_DELETE_CALL_FORBIDDEN = "DELETE FROM call_forbidden WHERE call_id IN (SELECT call_id FROM refresh_ids)"
# Only counted, judged turns: an attempt superseded by a retry, or a reply the scorer asked to
# repeat, does not count against the trainee.
_INSERT_CALL_CATEGORY = """
INSERT INTO call_category (call_id, category, expected, missed)
SELECT t.call_id, e.value, COUNT(*),
       SUM(EXISTS (SELECT 1 FROM json_each(t.missed) AS m WHERE m.value = e.value))
  FROM turns t, json_each(t.expected) AS e
 WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted AND t.score IS NOT NULL
 GROUP BY t.call_id, e.value"""
_INSERT_CALL_FORBIDDEN = """
INSERT INTO call_forbidden (call_id, phrase_id, phrase, suggest, severity, uses)
SELECT t.call_id, COALESCE(json_extract(f.value, '$.id'), json_extract(f.value, '$.phrase')),
       MAX(COALESCE(json_extract(f.value, '$.phrase'), '')), MAX(COALESCE(json_extract(f.value, '$.suggest'), '')),
       MAX(COALESCE(json_extract(f.value, '$.severity'), '')), COUNT(*)
  FROM turns t, json_each(t.forbidden) AS f
 WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted
 GROUP BY t.call_id, 2"""
_ADD_TRAINEE_CATEGORY = """
INSERT INTO trainee_category (trainee, category, expected, missed)
SELECT c.trainee, cc.category, SUM(cc.expected), SUM(cc.missed)
  FROM call_category cc JOIN calls c ON c.call_id = cc.call_id
 WHERE cc.call_id IN (SELECT call_id FROM refresh_ids)
 GROUP BY c.trainee, cc.category
ON CONFLICT (trainee, category) DO UPDATE
   SET expected = expected + excluded.expected, missed = missed + excluded.missed"""
_ADD_TRAINEE_FORBIDDEN = """
INSERT INTO trainee_forbidden (trainee, phrase_id, phrase, suggest, severity, uses)
SELECT c.trainee, cf.phrase_id, MAX(cf.phrase), MAX(cf.suggest), MAX(cf.severity), SUM(cf.uses)
  FROM call_forbidden cf JOIN calls c ON c.call_id = cf.call_id
 WHERE cf.call_id IN (SELECT call_id FROM refresh_ids)
 GROUP BY c.trainee, cf.phrase_id
ON CONFLICT (trainee, phrase_id) DO UPDATE
   SET uses = uses + excluded.uses, phrase = excluded.phrase, suggest = excluded.suggest,
       severity = excluded.severity"""
# Migration 3 backfilled with these; it must keep running them, and only them, on a new database.
_REFRESH_CATEGORIES_AND_FORBIDDEN = (
    _SUBTRACT_TRAINEE_CATEGORY,
    _SUBTRACT_TRAINEE_FORBIDDEN,
    _DELETE_CALL_CATEGORY,
    _DELETE_CALL_FORBIDDEN,
    _INSERT_CALL_CATEGORY,
    _INSERT_CALL_FORBIDDEN,
    _ADD_TRAINEE_CATEGORY,
    _ADD_TRAINEE_FORBIDDEN,
)
# Substance (migration 5): per call and per trainee, the key points missed (not said at all), the contradictions
# (a drawn fact stated wrong) and the must-not breaches, each by scenario and id. Contradictions and breaches are
# read from the turn's analysis, where the scorer keeps them.
SUBSTANCE_KINDS = ("missed", "contradiction", "must_not")
_SUBTRACT_TRAINEE_SUBSTANCE = """
UPDATE trainee_substance
   SET uses = trainee_substance.uses - old.uses
  FROM (SELECT c.trainee, cs.kind, cs.scenario_id, cs.item_id, SUM(cs.uses) AS uses
          FROM call_substance cs JOIN calls c ON c.call_id = cs.call_id
         WHERE cs.call_id IN (SELECT call_id FROM refresh_ids)
         GROUP BY c.trainee, cs.kind, cs.scenario_id, cs.item_id) AS old
 WHERE trainee_substance.trainee = old.trainee AND trainee_substance.kind = old.kind
   AND trainee_substance.scenario_id = old.scenario_id AND trainee_substance.item_id = old.item_id"""
_DELETE_CALL_SUBSTANCE = "DELETE FROM call_substance WHERE call_id IN (SELECT call_id FROM refresh_ids)"
_INSERT_CALL_SUBSTANCE = """
INSERT INTO call_substance (call_id, kind, scenario_id, item_id, uses)
SELECT call_id, kind, scenario_id, item_id, COUNT(*) FROM (
    SELECT t.call_id, 'missed' AS kind, c.scenario_id, p.value AS item_id
      FROM turns t JOIN calls c ON c.call_id = t.call_id, json_each(t.points_missed) AS p
     WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted AND t.score IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM json_each(t.analysis, '$.contradictions') AS x
                        WHERE json_extract(x.value, '$.point') = p.value)
    UNION ALL
    SELECT t.call_id, 'contradiction', c.scenario_id, json_extract(x.value, '$.point')
      FROM turns t JOIN calls c ON c.call_id = t.call_id, json_each(t.analysis, '$.contradictions') AS x
     WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted AND t.score IS NOT NULL
    UNION ALL
    SELECT t.call_id, 'must_not', c.scenario_id, json_extract(m.value, '$.id')
      FROM turns t JOIN calls c ON c.call_id = t.call_id, json_each(t.analysis, '$.must_not') AS m
     WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted AND t.score IS NOT NULL)
 GROUP BY call_id, kind, scenario_id, item_id"""
_ADD_TRAINEE_SUBSTANCE = """
INSERT INTO trainee_substance (trainee, kind, scenario_id, item_id, uses)
SELECT c.trainee, cs.kind, cs.scenario_id, cs.item_id, SUM(cs.uses)
  FROM call_substance cs JOIN calls c ON c.call_id = cs.call_id
 WHERE cs.call_id IN (SELECT call_id FROM refresh_ids)
 GROUP BY c.trainee, cs.kind, cs.scenario_id, cs.item_id
ON CONFLICT (trainee, kind, scenario_id, item_id) DO UPDATE SET uses = uses + excluded.uses"""
_REFRESH_SUBSTANCE = (
    _SUBTRACT_TRAINEE_SUBSTANCE,
    _DELETE_CALL_SUBSTANCE,
    _INSERT_CALL_SUBSTANCE,
    _ADD_TRAINEE_SUBSTANCE,
)
_REFRESH_SUMMARIES = _REFRESH_CATEGORIES_AND_FORBIDDEN + _REFRESH_SUBSTANCE
_SUMMARY_TABLES = (
    "call_category", "call_forbidden", "trainee_category", "trainee_forbidden", "call_substance", "trainee_substance",
)  # fmt: skip

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "calls and turns",
        (
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            # The secret behind stable pseudonyms in anonymized exports; never leaves the database.
            "INSERT INTO meta (key, value) VALUES ('pseudonym_secret', lower(hex(randomblob(32))))",
            """CREATE TABLE calls (
                seq INTEGER PRIMARY KEY,
                call_id TEXT NOT NULL UNIQUE,
                trainee TEXT NOT NULL,
                mentor TEXT NOT NULL DEFAULT '',
                scenario_id TEXT NOT NULL,
                scenario_hash TEXT NOT NULL DEFAULT '',
                scenario_title TEXT NOT NULL DEFAULT '',
                mode TEXT NOT NULL DEFAULT 'mentor',
                variables TEXT NOT NULL DEFAULT '{}',
                seed INTEGER,
                started_at TEXT NOT NULL,
                ended_at TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT 'in_progress',
                end_reason TEXT NOT NULL DEFAULT '',
                time_limit_s INTEGER NOT NULL DEFAULT 0,
                call_s REAL NOT NULL DEFAULT 0,
                score REAL,
                passed INTEGER,
                scorecard TEXT NOT NULL DEFAULT '{}',
                turn_count INTEGER NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX calls_started ON calls (started_at)",
            "CREATE INDEX calls_scenario ON calls (scenario_id, started_at)",
            """CREATE TABLE turns (
                id INTEGER PRIMARY KEY,
                call_id TEXT NOT NULL REFERENCES calls (call_id),
                idx INTEGER NOT NULL,
                turn_id TEXT NOT NULL,
                caller_line TEXT NOT NULL DEFAULT '',
                reply TEXT NOT NULL DEFAULT '',
                source TEXT NOT NULL DEFAULT '',
                response_s REAL NOT NULL DEFAULT 0,
                categories TEXT NOT NULL DEFAULT '[]',
                expected TEXT NOT NULL DEFAULT '[]',
                missed TEXT NOT NULL DEFAULT '[]',
                forbidden TEXT NOT NULL DEFAULT '[]',
                points_hit TEXT NOT NULL DEFAULT '[]',
                points_missed TEXT NOT NULL DEFAULT '[]',
                score REAL,
                reasons TEXT NOT NULL DEFAULT '[]',
                analysis TEXT NOT NULL DEFAULT '{}',
                asked_repeat INTEGER NOT NULL DEFAULT 0,
                retry_of INTEGER,
                counted INTEGER NOT NULL DEFAULT 1,
                confidence REAL,
                audio_path TEXT,
                speech TEXT NOT NULL DEFAULT '{}',
                comment TEXT NOT NULL DEFAULT '',
                next_turn TEXT,
                at TEXT NOT NULL DEFAULT '',
                UNIQUE (call_id, idx)
            )""",
        ),
    ),
    Migration(
        2,
        "mentor reviews: score overrides and comments",
        (
            """CREATE TABLE reviews (
                id INTEGER PRIMARY KEY,
                call_id TEXT NOT NULL REFERENCES calls (call_id),
                turn_idx INTEGER,
                kind TEXT NOT NULL CHECK (kind IN ('override', 'comment')),
                mentor TEXT NOT NULL DEFAULT '',
                original_score REAL,
                new_score REAL,
                reason TEXT NOT NULL DEFAULT '',
                text TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX reviews_call ON reviews (call_id, turn_idx)",
            # Caches of the latest override; the reviews table keeps every one and the original.
            "ALTER TABLE turns ADD COLUMN override_score REAL",
            "ALTER TABLE calls ADD COLUMN reviewed_score REAL",
        ),
    ),
    Migration(
        3,
        "summaries for progress, team and report at scale",
        (
            """CREATE TABLE call_category (
                call_id TEXT NOT NULL, category TEXT NOT NULL, expected INTEGER NOT NULL, missed INTEGER NOT NULL,
                PRIMARY KEY (call_id, category)) WITHOUT ROWID""",
            """CREATE TABLE call_forbidden (
                call_id TEXT NOT NULL, phrase_id TEXT NOT NULL, phrase TEXT NOT NULL, suggest TEXT NOT NULL,
                severity TEXT NOT NULL, uses INTEGER NOT NULL,
                PRIMARY KEY (call_id, phrase_id)) WITHOUT ROWID""",
            """CREATE TABLE trainee_category (
                trainee TEXT NOT NULL, category TEXT NOT NULL, expected INTEGER NOT NULL, missed INTEGER NOT NULL,
                PRIMARY KEY (trainee, category)) WITHOUT ROWID""",
            """CREATE TABLE trainee_forbidden (
                trainee TEXT NOT NULL, phrase_id TEXT NOT NULL, phrase TEXT NOT NULL, suggest TEXT NOT NULL,
                severity TEXT NOT NULL, uses INTEGER NOT NULL,
                PRIMARY KEY (trainee, phrase_id)) WITHOUT ROWID""",
            # team and progress read these columns only: a covering index answers them without the table.
            """CREATE INDEX calls_trainee ON calls
                (trainee, status, started_at, score, reviewed_score, passed, scenario_id, call_id)""",
            # Backfill from calls saved before this migration.
            "CREATE TEMP TABLE IF NOT EXISTS refresh_ids (call_id TEXT PRIMARY KEY)",
            "DELETE FROM refresh_ids",
            "INSERT INTO refresh_ids SELECT call_id FROM calls",
            *_REFRESH_CATEGORIES_AND_FORBIDDEN,
            "DELETE FROM refresh_ids",
        ),
    ),
    Migration(
        4,
        "trainee index ordered by time then insertion",
        (
            # Two calls saved in the same second (scripted runs) keep their order: seq breaks the tie,
            # and with seq in the index "latest N complete calls" is still read straight off it.
            "DROP INDEX calls_trainee",
            """CREATE INDEX calls_trainee_time ON calls
                (trainee, status, started_at, seq, score, reviewed_score, passed, scenario_id, call_id)""",
        ),
    ),
    Migration(
        5,
        "substance: key points missed, contradictions and must-not breaches per call and trainee",
        (
            """CREATE TABLE call_substance (
                call_id TEXT NOT NULL, kind TEXT NOT NULL, scenario_id TEXT NOT NULL, item_id TEXT NOT NULL,
                uses INTEGER NOT NULL,
                PRIMARY KEY (call_id, kind, scenario_id, item_id)) WITHOUT ROWID""",
            """CREATE TABLE trainee_substance (
                trainee TEXT NOT NULL, kind TEXT NOT NULL, scenario_id TEXT NOT NULL, item_id TEXT NOT NULL,
                uses INTEGER NOT NULL,
                PRIMARY KEY (trainee, kind, scenario_id, item_id)) WITHOUT ROWID""",
            "CREATE TEMP TABLE IF NOT EXISTS refresh_ids (call_id TEXT PRIMARY KEY)",
            "DELETE FROM refresh_ids",
            "INSERT INTO refresh_ids SELECT call_id FROM calls",
            *_REFRESH_SUBSTANCE,
            "DELETE FROM refresh_ids",
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version


def applied_versions(conn: sqlite3.Connection) -> list[int]:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone()
    if not exists:
        return []
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> list[int]:
    """Apply the missing migrations in order, in one transaction; return the versions applied now.

    Safe when several processes open a new database at once: the write lock is taken before the
    applied versions are read, so each migration runs exactly once.
    """
    target = LATEST_VERSION if upto is None else upto
    done = applied_versions(conn)
    if done and max(done) > LATEST_VERSION:
        raise SchemaTooNew(
            f"历史数据库的结构版本 {max(done)} 比本程序支持的 {LATEST_VERSION} 新 - 请升级 hotline-trainer"
        )
    if done and max(done) >= target and len(done) >= target:
        return []
    applied_now = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done_set = set(applied_versions(conn))
        for migration in MIGRATIONS:
            if migration.version > target or migration.version in done_set:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utc_iso()),
            )
            applied_now.append(migration.version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied_now


def connect(path: str | Path) -> sqlite3.Connection:
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives the process dying (Ctrl-C, crash); only a power cut
        # can lose the last turns. FULL would cost an fsync per turn.
        conn.execute("PRAGMA synchronous = NORMAL")
        # No checkpoint inside a turn's commit: an automatic one copies the WAL into the database and
        # fsyncs, up to ~13 ms measured here, against 0.2 ms for the commit itself. The store
        # checkpoints when a call ends (nobody is waiting then), and SQLite does when the last
        # connection closes.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise TrainerError(f"无法打开历史数据库 {path}: {exc} - 检查路径, 或用 --db 指定另一个文件") from exc
    return conn


# --------------------------------------------------------------------------------------------
# What queries return.


@dataclass
class CallRow:
    """One line of ``history``: a call without its turns."""

    call_id: str
    trainee: str
    mentor: str
    scenario_id: str
    scenario_title: str
    mode: str
    started_at: str
    ended_at: str
    status: str
    end_reason: str
    call_s: float
    score: float | None  # the scorer's
    reviewed_score: float | None  # with the mentor's overrides; None when there are none
    passed: bool | None
    turn_count: int

    @property
    def effective_score(self) -> float | None:
        return self.reviewed_score if self.reviewed_score is not None else self.score

    def to_json(self) -> dict:
        from dataclasses import asdict

        data = asdict(self)
        data["effective_score"] = self.effective_score
        return data


@dataclass
class Review:
    id: int
    call_id: str
    turn_index: int | None  # None: about the whole call
    kind: str  # override | comment
    mentor: str
    original_score: float | None
    new_score: float | None
    reason: str
    text: str
    created_at: str

    def to_json(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class TeamRow:
    trainee: str
    calls: int
    complete: int
    passed: int
    best: float | None
    last_at: str


@dataclass
class ScoredCall:
    """A point of a trend: one complete call."""

    call_id: str
    started_at: str
    scenario_id: str
    score: float | None
    reviewed_score: float | None
    passed: bool | None

    @property
    def effective_score(self) -> float | None:
        return self.reviewed_score if self.reviewed_score is not None else self.score


@dataclass
class CategoryCount:
    trainee: str
    category: str
    expected: int
    missed: int


@dataclass
class ForbiddenCount:
    trainee: str
    phrase_id: str
    phrase: str
    suggest: str
    severity: str
    uses: int
    last_used: str = ""


@dataclass
class SubstanceCount:
    """How often a trainee missed a key point, stated it wrong (contradiction) or broke a must-not rule."""

    trainee: str
    kind: str  # one of SUBSTANCE_KINDS
    scenario_id: str
    item_id: str  # key point id, or must-not id
    uses: int


@dataclass
class ScenarioResult:
    scenario_id: str
    scenario_title: str
    attempts: int
    complete: int
    passed: int
    best: float | None
    last_at: str


@dataclass
class WeekPoint:
    week: str  # the Monday, YYYY-MM-DD (UTC)
    calls: int
    mean: float | None
    best: float | None


_CALL_COLUMNS = (
    "call_id, trainee, mentor, scenario_id, scenario_title, mode, started_at, ended_at, status, end_reason, "
    "call_s, score, reviewed_score, passed, turn_count"
)
_TURN_COLUMNS = (
    "idx, turn_id, caller_line, reply, source, response_s, categories, expected, missed, forbidden, points_hit, "
    "points_missed, score, reasons, analysis, asked_repeat, retry_of, counted, confidence, audio_path, speech, "
    "comment, next_turn, at"
)
_TURN_JSON_FIELDS = ("categories", "expected", "missed", "forbidden", "points_hit", "points_missed", "reasons")
_UPSERT_TURN = f"""
INSERT INTO turns (call_id, {_TURN_COLUMNS}) VALUES ({", ".join("?" * 25)})
ON CONFLICT (call_id, idx) DO UPDATE SET
  turn_id = excluded.turn_id, caller_line = excluded.caller_line, reply = excluded.reply, source = excluded.source,
  response_s = excluded.response_s, categories = excluded.categories, expected = excluded.expected,
  missed = excluded.missed, forbidden = excluded.forbidden, points_hit = excluded.points_hit,
  points_missed = excluded.points_missed, score = excluded.score, reasons = excluded.reasons,
  analysis = excluded.analysis, asked_repeat = excluded.asked_repeat, retry_of = excluded.retry_of,
  counted = excluded.counted, confidence = excluded.confidence, audio_path = excluded.audio_path,
  speech = excluded.speech, comment = excluded.comment, next_turn = excluded.next_turn, at = excluded.at"""
_INSERT_CALL = """
INSERT INTO calls (call_id, trainee, mentor, scenario_id, scenario_hash, scenario_title, mode, variables, seed,
                   started_at, ended_at, status, end_reason, time_limit_s, call_s, score, passed, scorecard, turn_count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_EFFECTIVE = "COALESCE(reviewed_score, score)"
# The Monday on or before the call's (UTC) date: back six days, then forward to the next Monday.
_WEEK = "date(substr(started_at, 1, 10), '-6 days', 'weekday 1')"


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _turn_params(call_id: str, turn: TurnRecord) -> tuple:
    if not turn.at:
        turn.at = utc_iso()
    return (
        call_id,
        turn.index,
        turn.turn_id,
        turn.caller_line,
        turn.reply,
        turn.source,
        float(turn.response_s or 0.0),
        *(_dumps(getattr(turn, name)) for name in _TURN_JSON_FIELDS[:6]),
        turn.score,
        _dumps(turn.reasons),
        _dumps(turn.analysis),
        int(bool(turn.asked_repeat)),
        turn.retry_of,
        int(bool(turn.counted)),
        turn.confidence,
        turn.audio_path,
        _dumps(turn.speech),
        turn.comment or "",
        turn.next_turn,
        turn.at,
    )


def _call_params(call: CallRecord, status: str, score: float | None, passed: bool | None) -> tuple:
    return (
        call.call_id,
        call.trainee,
        call.mentor or "",
        call.scenario_id,
        call.scenario_hash or "",
        call.scenario_title or "",
        call.mode or "mentor",
        _dumps(call.variables),
        call.seed,
        utc_iso(call.started_at),
        utc_iso(call.ended_at) if call.ended_at else "",
        status,
        call.end_reason or "",
        int(call.time_limit_s or 0),
        float(call.call_s or 0.0),
        score,
        None if passed is None else int(bool(passed)),
        _dumps(call.scorecard),
        len(call.turns),
    )


def _final_status(call: CallRecord) -> str:
    # A call still marked in progress when it ends was cut off before the session could say why.
    return call.status if call.status in (COMPLETE, INCOMPLETE) else INCOMPLETE


def _call_score(call: CallRecord) -> tuple[float | None, bool | None]:
    """The scorer's overall score and verdict; for a call cut off without a scorecard, the mean of its turns."""
    score = call.scorecard.get("score") if call.scorecard else None
    passed = call.scorecard.get("passed") if call.scorecard else None
    if score is None:
        scored = [t.score for t in call.turns if t.counted and t.score is not None]
        score = round(sum(scored) / len(scored), 1) if scored else None
    return (None if score is None else float(score)), passed


def _row_to_call(row: sqlite3.Row | tuple) -> CallRow:
    values = list(row)
    values[13] = None if values[13] is None else bool(values[13])
    return CallRow(*values)


# --------------------------------------------------------------------------------------------


class HistoryStore:
    """The history of practice calls in one database file. Implements ``simulator.record.CallSink``.

    A session calls ``call_started`` once, ``turn_scored`` after each scored reply (each turn is
    committed at once, so Ctrl-C or a crash loses nothing already answered; calling it again for
    the same index updates the turn, e.g. after the mentor's comment) and ``call_ended`` once.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        self._conn = connect(self.path)
        self._lock = threading.Lock()  # one connection; a session may score on a worker thread
        try:
            migrate(self._conn)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise TrainerError(f"历史数据库 {self.path} 无法使用: {exc} - 用 --db 指定另一个文件") from exc
        self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS refresh_ids (call_id TEXT PRIMARY KEY)")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # ---- CallSink ----------------------------------------------------------------------------

    def call_started(self, call: CallRecord) -> None:
        if not call.call_id:
            call.call_id = new_call_id()
        if not call.started_at:
            call.started_at = utc_iso()
        with self._write() as conn:
            conn.execute(_INSERT_CALL, _call_params(call, IN_PROGRESS, None, None))

    def turn_scored(self, call: CallRecord, turn: TurnRecord) -> None:
        with self._write() as conn:
            self._ensure_call(conn, call)
            conn.execute(_UPSERT_TURN, _turn_params(call.call_id, turn))
            superseded = [(call.call_id, t.index) for t in call.turns if not t.counted and t.index != turn.index]
            if turn.retry_of is not None:
                superseded.append((call.call_id, turn.retry_of))
            if superseded:
                conn.executemany("UPDATE turns SET counted = 0 WHERE call_id = ? AND idx = ?", superseded)
            conn.execute(
                "UPDATE calls SET turn_count = (SELECT COUNT(*) FROM turns WHERE call_id = ?), call_s = ? "
                "WHERE call_id = ?",
                (call.call_id, float(call.call_s or 0.0), call.call_id),
            )
            self._refresh(conn, [call.call_id])

    def call_ended(self, call: CallRecord) -> None:
        status = _final_status(call)
        score, passed = _call_score(call)
        if not call.ended_at:
            call.ended_at = utc_iso()
        with self._write() as conn:
            self._ensure_call(conn, call)
            # Turns may have changed after they were scored (a mentor's comment, a retry): store them all.
            conn.executemany(_UPSERT_TURN, [_turn_params(call.call_id, t) for t in call.turns])
            conn.execute(
                "UPDATE calls SET ended_at = ?, status = ?, end_reason = ?, call_s = ?, score = ?, passed = ?, "
                "scorecard = ?, turn_count = (SELECT COUNT(*) FROM turns WHERE call_id = ?) WHERE call_id = ?",
                (
                    utc_iso(call.ended_at),
                    status,
                    call.end_reason or "",
                    float(call.call_s or 0.0),
                    score,
                    None if passed is None else int(bool(passed)),
                    _dumps(call.scorecard),
                    call.call_id,
                    call.call_id,
                ),
            )
            self._refresh(conn, [call.call_id])
            self._refresh_reviewed_score(conn, call.call_id)
        self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database without waiting for readers (PASSIVE)."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _ensure_call(self, conn: sqlite3.Connection, call: CallRecord) -> None:
        """A session that skipped ``call_started`` (or whose first write failed) still loses nothing."""
        if not call.call_id:
            call.call_id = new_call_id()
        if not call.started_at:
            call.started_at = utc_iso()
        conn.execute(_INSERT_CALL.replace("INSERT", "INSERT OR IGNORE", 1), _call_params(call, IN_PROGRESS, None, None))

    def _refresh(self, conn: sqlite3.Connection, call_ids: Iterable[str]) -> None:
        conn.execute("DELETE FROM refresh_ids")
        conn.executemany("INSERT OR IGNORE INTO refresh_ids (call_id) VALUES (?)", [(c,) for c in call_ids])
        for statement in _REFRESH_SUMMARIES:
            conn.execute(statement)
        conn.execute("DELETE FROM refresh_ids")

    # ---- bulk ------------------------------------------------------------------------------------

    def import_calls(self, calls: Iterable[CallRecord]) -> int:
        """Save finished calls in one transaction (merging another database, the benchmark's fill)."""
        calls = list(calls)
        with self._write() as conn:
            call_rows, turn_rows = [], []
            for call in calls:
                if not call.call_id:
                    call.call_id = new_call_id()
                score, passed = _call_score(call)
                status = call.status if call.status in (COMPLETE, INCOMPLETE, IN_PROGRESS) else INCOMPLETE
                call_rows.append(_call_params(call, status, score, passed))
                turn_rows.extend(_turn_params(call.call_id, t) for t in call.turns)
            conn.executemany(_INSERT_CALL, call_rows)
            conn.executemany(_UPSERT_TURN, turn_rows)
            self._refresh(conn, [c.call_id for c in calls])
        self.checkpoint()
        return len(calls)

    def rebuild_summaries(self) -> None:
        """Recompute every summary table from the turns (after a manual edit of the database)."""
        with self._write() as conn:
            for table in _SUMMARY_TABLES:
                conn.execute(f"DELETE FROM {table}")
            self._refresh(conn, [row[0] for row in conn.execute("SELECT call_id FROM calls")])
        self.checkpoint()

    # ---- calls -----------------------------------------------------------------------------------

    def resolve_call_id(self, prefix: str) -> str:
        """The full id of the one call whose id starts with ``prefix`` (at least 4 characters, like git)."""
        prefix = prefix.strip().lower()
        exact = self._read("SELECT call_id FROM calls WHERE call_id = ?", (prefix,))
        if exact:
            return exact[0][0]
        if len(prefix) < MIN_PREFIX:
            raise NotFound(f"没有编号为 {prefix!r} 的通话 - 编号前缀至少 {MIN_PREFIX} 位, 用 history 查看编号")
        rows = self._read(
            "SELECT call_id FROM calls WHERE call_id >= ? AND call_id < ? ORDER BY call_id LIMIT 6",
            (prefix, prefix + "\U0010ffff"),
        )
        if not rows:
            raise NotFound(f"没有编号以 {prefix!r} 开头的通话 - 用 history 查看编号")
        if len(rows) > 1:
            shown = ", ".join(r[0] for r in rows[:5])
            raise AmbiguousId(f"编号前缀 {prefix!r} 对应多个通话 ({shown}…) - 请多输入几位")
        return rows[0][0]

    def get_call(self, call_id: str) -> CallRecord:
        """The call as the session saved it (original scores; overrides are in ``reviews``)."""
        rows = self._read(
            "SELECT call_id, trainee, scenario_id, scenario_hash, scenario_title, mentor, mode, variables, seed, "
            "started_at, ended_at, status, end_reason, time_limit_s, call_s, scorecard FROM calls WHERE call_id = ?",
            (call_id,),
        )
        if not rows:
            raise NotFound(f"没有编号为 {call_id!r} 的通话 - 用 history 查看编号")
        (cid, trainee, scenario_id, scenario_hash, title, mentor, mode, variables, seed, started, ended, status,
         end_reason, time_limit_s, call_s, scorecard) = rows[0]  # fmt: skip
        turns = [
            _row_to_turn(r)
            for r in self._read(f"SELECT {_TURN_COLUMNS} FROM turns WHERE call_id = ? ORDER BY idx", (call_id,))
        ]
        return CallRecord(
            call_id=cid,
            trainee=trainee,
            scenario_id=scenario_id,
            scenario_hash=scenario_hash,
            scenario_title=title,
            mentor=mentor,
            mode=mode,
            variables=json.loads(variables),
            seed=seed,
            started_at=started,
            ended_at=ended,
            status=status,
            end_reason=end_reason,
            time_limit_s=time_limit_s,
            call_s=call_s,
            turns=turns,
            scorecard=json.loads(scorecard),
        )

    def get_call_row(self, call_id: str) -> CallRow:
        rows = self._read(f"SELECT {_CALL_COLUMNS} FROM calls WHERE call_id = ?", (call_id,))
        if not rows:
            raise NotFound(f"没有编号为 {call_id!r} 的通话 - 用 history 查看编号")
        return _row_to_call(rows[0])

    def turn_overrides(self, call_id: str) -> dict[int, float]:
        """The latest override of each overridden turn."""
        rows = self._read(
            "SELECT idx, override_score FROM turns WHERE call_id = ? AND override_score IS NOT NULL", (call_id,)
        )
        return {idx: score for idx, score in rows}

    def list_calls(
        self,
        *,
        trainee: str | None = None,
        scenario: str | None = None,
        since: str | None = None,
        until: str | None = None,
        status: str | None = None,
        mentor: str | None = None,
        limit: int | None = 50,
    ) -> list[CallRow]:
        """Newest first. ``since``/``until``: ISO times or dates (a date means local midnight)."""
        where, params = [], []
        for column, value in (("trainee", trainee), ("scenario_id", scenario), ("status", status), ("mentor", mentor)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since:
            where.append("started_at >= ?")
            params.append(utc_iso(since))
        if until:
            where.append("started_at < ?")
            params.append(utc_iso(until))
        sql = f"SELECT {_CALL_COLUMNS} FROM calls"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, seq DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_row_to_call(r) for r in self._read(sql, params)]

    def count_calls(self) -> int:
        return self._read("SELECT COUNT(*) FROM calls")[0][0]

    # ---- reviews ---------------------------------------------------------------------------------

    def add_override(self, call_id: str, turn_index: int, score: float, reason: str, mentor: str = "") -> Review:
        """Override a turn's score. The scorer's score stays in the turn; every override is kept."""
        if not reason or not reason.strip():
            raise TrainerError("改分必须写明理由 - 请加上 --reason 理由")
        if not 0 <= score <= 100:
            raise TrainerError(f"分数 {score:g} 超出范围 - 请给 0 到 100 之间的分数")
        with self._write() as conn:
            found = conn.execute(
                "SELECT score, asked_repeat FROM turns WHERE call_id = ? AND idx = ?", (call_id, turn_index)
            ).fetchone()
            if found is None:
                count = conn.execute("SELECT COUNT(*) FROM turns WHERE call_id = ?", (call_id,)).fetchone()[0]
                raise NotFound(f"通话 {call_id} 没有第 {turn_index + 1} 轮 - 这通电话共 {count} 轮, 用 history show 查看")
            original, _asked_repeat = found
            if original is None:
                raise TrainerError(f"第 {turn_index + 1} 轮没有评分(系统请学员重说) - 只能给已评分的轮次改分")
            review_id = conn.execute(
                "INSERT INTO reviews (call_id, turn_idx, kind, mentor, original_score, new_score, reason, created_at) "
                "VALUES (?, ?, 'override', ?, ?, ?, ?, ?)",
                (call_id, turn_index, mentor or "", original, float(score), reason.strip(), utc_iso()),
            ).lastrowid
            conn.execute(
                "UPDATE turns SET override_score = ? WHERE call_id = ? AND idx = ?", (float(score), call_id, turn_index)
            )
            self._refresh_reviewed_score(conn, call_id)
        return self._review(review_id)

    def add_comment(self, call_id: str, text: str, mentor: str = "", turn_index: int | None = None) -> Review:
        if not text or not text.strip():
            raise TrainerError("评语是空的 - 请在 --comment 后写上内容")
        with self._write() as conn:
            if turn_index is not None:
                found = conn.execute("SELECT 1 FROM turns WHERE call_id = ? AND idx = ?", (call_id, turn_index))
                if found.fetchone() is None:
                    raise NotFound(f"通话 {call_id} 没有第 {turn_index + 1} 轮 - 用 history show 查看轮次")
            review_id = conn.execute(
                "INSERT INTO reviews (call_id, turn_idx, kind, mentor, text, created_at) "
                "VALUES (?, ?, 'comment', ?, ?, ?)",
                (call_id, turn_index, mentor or "", text.strip(), utc_iso()),
            ).lastrowid
        return self._review(review_id)

    def _refresh_reviewed_score(self, conn: sqlite3.Connection, call_id: str) -> None:
        """The call score with overrides: the scorer's call score moved by the mean change of its counted turns.

        The scorer's call score is kept as it was; this is shown beside it.
        """
        counted, delta, overrides = conn.execute(
            "SELECT COUNT(*), SUM(COALESCE(override_score, score) - score), SUM(override_score IS NOT NULL) "
            "FROM turns WHERE call_id = ? AND counted AND score IS NOT NULL",
            (call_id,),
        ).fetchone()
        reviewed = None
        if overrides:
            (score,) = conn.execute("SELECT score FROM calls WHERE call_id = ?", (call_id,)).fetchone()
            if score is not None:
                reviewed = round(min(100.0, max(0.0, score + delta / counted)), 1)
        conn.execute("UPDATE calls SET reviewed_score = ? WHERE call_id = ?", (reviewed, call_id))

    def _review(self, review_id: int) -> Review:
        rows = self._read(f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE id = ?", (review_id,))
        return Review(*rows[0])

    def reviews(self, call_id: str) -> list[Review]:
        rows = self._read(f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE call_id = ? ORDER BY id", (call_id,))
        return [Review(*r) for r in rows]

    def recent_reviews(self, trainee: str | None = None, limit: int = 200) -> list[tuple[Review, str, str]]:
        """The latest reviews, each with the trainee of the call and the reply of the turn reviewed."""
        columns = ", ".join("r." + c.strip() for c in _REVIEW_COLUMNS.split(","))
        sql = (
            f"SELECT {columns}, c.trainee, COALESCE(t.reply, '') FROM reviews r "
            "JOIN calls c ON c.call_id = r.call_id LEFT JOIN turns t ON t.call_id = r.call_id AND t.idx = r.turn_idx"
        )
        params: list = []
        if trainee is not None:
            sql += " WHERE c.trainee = ?"
            params.append(trainee)
        sql += " ORDER BY r.id DESC LIMIT ?"
        params.append(limit)
        return [(Review(*r[:-2]), r[-2], r[-1]) for r in self._read(sql, params)]

    # ---- aggregates for progress, team and the report ------------------------------------------

    def trainees(self) -> list[str]:
        # A skip-scan over the covering index: one probe per trainee, not one per call.
        return [r[0] for r in self._read("SELECT DISTINCT trainee FROM calls ORDER BY trainee")]

    def mentors(self) -> list[str]:
        rows = self._read(
            "SELECT mentor FROM calls WHERE mentor != '' UNION SELECT mentor FROM reviews WHERE mentor != '' ORDER BY 1"
        )
        return [r[0] for r in rows]

    def team_rows(self) -> list[TeamRow]:
        rows = self._read(
            f"SELECT trainee, COUNT(*), SUM(status = 'complete'), SUM(status = 'complete' AND passed), "
            f"MAX(CASE WHEN status = 'complete' THEN {_EFFECTIVE} END), MAX(started_at) "
            "FROM calls GROUP BY trainee ORDER BY trainee"
        )
        return [TeamRow(t, n, c or 0, p or 0, best, last) for t, n, c, p, best, last in rows]

    def scored_calls(self, trainee: str, last: int | None = None) -> list[ScoredCall]:
        """A trainee's complete calls, oldest first (the last ``last`` only, when given)."""
        sql = (
            "SELECT call_id, started_at, scenario_id, score, reviewed_score, passed FROM calls "
            "WHERE trainee = ? AND status = 'complete' ORDER BY started_at DESC, seq DESC"
        )
        params: list = [trainee]
        if last:
            sql += " LIMIT ?"
            params.append(last)
        rows = self._read(sql, params)
        return [ScoredCall(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5])) for r in reversed(rows)]

    def status_counts(self, trainee: str) -> dict[str, int]:
        rows = self._read("SELECT status, COUNT(*) FROM calls WHERE trainee = ? GROUP BY status", (trainee,))
        return dict(rows)

    def category_totals(self, trainee: str | None = None) -> list[CategoryCount]:
        sql = "SELECT trainee, category, expected, missed FROM trainee_category WHERE expected > 0"
        params: tuple = ()
        if trainee is not None:
            sql += " AND trainee = ?"
            params = (trainee,)
        return [CategoryCount(*r) for r in self._read(sql + " ORDER BY trainee, category", params)]

    def recent_category_totals(self, trainee: str, last_calls: int) -> list[CategoryCount]:
        rows = self._read(
            "SELECT ?, cc.category, SUM(cc.expected), SUM(cc.missed) FROM call_category cc "
            "WHERE cc.call_id IN (SELECT call_id FROM calls WHERE trainee = ? ORDER BY started_at DESC, seq DESC LIMIT ?) "
            "GROUP BY cc.category ORDER BY cc.category",
            (trainee, trainee, last_calls),
        )
        return [CategoryCount(*r) for r in rows]

    def category_by_week(self, trainee: str) -> dict[str, dict[str, tuple[int, int]]]:
        """Week (Monday, UTC) -> category -> (expected, missed), over all the trainee's calls."""
        rows = self._read(
            f"SELECT {_WEEK} AS wk, cc.category, SUM(cc.expected), SUM(cc.missed) "
            "FROM calls c JOIN call_category cc ON cc.call_id = c.call_id WHERE c.trainee = ? "
            "GROUP BY wk, cc.category",
            (trainee,),
        )
        weeks: dict[str, dict[str, tuple[int, int]]] = {}
        for week, category, expected, missed in rows:
            weeks.setdefault(week, {})[category] = (expected, missed)
        return weeks

    def forbidden_totals(self, trainee: str | None = None) -> list[ForbiddenCount]:
        """Uses of each forbidden phrase, per trainee (all trainees when None)."""
        sql = "SELECT trainee, phrase_id, phrase, suggest, severity, uses FROM trainee_forbidden WHERE uses > 0"
        params: tuple = ()
        if trainee is not None:
            sql += " AND trainee = ?"
            params = (trainee,)
        return [ForbiddenCount(*r) for r in self._read(sql + " ORDER BY trainee, uses DESC", params)]

    def forbidden_recent(self, trainee: str, last_calls: int) -> list[ForbiddenCount]:
        """Forbidden phrases used in the trainee's last calls, with when each was last used."""
        rows = self._read(
            "SELECT ?, cf.phrase_id, MAX(cf.phrase), MAX(cf.suggest), MAX(cf.severity), SUM(cf.uses), "
            "MAX(c.started_at) FROM (SELECT call_id, started_at FROM calls WHERE trainee = ? "
            "ORDER BY started_at DESC, seq DESC LIMIT ?) c JOIN call_forbidden cf ON cf.call_id = c.call_id "
            "GROUP BY cf.phrase_id ORDER BY SUM(cf.uses) DESC",
            (trainee, trainee, last_calls),
        )
        return [ForbiddenCount(*r) for r in rows]

    def substance_totals(self, trainee: str | None = None) -> list[SubstanceCount]:
        """Key points missed, contradictions and must-not breaches, per trainee, scenario and id."""
        sql = "SELECT trainee, kind, scenario_id, item_id, uses FROM trainee_substance WHERE uses > 0"
        params: tuple = ()
        if trainee is not None:
            sql += " AND trainee = ?"
            params = (trainee,)
        return [SubstanceCount(*r) for r in self._read(sql + " ORDER BY trainee, kind, uses DESC, item_id", params)]

    def substance_recent(self, trainee: str, last_calls: int) -> list[SubstanceCount]:
        rows = self._read(
            "SELECT ?, cs.kind, cs.scenario_id, cs.item_id, SUM(cs.uses) FROM call_substance cs "
            "WHERE cs.call_id IN (SELECT call_id FROM calls WHERE trainee = ? ORDER BY started_at DESC, seq DESC LIMIT ?) "
            "GROUP BY cs.kind, cs.scenario_id, cs.item_id",
            (trainee, trainee, last_calls),
        )
        return [SubstanceCount(*r) for r in rows]

    def scenario_results(self, trainee: str) -> list[ScenarioResult]:
        rows = self._read(
            f"SELECT scenario_id, MAX(scenario_title), COUNT(*), SUM(status = 'complete'), "
            f"SUM(status = 'complete' AND passed), MAX(CASE WHEN status = 'complete' THEN {_EFFECTIVE} END), "
            "MAX(started_at) FROM calls WHERE trainee = ? GROUP BY scenario_id ORDER BY scenario_id",
            (trainee,),
        )
        return [ScenarioResult(s, t or "", n, c or 0, p or 0, best, last) for s, t, n, c, p, best, last in rows]

    def weekly_scores(self, trainee: str | None = None) -> list[WeekPoint]:
        """Mean and best score of complete calls per week (Monday, UTC)."""
        sql = (
            f"SELECT {_WEEK} AS wk, COUNT(*), AVG({_EFFECTIVE}), MAX({_EFFECTIVE}) FROM calls "
            "WHERE status = 'complete'"
        )
        params: tuple = ()
        if trainee is not None:
            sql += " AND trainee = ?"
            params = (trainee,)
        return [WeekPoint(*r) for r in self._read(sql + " GROUP BY wk ORDER BY wk", params)]

    def pseudonym_secret(self) -> bytes:
        (value,) = self._read("SELECT value FROM meta WHERE key = 'pseudonym_secret'")[0]
        return bytes.fromhex(value)

    def schema_versions(self) -> list[int]:
        with self._lock:
            return applied_versions(self._conn)


_REVIEW_COLUMNS = (
    "id, call_id, turn_idx, kind, mentor, original_score, new_score, reason, text, created_at"
)


def _row_to_turn(row: tuple) -> TurnRecord:
    (idx, turn_id, caller_line, reply, source, response_s, categories, expected, missed, forbidden, points_hit,
     points_missed, score, reasons, analysis, asked_repeat, retry_of, counted, confidence, audio_path, speech,
     comment, next_turn, at) = row  # fmt: skip
    analysis = json.loads(analysis)
    return TurnRecord(
        index=idx,
        turn_id=turn_id,
        caller_line=caller_line,
        reply=reply,
        source=source,
        response_s=response_s,
        categories=json.loads(categories),
        expected=json.loads(expected),
        missed=json.loads(missed),
        forbidden=json.loads(forbidden),
        points_hit=json.loads(points_hit),
        points_missed=json.loads(points_missed),
        score=score,
        reasons=json.loads(reasons),
        analysis=analysis,
        contradictions=analysis.get("contradictions", []),
        must_not=analysis.get("must_not", []),
        asked_repeat=bool(asked_repeat),
        retry_of=retry_of,
        counted=bool(counted),
        confidence=confidence,
        audio_path=audio_path,
        speech=json.loads(speech),
        comment=comment,
        next_turn=next_turn,
        at=at,
    )

