#!/usr/bin/env python3
"""Web console benchmark: the team and call pages over a filled store, through a real HTTP server.

    .venv/bin/python bench/console.py                     # 100,000 calls x 20 turns (SQLite; a few minutes to fill)
    .venv/bin/python bench/console.py --calls 5000        # a quick run
    .venv/bin/python bench/console.py --pg                # the same on a throwaway PostgreSQL cluster

Fills the store as bench/history.py does, starts the console (uvicorn, in this process) on a free local port, signs
in as a supervisor and times each page as the browser asks for it (one HTTP request, the whole page): cold, then
repeated. Target: under 300 ms for the team page and a call page.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))

from history import fill  # noqa: E402  (bench/history.py)
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from throwaway_postgres import free_port  # noqa: E402

from simulator.history.store import HistoryStore  # noqa: E402
from simulator.people import hash_password  # noqa: E402

TARGET_S = 0.3
PASSWORD = "bench password 1"


class Browser:
    """Just enough of a browser: one keep-alive connection, the session cookie, the CSRF token."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text

    def sign_in(self, name: str) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/login", {"name": name, "password": PASSWORD, "csrf": token})
        assert status == 303, status


def timed(fn, repeat: int) -> tuple[float, list[float]]:
    began = time.perf_counter()
    fn()
    cold = time.perf_counter() - began
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - began)
    return cold, runs


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from simulator.console.app import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--trainees", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL cluster instead of a SQLite file")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="console-bench-"))
        if args.pg:
            from throwaway_postgres import throwaway_cluster

            location = stack.enter_context(throwaway_cluster(durable=True)).url
        else:
            location = str(Path(folder) / "history.db")
        store = stack.enter_context(HistoryStore(location))
        print(f"filling {store.location} with {args.calls:,} calls x {args.turns} turns ...", file=sys.stderr)
        ranked, _ = fill([store], args.calls, args.turns, args.trainees, seed=12368)
        store.add_user("主管", "supervisor", password_hash=hash_password(PASSWORD))
        busiest = ranked[0]
        call_id = store.list_calls(trainee=busiest, limit=1)[0].call_id

        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(store=store), host="127.0.0.1", port=port,
                                               log_level="warning"))  # fmt: skip
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        browser = Browser(port)
        browser.sign_in("主管")

        def page(path: str):
            def get():
                status, _ = browser.request("GET", path)
                assert status == 200, (path, status)

            return get

        rows = []
        for what, path, target in (
            (f"team page ({args.trainees} trainees)", "/team", TARGET_S),
            (f"call page ({args.turns} turns)", f"/calls/{call_id}", TARGET_S),
            ("trainee page, busiest trainee", f"/trainees/{quote(busiest)}", None),
            ("scenario library (26 graphs, centre-wide results)", "/scenarios", None),
        ):
            cold, runs = timed(page(path), args.repeat)
            ordered = sorted(runs)
            p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
            met = "" if target is None else ("yes" if max(cold, ordered[-1]) < target else "NO")
            rows.append((what, "" if target is None else f"< {target * 1000:g} ms",
                         *(f"{v * 1000:.0f}" for v in (cold, statistics.median(ordered), p95, ordered[-1])), met))  # fmt: skip
        server.should_exit = True

    table = Table(title=f"console bench ({'PostgreSQL' if args.pg else 'SQLite'}): {args.calls:,} calls x "
                        f"{args.turns} turns, {args.trainees} trainees; ms per page, over HTTP")  # fmt: skip
    for name in ("page", "target", "cold", "median", "p95", "worst", "met"):
        table.add_column(name, justify="left" if name == "page" else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=130).print(table)
    return 0 if all(r[-1] != "NO" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
