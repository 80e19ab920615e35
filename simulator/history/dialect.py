"""Which backend speaks to a store, and the statements both backends write alike.

``backend`` returns the adapter module of a ``location.Location`` (``sqlite_dialect`` or ``postgres_dialect``),
imported only when used so SQLite seats never load psycopg.

Every adapter provides the same names: ``Connection``, ``DatabaseError``, ``connect(location, create=)``,
``write_transaction``, ``checkpoint``, ``update_statistics``, ``table_exists``, ``describe``, ``size_bytes``, ``ddl`` (a migration's statement in the
backend's types), ``week_start``, ``older_than`` and the JSON helpers of the summary statements (``each``,
``element``, ``field``). Hand-written statements use ``?`` and ``:name`` placeholders; the PostgreSQL adapter
translates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from simulator.history.location import POSTGRESQL, SQLITE, Location

__all__ = ["POSTGRESQL", "SQLITE", "backend", "insert", "insert_or_ignore", "upsert"]


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
