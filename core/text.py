"""User text made safe to show: what a trainee or author typed is data, never a terminal command."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and C1 controls: ESC sequences could clear the screen or retitle the
# window; a bare CR could overwrite a line. Shown visibly (\x1b) so a supervisor sees the name was odd.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character written out as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text) if text else text


def fmt_score(score: float | None) -> str:
    """The one way a score is shown everywhere (panels, tables, reports): one decimal at most, no trailing zero."""
    return "—" if score is None else f"{round(score, 1):g}"
