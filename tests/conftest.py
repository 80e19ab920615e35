"""Shared fixtures. Engines are real; only the tests of surrounding logic use the fakes in tests/fakes.py."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep history databases out of the developer's home; share the TTS cache and model across tests."""
    data = tmp_path_factory.getbasetemp() / "xdg-data"
    monkeypatch.setenv("HOTLINE_TRAINER_DB", str(data / "history.db"))


def run_cli(
    *args: str, stdin: str | None = None, env: dict | None = None, cwd: Path = ROOT, process: bool = False
) -> subprocess.CompletedProcess:
    """Run a command as a user would: in this process through ``main(argv)`` (``run_main``), or in a subprocess
    of ``run_training.py`` when the test needs the process boundary (``process=True``, or stdin, env or cwd given)."""
    if not process and stdin is None and env is None and cwd == ROOT:
        return run_main(*args)
    return run_process(*args, stdin=stdin, env=env, cwd=cwd)


def run_process(
    *args: str, stdin: str | None = None, env: dict | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """Run ``run_training.py`` in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "run_training.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=300,
    )


def run_main(*args: str) -> subprocess.CompletedProcess:
    """Run the CLI in this process through ``main(argv)``: the same exit code, stdout and stderr as ``run_cli``
    without a new interpreter and a new scorer per call. For tests that do not test the process boundary
    (``--help`` speed, signals, stdin as a terminal)."""
    from simulator.cli import main

    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO("")  # not a terminal: no prompts, as in a pipe
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdin = stdin
    return subprocess.CompletedProcess(["run_training.py", *args], code, out.getvalue(), err.getvalue())
