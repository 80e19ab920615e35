"""Typed replies at a rich prompt. End of input (Ctrl-D) ends the replies; /挂断 hangs up."""

from __future__ import annotations

import time

from simulator.engines.base import Heard, Source
from simulator.engines.scripted_listener import HANGUP_WORDS


class TypedListener:
    def __init__(self, console=None):
        self._console = console

    def listen(self, prompt: str) -> Heard | None:
        from rich.console import Console
        from rich.prompt import Prompt

        console = self._console or Console()
        started = time.monotonic()
        try:
            text = Prompt.ask(
                "[bold green]您的回答[/] (输入 /挂断 结束通话)", console=console, default="", show_default=False
            )
        except EOFError:
            return None
        text = text.strip()
        if text in HANGUP_WORDS:
            return Heard("", Source.TYPED, hangup=True)
        return Heard(text, Source.TYPED, metrics={"typing_s": round(time.monotonic() - started, 2)})
