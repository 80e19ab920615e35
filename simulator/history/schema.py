"""The history database's schema: numbered migrations, applied in order when a store opens.

Each applied migration is recorded in ``schema_migrations``. Never edit one that has shipped (a test holds the SQL
of each): add the next number instead. The statements are written in SQLite's types; each backend's ``ddl``
gives them in its own, and ``postgresql`` replaces the few that use SQLite's functions. A summary backfill is
named (``Backfill``), not written out: it runs the current summary statements, which compute the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from core.errors import TrainerError
from simulator.history import summaries
from simulator.history.location import POSTGRESQL
from simulator.history.rows import utc_iso


class SchemaTooNew(TrainerError):
    """The database was migrated by a newer version of the trainer."""


@dataclass(frozen=True)
class Backfill:
    """Recompute a group of summaries (``summaries.REFRESH_*``) for the calls already saved."""

    group: str

    def statements(self, d: ModuleType) -> tuple[str, ...]:
        return summaries.backfill(d, getattr(summaries, self.group))


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str | Backfill, ...]
    postgresql: dict[int, str] = field(default_factory=dict)  # statement index -> PostgreSQL's own

    def for_backend(self, d: ModuleType, *, backfills: bool = True) -> list[str]:
        """The statements as the backend ``d`` runs them (``backfills=False``: each backfill by its name only)."""
        own = self.postgresql if d.NAME == POSTGRESQL else {}
        out: list[str] = []
        for i, statement in enumerate(self.statements):
            if isinstance(statement, Backfill):
                out.extend(statement.statements(d) if backfills else [f"-- backfill {statement.group}"])
            else:
                out.append(own.get(i) or d.ddl(statement))
        return out


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
        # 256 random bits from two version-4 UUIDs (built into PostgreSQL 13 and later), hashed to 32 bytes.
        postgresql={
            1: "INSERT INTO meta (key, value) VALUES ('pseudonym_secret', "
            "encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'hex'))"
        },
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
            Backfill("REFRESH_CATEGORIES_AND_FORBIDDEN"),
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
            Backfill("REFRESH_SUBSTANCE"),
        ),
    ),
    Migration(
        6,
        "work order score per call",
        (
            "ALTER TABLE calls ADD COLUMN work_order_score REAL",
            "UPDATE calls SET work_order_score = json_extract(scorecard, '$.work_order.score')",
        ),
        postgresql={
            1: "UPDATE calls SET work_order_score = (scorecard::jsonb #>> '{work_order,score}')::double precision"
        },
    ),
    Migration(
        7,
        "people with roles, assignments, the audit trail",
        (
            """CREATE TABLE users (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL CHECK (role IN ('trainee', 'mentor', 'supervisor')),
                mentor TEXT NOT NULL DEFAULT '',
                cohort TEXT NOT NULL DEFAULT '',
                password_hash TEXT,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE assignments (
                id INTEGER PRIMARY KEY,
                scenario_id TEXT NOT NULL,
                trainee TEXT NOT NULL,
                cohort TEXT NOT NULL DEFAULT '',
                due TEXT NOT NULL,
                exam INTEGER NOT NULL DEFAULT 0,
                min_score REAL NOT NULL,
                assigned_by TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX assignments_trainee ON assignments (trainee, due)",
            "ALTER TABLE calls ADD COLUMN assignment_id INTEGER",
            """CREATE TABLE audit (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL DEFAULT '',
                action TEXT NOT NULL,
                subject TEXT NOT NULL DEFAULT '',
                detail TEXT NOT NULL DEFAULT '{}'
            )""",
            "CREATE INDEX audit_at ON audit (at)",
        ),
    ),
    Migration(
        8,
        "per-trainee call totals for team at scale",
        (
            """CREATE TABLE trainee_calls (
                trainee TEXT NOT NULL PRIMARY KEY, calls INTEGER NOT NULL, complete INTEGER NOT NULL,
                passed INTEGER NOT NULL, best REAL, last_at TEXT NOT NULL, work_order_sum REAL,
                work_order_n INTEGER NOT NULL)""",
            Backfill("REFRESH_TRAINEE_CALLS"),
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version


def applied_versions(conn, d: ModuleType) -> list[int]:
    if not d.table_exists(conn, "schema_migrations"):
        return []
    return [row["version"] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate(conn, d: ModuleType, upto: int | None = None) -> list[int]:
    """Apply the missing migrations in order, in one transaction; return the versions applied now.

    Safe when several processes open a new database at once: the write lock is taken before the
    applied versions are read, so each migration runs exactly once.
    """
    target = LATEST_VERSION if upto is None else upto
    done = applied_versions(conn, d)
    if done and max(done) > LATEST_VERSION:
        raise SchemaTooNew(
            f"历史数据库的结构版本 {max(done)} 比本程序支持的 {LATEST_VERSION} 新 - 请升级 hotline-trainer"
        )
    if done and max(done) >= target and len(done) >= target:
        return []
    applied_now = []
    with d.write_transaction(conn):
        conn.execute(
            d.ddl(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        )
        done_set = set(applied_versions(conn, d))
        for migration in MIGRATIONS:
            if migration.version > target or migration.version in done_set:
                continue
            for statement in migration.for_backend(d):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utc_iso()),
            )
            applied_now.append(migration.version)
    return applied_now
