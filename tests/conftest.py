"""Shared fixtures. Engines are real; only the tests of surrounding logic use the fakes in tests/fakes.py."""

from __future__ import annotations

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


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``run_training.py`` in a subprocess, as a user would."""
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
