"""The command line, split by command group.

Each group module defines ``register(subparsers)`` and imports nothing heavy at module
level, so ``--help`` stays instant: rich, pyttsx3, speech_recognition, faster_whisper and the like
load inside the command that needs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Command-group modules, in the order their commands appear in --help.
GROUPS = (
    "simulator.cli.scenario_cmds",  # list, show, validate, new, render, test
    "simulator.cli.practice_cmds",  # practice
    "simulator.cli.scoring_cmds",  # score-reply
    "simulator.cli.voice_cmds",  # transcribe
    "simulator.cli.history_cmds",  # history, progress, team, review, report
    "simulator.cli.people_cmds",  # users, assign, todo, audit
    "simulator.cli.db_cmds",  # db migrate, db import, db info
    "simulator.cli.console_cmds",  # serve
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_training.py",
        description="12368 诉讼服务热线座席模拟训练: 场景练习、规范用语评分、成绩记录。",
    )
    parser.add_argument("--debug", action="store_true", help="出错时显示完整的 traceback")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a group that exists but is broken must not hide
                raise
            continue
        module.register(sub)
    return parser


def _version() -> str:
    from simulator import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    from core.errors import TrainerError

    for stream in (sys.stdout, sys.stderr):  # a lone surrogate in a reply must not end a run in a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except TrainerError as exc:
        if args.debug:
            raise
        print(f"错误: {exc}" if "\n" not in str(exc) else str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n已中断。", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
