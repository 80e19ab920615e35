"""Output options shared by every report command: ``--json`` and, for tables, ``--csv``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from typing import Any


def add_output_options(parser: argparse.ArgumentParser, *, csv_too: bool = False) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="输出 JSON")
    if csv_too:
        group.add_argument("--csv", action="store_true", help="输出 CSV 表格")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db PATH|URL`` for every command that reads or writes history (read it with ``getattr(args, "db", None)``).
    A string, not a Path: a Path would fold ``postgresql://`` into ``postgresql:/``."""
    # SUPPRESS: `history --db X show ID` must not be reset by the subcommand's default.
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        default=argparse.SUPPRESS,
        help="成绩数据库: SQLite 文件路径, 或培训中心的 postgresql://用户@主机/库名 "
        "(默认: $HOTLINE_TRAINER_DB 或 $HOTLINE_DB, 否则 ~/.local/share/hotline-trainer/history.db)",
    )


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def print_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    writer.writerows([csv_cell(v) for v in row] for row in rows)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will show, never run: text starting like a formula (=, +, -, @) gets a leading ' (the
    OWASP advice); booleans as the JSON writes them; numbers as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def console():
    """A rich Console, imported lazily to keep --help fast."""
    from rich.console import Console

    return Console(highlight=False)


def print_error(message: str) -> None:
    """One line on stderr, as the CLI prints a ``TrainerError`` (for problems found while a command goes on)."""
    print(f"错误: {message}", file=sys.stderr)
