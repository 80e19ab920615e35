"""The PostgreSQL adapter of the history store: a training centre's shared database, through psycopg 3.

Every seat points ``--db`` (or ``$HOTLINE_DB``) at one server: ``postgresql://user:password@host:5432/dbname``.
The names every adapter provides are listed in ``dialect.py``. The store's statements are written once, with
SQLite's ``?`` and ``:name`` placeholders; ``Connection.execute`` translates them to psycopg's. Text columns use
the "C" collation, so names sort and call-id prefixes compare by code point exactly as on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import FloatLoader

from core.errors import TrainerError

if TYPE_CHECKING:
    from simulator.history.location import Location

NAME = "postgresql"
DatabaseError = psycopg.Error
CONNECT_TIMEOUT_S = 10
# One writer at a time, as on SQLite: a turn's write moves its trainee's summary totals row by row in no fixed
# order, and two such transactions at once could deadlock; migrations must run exactly once. A write holds the
# lock for a few milliseconds.
WRITE_LOCK_KEY = 12368


class Row(tuple):
    """A result row read by position or by column name, like ``sqlite3.Row``."""

    _names: tuple[str, ...] = ()
    _index: Mapping[str, int] = {}

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: psycopg.Cursor) -> Any:
    if cursor.description is None:
        return tuple
    names = tuple(column.name for column in cursor.description)
    return type("Row", (Row,), {"_names": names, "_index": {name: i for i, name in enumerate(names)}})


_TOKEN = re.compile(r"'(?:[^']|'')*'|::|:(\w+)|\?|%")


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """``?`` -> ``%s``, ``:name`` -> ``%(name)s``, a literal ``%`` -> ``%%``; casts (``::``) kept."""

    def token(match: re.Match) -> str:
        text = match.group(0)
        if text.startswith("'"):
            return text.replace("%", "%%")
        if text == "::":
            return text
        if match.group(1):
            return f"%({match.group(1)})s"
        return "%s" if text == "?" else "%%"

    return _TOKEN.sub(token, sql)


class Connection:
    """The part of a DB-API connection the store uses, over an autocommit psycopg connection."""

    def __init__(self, raw: psycopg.Connection):
        self._raw = raw

    def execute(self, sql: str, params: Sequence | Mapping = ()) -> psycopg.Cursor:
        cursor = self._raw.cursor()
        cursor.execute(translate(sql), params if isinstance(params, Mapping) else list(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence | Mapping]) -> None:
        rows = list(rows)
        if rows:
            with self._raw.cursor() as cursor:
                cursor.executemany(translate(sql), rows)

    def pipeline(self) -> psycopg.Pipeline:
        return self._raw.pipeline()

    @property
    def in_transaction(self) -> bool:
        return self._raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self._raw.close()


def connect(location: Location, *, create: bool = True) -> Connection:
    """A connection to the server, refusing a database that holds another program's tables. ``create=False``
    (reading commands): a database without the store's tables is an error, not migrated."""
    try:
        raw = psycopg.connect(
            location.target,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="hotline-trainer",
            row_factory=_row_factory,
        )
    except psycopg.Error as exc:
        raise TrainerError(f"无法连接成绩数据库 {location}: {describe(exc)}") from exc
    # AVG of integers comes back as numeric; the rows hold floats, as on SQLite.
    raw.adapters.register_loader("numeric", FloatLoader)
    conn = Connection(raw)
    try:
        # The summary statements read JSON arrays the planner cannot size; it overestimates them a thousandfold and
        # compiles each statement with JIT, 0.5-1 s per statement, for work that takes a millisecond.
        conn.execute("SET jit = off")
        # The durability of the SQLite store (WAL, synchronous=NORMAL): a turn is safe once committed whatever happens
        # to the trainee's program; only the server losing power can lose the last moment of turns. Waiting for the
        # server's disk on every turn would cost a flush per reply.
        conn.execute("SET synchronous_commit = off")
        tables = {r["tablename"] for r in conn.execute(_TABLES)}
    except psycopg.Error as exc:
        conn.close()
        raise TrainerError(f"无法读取成绩数据库 {location}: {describe(exc)}") from exc
    if tables and "schema_migrations" not in tables:
        conn.close()
        raise TrainerError(
            f"{location} 不是本工具的成绩数据库 (里面有别的程序的表) - 用 --db 指定为培训中心建的库, 它没有被改动"
        )
    if not tables and not create:
        conn.close()
        raise TrainerError(
            f"成绩数据库 {location} 还是空的 - 先运行 run_training.py db migrate --db 同一地址, 或练习一通电话"
        )
    return conn


