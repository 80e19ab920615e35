"""The SQLite adapter of the history store: one file per seat, the embedded default.

The names every adapter provides are listed in ``dialect.py``; the PostgreSQL one is ``postgres_dialect.py``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import TrainerError

if TYPE_CHECKING:
    from simulator.history.location import Location

NAME = "sqlite"
Connection = sqlite3.Connection
Row = sqlite3.Row
DatabaseError = sqlite3.DatabaseError

BUSY_TIMEOUT_MS = 30_000  # a long report may hold the write lock briefly; a practice turn must never fail on it


def connect(location: Location, *, create: bool = True) -> Connection:
    """A connection whose rows are read by column name, waiting up to 30 s for another writer. ``create=False``
    (reading commands): a missing file is an error, never a new empty database. A SQLite file of another program is
    refused before anything is changed in it."""
    path = Path(location.target)
    if str(path) != ":memory:":
        if not create and not path.is_file():
            raise TrainerError(f"没有成绩数据库 {path} - 检查 --db 的路径 (练习过的电话才会有记录)")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        tables = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "schema_migrations" not in tables:
            conn.close()
            raise TrainerError(
                f"{path} 不是本工具的成绩数据库 (里面有别的程序的表) - 用 --db 指定成绩数据库, 它没有被改动"
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _switch_to_wal(conn)
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
        raise TrainerError(f"无法打开成绩数据库 {path}: {describe(exc)} - 检查路径, 或用 --db 指定另一个文件") from exc
    return conn


def _switch_to_wal(conn: Connection) -> None:
    """``journal_mode = WAL`` can fail at once with "database is locked" while another process creates the same
    new database (SQLite does not call the busy handler for it): retry for as long as the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def describe(exc: sqlite3.Error) -> str:
    """An SQLite error in words a supervisor can act on."""
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return "文件已损坏或不是数据库 (请从备份恢复)"
    if "readonly" in text or "read-only" in text:
        return "文件是只读的 (检查文件和文件夹的写权限)"
    if "disk" in text and "full" in text:
        return "磁盘已满"
    if "locked" in text or "busy" in text:
        return "另一个程序正占用它"
    return text


@contextmanager
def write_transaction(conn: Connection) -> Iterator[Connection]:
    """One transaction that takes the write lock at its start, so two writers queue instead of failing midway."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a COMMIT that failed on a full disk may have rolled back already
            conn.execute("ROLLBACK")
        raise


def update_statistics(conn: Connection, table: str) -> None:
    """SQLite's planner needs no statistics for these statements."""


def checkpoint(conn: Connection) -> None:
    """Copy the write-ahead log into the database without waiting for readers (PASSIVE)."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def table_exists(conn: Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def week_start(column: str) -> str:
    """The Monday on or before a stored UTC time's date: back six days, then forward to the next Monday."""
    return f"date(substr({column}, 1, 10), '-6 days', 'weekday 1')"


def latest_calls_per_trainee(columns: str, last: int) -> str:
    """Each trainee's latest ``last`` complete calls, by trainee and oldest first. SQLite has no LATERAL join: a
    correlated cut-off (the time of the trainee's ``last``-th latest call) bounds one index range per trainee; a
    tie at the cut-off may add a few older calls, which the caller trims."""
    return (
        f"SELECT c.trainee AS trainee, {columns} FROM trainee_calls t JOIN calls c ON c.trainee = t.trainee "
        "AND c.status = 'complete' AND c.started_at >= COALESCE((SELECT l.started_at FROM calls l "
        "WHERE l.trainee = t.trainee AND l.status = 'complete' ORDER BY l.started_at DESC, l.seq DESC "
        f"LIMIT 1 OFFSET {int(last) - 1}), '') ORDER BY c.trainee, c.started_at, c.seq"
    )


def older_than(column: str, seconds: str) -> str:
    """SQL: the ISO time in ``column`` lies more than ``seconds`` (an SQL expression) in the past."""
    return f"datetime({column}) < datetime('now', '-' || ({seconds}) || ' seconds')"


def ddl(statement: str) -> str:
    """Migrations are written in SQLite's types."""
    return statement


# JSON in the summary statements: the turns keep their lists and analysis as JSON text.
def each(expression: str, alias: str, key: str | None = None) -> str:
    """A FROM item: one row per element of the JSON array ``expression`` (or of its ``key``), value ``alias.value``."""
    path = f", '$.{key}'" if key else ""
    return f"json_each({expression}{path}) AS {alias}"


def element(value: str) -> str:
    """An array element of ``each`` as text."""
    return value


def field(value: str, key: str) -> str:
    """The text of ``key`` in the JSON object ``value``."""
    return f"json_extract({value}, '$.{key}')"


def size_bytes(conn: Connection, location: Location) -> int:
    """The database file and its write-ahead log."""
    path = Path(location.target)
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
