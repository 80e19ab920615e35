#!/usr/bin/env python3
"""A throwaway PostgreSQL cluster for the tests and the benchmark: Debian's server, a temporary folder, a free
local port, stopped and removed at the end. initdb refuses to run as root, so as root the cluster runs as the
``postgres`` user (created by Debian's package).

    python scripts/throwaway_postgres.py        # start one, print its URL, stop it on Enter

In code: ``with throwaway_cluster() as url: ...``; ``start()`` / ``Cluster.stop()`` for a longer life.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "PostgreSQL is not installed: apt-get install postgresql (or set HOTLINE_TEST_PG_URL to a server)"


class NoPostgres(RuntimeError):
    """The server binaries are missing or the cluster would not start."""


def _binary(name: str) -> str:
    """Debian keeps the server's programs in /usr/lib/postgresql/<version>/bin, off the PATH; the newest wins."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise NoPostgres(INSTALL_HINT)


def free_port() -> int:
    """A local TCP port nobody listens on now (for the cluster, a test server, a benchmark)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, _binary("pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start(*, durable: bool = False) -> Cluster:
    """Start a cluster; ``durable=False`` (tests) turns off fsync, which a crash-free test run never needs."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            shutil.chown(root, "postgres", "postgres")
        except LookupError as exc:
            raise NoPostgres(f"no 'postgres' user to run the server as (root may not): {INSTALL_HINT}") from exc
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(root, free_port(), as_user)
    data, log = root / "data", root / "server.log"
    options = f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    steps = (
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        [pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"],
    )
    for step in steps:
        done = subprocess.run([*as_user, *step], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            cluster.stop()
            raise NoPostgres(f"{Path(step[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}\n{server_log}")
    return cluster


@contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    cluster = start(durable=durable)
    try:
        yield cluster
    finally:
        cluster.stop()


if __name__ == "__main__":
    with throwaway_cluster() as running:
        print(running.url, flush=True)
        try:
            input("PostgreSQL is running; press Enter to stop it and remove its folder. ")
        except (EOFError, KeyboardInterrupt):
            pass
