"""Session-engine speed: the time per turn of a practice call, from a reply to the next caller line.

    .venv/bin/python bench/session.py [--calls N] [--starts N]

First the start of a practice call as a trainee sees it: the whole ``practice`` command up to the first caller line
(a replies file that hangs up at once, no audio, not saved), with the compiled scorer cached and with an empty cache,
beside a bare interpreter start. Then plays every bundled scenario's examples N times with the real scorer (and, with --voice, the real espeak-ng caller
voice, rendered into a fresh cache and then served from it), and prints one table: per-turn engine time (reply
scored, branch taken, turn recorded and saved to a real SQLite file), per call, and the first-time costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT))


def _timed(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def start_latency(runs: int) -> None:
    """Seconds from the command to the end of a call hung up at the first caller line, cold and warm."""
    with tempfile.TemporaryDirectory() as tmp:
        hangup = Path(tmp) / "hangup.txt"
        hangup.write_text("/挂断\n", encoding="utf-8")
        env = {**os.environ, "HOTLINE_TRAINER_CACHE": str(Path(tmp) / "cache")}
        practice = [sys.executable, "run_training.py", "practice", "wrong-courtroom", "--replies", str(hangup),
                    "--no-audio", "--no-save"]  # fmt: skip
        bare = [_timed([sys.executable, "-c", "pass"], env) for _ in range(runs)]
        cold = []
        for _ in range(runs):
            for old in (Path(tmp) / "cache" / "scorer").glob("*.pickle"):
                old.unlink()
            cold.append(_timed(practice, env))
        _timed(practice, env)  # compile once, then every start below reads the cache
        warm = [_timed(practice, env) for _ in range(runs)]
    base = statistics.median(bare)
    print(f"practice start to the first caller line ({runs} runs each, median seconds)")
    print(f"{'what':<52} {'s':>6} {'x bare':>8}")
    for name, values in (("bare interpreter (python -c pass)", bare), ("practice, compiled scorer cached", warm),
                         ("practice, first run (compiles the guide)", cold)):  # fmt: skip
        print(f"{name:<52} {statistics.median(values):>6.2f} {statistics.median(values) / base:>8.1f}")
    print()


class _TimedSink:
    """Wraps the history store and timestamps each turn, so per-turn engine time can be read off."""

    def __init__(self, store):
        self.store = store
        self.stamps: list[float] = []

    def call_started(self, call):
        self.store.call_started(call)
        self.stamps.append(time.perf_counter())

    def turn_scored(self, call, turn):
        self.store.turn_scored(call, turn)
        self.stamps.append(time.perf_counter())

    def call_ended(self, call):
        self.store.call_ended(call)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5, help="times to play each example (default 5)")
    parser.add_argument("--voice", action="store_true", help="also render the caller's lines with espeak-ng")
    parser.add_argument("--starts", type=int, default=5, help="practice starts timed, cold and warm (default 5)")
    args = parser.parse_args()
    if args.starts:
        start_latency(args.starts)

    started = time.perf_counter()
    from scoring.scorer import Scorer
    from simulator.engines.scripted_listener import ScriptedListener
    from simulator.history.store import open_store
    from simulator.library import load_library
    from simulator.scenario import fill
    from simulator.session import Session, SessionOptions

    imports_s = time.perf_counter() - started
    t = time.perf_counter()
    scorer = Scorer.default()
    guide_s = time.perf_counter() - t
    t = time.perf_counter()
    scenarios = load_library()
    library_s = time.perf_counter() - t

    speaker = None
    tmp = tempfile.TemporaryDirectory()
    if args.voice:
        from simulator.engines.audio_cache import AudioCache
        from simulator.engines.pyttsx3_speaker import Pyttsx3Speaker

        speaker = Pyttsx3Speaker(AudioCache(Path(tmp.name) / "tts"))
        speaker.play = lambda wav: True  # no device here: measure rendering, not playback

    store = open_store(Path(tmp.name) / "bench.db")
    per_turn: list[float] = []
    per_call: list[float] = []
    first_call_turns: list[float] = []
    for round_no in range(args.calls):
        for scenario in scenarios:
            for example in scenario.examples:
                values = scenario.draw(example.seed)
                sink = _TimedSink(store)
                session = Session(
                    scenario,
                    scorer,
                    ScriptedListener([fill(r, values) for r in example.replies]),
                    speaker=speaker,
                    sink=sink,
                    options=SessionOptions(trainee="bench", exam=True, seed=example.seed),
                )
                t = time.perf_counter()
                session.run()
                per_call.append(time.perf_counter() - t)
                gaps = [b - a for a, b in zip(sink.stamps, sink.stamps[1:], strict=False)]
                (first_call_turns if round_no == 0 else per_turn).extend(gaps)

    def ms(values: list[float], q: float) -> str:
        if not values:
            return "-"
        values = sorted(values)
        return f"{values[min(len(values) - 1, int(q * len(values)))] * 1000:.2f}"

    rows = [
        ("turn (reply -> scored, branched, saved)" + (", voice cached" if args.voice else ""), per_turn),
        ("turn, first round" + (" (voice rendered)" if args.voice else ""), first_call_turns),
        ("whole call", per_call),
    ]
    print(
        f"session engine: {len(scenarios)} scenarios, {len(per_call)} calls, {len(per_turn) + len(first_call_turns)} turns"
    )
    print(f"{'what':<52} {'n':>6} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for name, values in rows:
        print(f"{name:<52} {len(values):>6} {ms(values, 0.5):>10} {ms(values, 0.95):>8} {ms(values, 1.0):>8}")
    print(
        f"{'one-off: imports / guide load / library load (ms)':<52} {'':>6} {imports_s * 1000:>10.0f} {guide_s * 1000:>8.0f} {library_s * 1000:>8.0f}"
    )
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
