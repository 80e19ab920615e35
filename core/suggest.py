"""Did-you-mean: the closest known name to a mistyped one, and the sentence that offers it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The known name most like ``name``, or None when nothing is close enough."""
    found = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(key: str, known: Iterable[str], noun: str = "键", cutoff: float = 0.6) -> str:
    """ "是不是想写 'title'?", or the list of what is known when nothing is close."""
    known = sorted(known)
    match = closest(key, known, cutoff)
    if match:
        return f"是不是想写 {match!r}?"
    return f"可用的{noun}: " + ", ".join(known)
