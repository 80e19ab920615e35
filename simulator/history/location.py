"""Where a history store lives: ``--db`` (or ``$HOTLINE_TRAINER_DB`` / ``$HOTLINE_DB``) is a SQLite file path or a
PostgreSQL URL (``postgresql://user@host:port/dbname``). ``locate`` parses it once."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

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
