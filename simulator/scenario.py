"""Scenario data: what a simulated call is made of. Loaded and checked by ``simulator.validate``."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from scoring.types import KeyPoint, MustNot
from scoring.work_order import WorkOrder, WorkOrderSpec

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
class Condition:
    """All fields that are set must hold. An empty condition always holds."""

    hit: str | None = None  # guide category the reply satisfied
    missed: str | None = None  # guide category the reply missed
    point: str | None = None  # key point id the reply covered
    missed_point: str | None = None  # key point id the reply did not cover
    forbidden: bool | None = None  # reply used (True) / did not use (False) a forbidden phrase
    must_not: bool | None = None  # reply broke (True) / broke none of (False) the scenario's must-not rules
    contradiction: bool | None = None  # reply stated (True) / stated no (False) drawn fact wrong
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
    must_not: tuple[MustNot, ...] = ()  # what the agent must never say at this turn (beside the scenario's)


@dataclass(frozen=True)
class Example:
    """A scripted trainee run and the score range its author expects."""

    name: str
    replies: tuple[str, ...]
    score: tuple[float, float]
    path: tuple[str, ...] = ()  # the turn ids the run should visit, if the author states them
    seed: int = 0
    passed: bool | None = None  # whether the call should pass, if the author states it (a wrong fact must fail)
    work_order: WorkOrder | None = None  # the work order the run fills in after the call ({placeholders} allowed)


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
    must_not: tuple[MustNot, ...] = ()  # what the agent must never say anywhere in this call
    linked: tuple[tuple[str, ...], ...] = ()  # variables drawn together: the same position in each list
    work_order: WorkOrderSpec | None = None  # the work order a good call ends with (placeholders unfilled)
    source: str = ""  # file the scenario was loaded from
    content_hash: str = ""  # sha256 of the file's bytes: history records which version was practised

    def draw(self, seed: int | None = None) -> dict[str, str]:
        """One value per variable; the same seed always draws the same values."""
        rng = random.Random(seed)
        drawn = {name: rng.choice(values) for name, values in sorted(self.variables.items())}
        for group in self.linked:  # 三万块 goes with 五百五十元: one position for the whole group
            position = self.variables[group[0]].index(drawn[group[0]])
            for name in group[1:]:
                drawn[name] = self.variables[name][position]
        return drawn

    def point_for_call(self, point: KeyPoint, values: dict[str, str]) -> KeyPoint:
        """A turn's key point with this call's values put in: placeholders filled, and for a ``value`` point
        the drawn value, the variable's other values and the call's other drawn values."""
        filled = KeyPoint(point.id, fill(point.text, values), tuple(fill(a, values) for a in point.any))
        if not point.variable or point.variable not in values:
            return filled
        right = values[point.variable]
        return KeyPoint(
            filled.id,
            filled.text,
            filled.any,
            point.variable,
            right,
            tuple(v for v in self.variables.get(point.variable, ()) if v != right),
            tuple(v for k, v in sorted(values.items()) if k != point.variable and v != right),
        )

    def rules_for_turn(self, turn: Turn, values: dict[str, str]) -> tuple[MustNot, ...]:
        """The scenario's and the turn's must-not rules, placeholders filled."""
        return tuple(
            MustNot(
                m.id,
                fill(m.text, values),
                tuple(fill(a, values) for a in m.any),
                m.severity,
                fill(m.suggest, values),
                m.forbidden,
            )
            for m in self.must_not + turn.must_not
        )

    def work_order_for_call(self, values: dict[str, str]) -> WorkOrderSpec | None:
        """The scenario's work order with this call's drawn values put in."""
        spec = self.work_order
        if spec is None:
            return None
        return WorkOrderSpec(
            spec.type,
            {name: fill(v, values) for name, v in spec.fields.items()},
            tuple(self.point_for_call(p, values) for p in spec.summary),
            fill(spec.reply_within, values),
        )

    def successors(self, turn_id: str) -> list[str]:
        return [b.goto for b in self.turns[turn_id].next]


def fill(text: str, values: dict[str, str]) -> str:
    """Put drawn variable values into ``{name}`` placeholders; unknown names stay as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
