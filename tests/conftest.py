"""Shared fixtures. Engines are real; only the tests of surrounding logic use the fakes in tests/fakes.py."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL_ENV = "HOTLINE_TEST_PG_URL"  # a server to test against instead of a throwaway cluster (a superuser's URL)
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep history databases out of the developer's home; share the TTS cache and model across tests."""
    data = tmp_path_factory.getbasetemp() / "xdg-data"
    monkeypatch.setenv("HOTLINE_TRAINER_DB", str(data / "history.db"))


def pytest_collection_modifyitems(items):
    """Tests run on the PostgreSQL backend carry the ``postgres`` marker (``-m 'not postgres'`` leaves them out)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("db_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server for this test session: ``$HOTLINE_TEST_PG_URL``, else a throwaway cluster
    started from Debian's package (stopped at the end). Without either the test fails, saying what to install."""
    if os.environ.get(PG_URL_ENV):
        yield os.environ[PG_URL_ENV]
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    from throwaway_postgres import NoPostgres, start

    try:
        cluster = start()
    except NoPostgres as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster.url
    cluster.stop()


def free_port() -> int:
    sys.path.insert(0, str(ROOT / "scripts"))
    from throwaway_postgres import free_port as port

    return port()


_databases = itertools.count()


def new_postgres_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    from urllib.parse import urlsplit

    import psycopg

    name = f"hotline_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    """A new, empty history store on each backend: a SQLite file path, or a PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "history.db")
    return new_postgres_database(request.getfixturevalue("postgres_server"))


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
