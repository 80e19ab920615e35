"""Scenario data: what a simulated call is made of. Loaded and checked by ``simulator.validate``."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

END = "end"
MOODS = ("calm", "anxious", "distressed", "angry")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Voice:
    """How the caller sounds: passed to the text-to-speech engine."""

    variant: str | None = None  # espeak-ng variant such as f3, m3
    rate: int = 170  # words per minute, as pyttsx3 counts
    pitch: int = 50  # 0..99 (espeak)
    volume: float = 0.9  # 0..1


@dataclass(frozen=True)
class Caller:
    name: str
    persona: str
    mood: str = "calm"
    voice: Voice = field(default_factory=Voice)


@dataclass(frozen=True)
class KeyPoint:
    """A scenario fact the reply should ask for or convey; met when any phrase matches."""

    id: str
    text: str
    any: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    """All fields that are set must hold. An empty condition always holds."""

    hit: str | None = None  # guide category the reply satisfied
    missed: str | None = None  # guide category the reply missed
    point: str | None = None  # key point id the reply covered
    missed_point: str | None = None  # key point id the reply did not cover
    forbidden: bool | None = None  # reply used (True) / did not use (False) a forbidden phrase
    score_below: float | None = None  # turn score < N
    score_at_least: float | None = None  # turn score >= N


@dataclass(frozen=True)
class Branch:
    goto: str  # a turn id or END
    when: Condition | None = None  # None: the fallback branch


@dataclass(frozen=True)
class Turn:
    id: str
    say: str
    expect: tuple[str, ...] = ()
    key_points: tuple[KeyPoint, ...] = ()
    next: tuple[Branch, ...] = ()
    hint: str = ""  # shown to the trainee in mentor mode after a weak reply


@dataclass(frozen=True)
class Example:
    """A scripted trainee run and the score range its author expects."""

    name: str
    replies: tuple[str, ...]
    score: tuple[float, float]
    path: tuple[str, ...] = ()  # the turn ids the run should visit, if the author states them
    seed: int = 0


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    service: str
    difficulty: int
    time_limit_s: int
    brief: str
    caller: Caller
    start: str
    turns: dict[str, Turn]
    hidden: tuple[str, ...] = ()
    variables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""  # file the scenario was loaded from
    content_hash: str = ""  # sha256 of the file's bytes: history records which version was practised

    def draw(self, seed: int | None = None) -> dict[str, str]:
        """One value per variable; the same seed always draws the same values."""
        rng = random.Random(seed)
        return {name: rng.choice(values) for name, values in sorted(self.variables.items())}

    def successors(self, turn_id: str) -> list[str]:
        return [b.goto for b in self.turns[turn_id].next]


def fill(text: str, values: dict[str, str]) -> str:
    """Put drawn variable values into ``{name}`` placeholders; unknown names stay as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