_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"


def describe(exc: Exception) -> str:
    """A PostgreSQL or connection error in words a supervisor can act on."""
    state = getattr(exc, "sqlstate", None)
    text = str(exc)
    if state in ("28P01", "28000") or "password authentication failed" in text or "no password supplied" in text:
        return "用户名或密码不对 (检查地址里的用户和密码, 或服务器的 pg_hba.conf)"
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return "服务器上没有这个库 (请管理员先建库: createdb 库名)"
    if state == "42501" or "permission denied" in text:
        return "没有权限 (请管理员授予这个用户建表和读写的权限)"
    if state == "53100" or "No space left" in text:
        return "服务器磁盘已满"
    if "timeout" in text.lower():
        return "连接超时 (检查主机名和网络)"
    if "refused" in text or "could not connect" in text or "connection failed" in text or "Is the server" in text:
        return "连不上服务器 (检查主机和端口, 服务器是否在运行)"
    if "terminating connection" in text or "server closed the connection" in text:
        return "服务器断开了连接 (服务器重启了? 请重试)"
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@contextmanager
def write_transaction(conn: Connection) -> Iterator[Connection]:
    """One transaction under the write lock, its statements pipelined: a turn's write is some twenty statements,
    sent without waiting for each answer (psycopg waits where a result is read)."""
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
            yield conn
            conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                pass  # the connection is gone; the server rolled back
        raise


def update_statistics(conn: Connection, table: str) -> None:
    """Tell the planner how many rows a temporary table holds now: without it the planner guesses a thousand and
    joins a one-call refresh by scanning every call."""
    conn.execute(f"ANALYZE {table}")


def checkpoint(conn: Connection) -> None:
    """The server checkpoints on its own."""


def table_exists(conn: Connection, name: str) -> bool:
    return conn.execute(f"{_TABLES} AND tablename = ?", (name,)).fetchone() is not None


_DDL = (
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bseed INTEGER\b"), "seed BIGINT"),  # --seed takes any integer
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),  # REAL is 4 bytes here: 78.4 would read back 78.40000153
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
    (re.compile(r"\)\s*WITHOUT ROWID"), ")"),
)


def ddl(statement: str) -> str:
    """A migration's statement, written in SQLite's types, in PostgreSQL's."""
    for pattern, replacement in _DDL:
        statement = pattern.sub(replacement, statement)
    return statement


def week_start(column: str) -> str:
    """The Monday on or before a stored UTC time's date."""
    return f"to_char(date_trunc('week', substr({column}, 1, 10)::date), 'YYYY-MM-DD')"


def latest_calls_per_trainee(columns: str, last: int) -> str:
    """Each trainee's latest ``last`` complete calls, by trainee and oldest first: one short backward index scan
    per trainee (a LATERAL join)."""
    return (
        f"SELECT t.trainee AS trainee, {columns} FROM trainee_calls t CROSS JOIN LATERAL (SELECT * FROM calls c "
        "WHERE c.trainee = t.trainee AND c.status = 'complete' ORDER BY c.started_at DESC, c.seq DESC "
        f"LIMIT {int(last)}) c ORDER BY t.trainee, c.started_at, c.seq"
    )


def older_than(column: str, seconds: str) -> str:
    return f"({column})::timestamptz < now() - ({seconds}) * interval '1 second'"


def each(expression: str, alias: str, key: str | None = None) -> str:
    document = f"({expression})::jsonb" + (f" -> '{key}'" if key else "")
    array = f"CASE WHEN jsonb_typeof({document}) = 'array' THEN {document} ELSE '[]'::jsonb END"
    return f"jsonb_array_elements({array}) AS {alias}(value)"


def element(value: str) -> str:
    return f"({value} #>> '{{}}')"


def field(value: str, key: str) -> str:
    return f"({value} ->> '{key}')"


def size_bytes(conn: Connection, location: Location) -> int:
    return conn.execute("SELECT pg_database_size(current_database()) AS size").fetchone()["size"]
