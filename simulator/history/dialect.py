"""Where a history store lives and which backend speaks to it; the statements both backends write alike.

``--db`` (or ``$HOTLINE_TRAINER_DB`` / ``$HOTLINE_DB``) is either a SQLite file path or a PostgreSQL URL
(``postgresql://user@host:port/dbname``). ``locate`` parses it once; ``backend`` returns the adapter module
(``sqlite_dialect`` or ``postgres_dialect``), imported only when used so SQLite seats never load psycopg.

Every adapter provides the same names: ``Connection``, ``DatabaseError``, ``connect(location, create=)``,
``write_transaction``, ``checkpoint``, ``table_exists``, ``describe``, ``ddl`` (a migration's statement in the
backend's types), ``week_start``, ``older_than`` and the JSON helpers of the summary statements (``each``,
``element``, ``field``). Hand-written statements use ``?`` and ``:name`` placeholders; the PostgreSQL adapter
translates them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from core.errors import TrainerError
from core.paths import default_data_root

DB_ENV = "HOTLINE_TRAINER_DB"
DB_ENV_SHORT = "HOTLINE_DB"  # the same setting, shorter to type on a seat
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class Location:
    """A store's address: ``kind`` is ``sqlite`` (``target`` a file path) or ``postgresql`` (``target`` a URL)."""

    kind: str
    target: str

    @property
    def path(self) -> Path | None:
        return Path(self.target) if self.kind == SQLITE else None

    def __str__(self) -> str:
        """The address as shown to users: a URL without its password."""
        if self.kind == SQLITE:
            return self.target
        return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", self.target)


def locate(value: str | Path | None = None) -> Location:
    """The store ``--db`` names; without it ``$HOTLINE_TRAINER_DB``, ``$HOTLINE_DB``, else the data folder's file.

    A URL of another kind (``mysql://``, ``http://``…) is refused, never taken for a folder name.
    """
    if value is None or str(value) == "":
        value = os.environ.get(DB_ENV) or os.environ.get(DB_ENV_SHORT) or ""
        if not value:
            return Location(SQLITE, str(default_data_root() / "history.db"))
    text = str(value).strip()
    url = _URL.match(text)
    if url is None:
        return Location(SQLITE, str(Path(text).expanduser()))
    scheme = url["scheme"].lower()
    if scheme in _POSTGRES_SCHEMES:
        return Location(POSTGRESQL, text)
    if scheme == "sqlite" and text.startswith("sqlite:///"):
        return Location(SQLITE, text[len("sqlite://") :])
    raise TrainerError(
        f"不支持的数据库地址 {text.split('@')[-1] if '@' in text else text} - "
        "--db 用 SQLite 文件路径 (如 ~/history.db) 或 postgresql://用户@主机:端口/库名"
    )


def backend(location: Location) -> ModuleType:
    """The adapter module of the location's backend."""
    if location.kind == POSTGRESQL:
        from simulator.history import postgres_dialect

        return postgres_dialect
    from simulator.history import sqlite_dialect

    return sqlite_dialect


def _values(columns: Iterable[str]) -> str:
    """Named placeholders: generated statements take their values as a dict keyed by column."""
    return ", ".join(f":{column}" for column in columns)


def insert(table: str, columns: Iterable[str]) -> str:
    columns = tuple(columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_values(columns)})"


def insert_or_ignore(table: str, columns: Iterable[str]) -> str:
    """An insert that leaves the row already there (same key) as it is."""
    return f"{insert(table, columns)} ON CONFLICT DO NOTHING"


def upsert(table: str, columns: Iterable[str], key: tuple[str, ...]) -> str:
    """An insert that, when a row with the same ``key`` exists, updates its other ``columns`` instead."""
    columns = tuple(columns)
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column not in key)
    return f"{insert(table, columns)} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
