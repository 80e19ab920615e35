"""The tool's one base error and its few subclasses.

The CLI catches ``TrainerError`` and prints ``str(error)`` as one line (several for a
``ValidationError``), exits 1, and shows a traceback only with ``--debug``.
"""

from __future__ import annotations

from dataclasses import dataclass


class TrainerError(Exception):
    """Anything the user can fix: bad input, a missing engine, an unknown id."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a data file, located by file, line and path inside the document."""

    path: str
    line: int
    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        fix = f" - {self.fix}" if self.fix else ""
        return f"{self.path}:{self.line}:{where} {self.what}{fix}"


class ValidationError(TrainerError):
    """Carries every problem found, so authors fix them all in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class EngineMissing(TrainerError):
    """An optional engine (speech, audio, browser) is not installed; the message says what to install."""

    def __init__(self, what: str, install: str):
        self.what = what
        self.install = install
        super().__init__(f"{what} 不可用 - 安装方法: {install}")


class NotFound(TrainerError):
    """An id (scenario, call, trainee) that does not exist."""
