"""What the scorer returns. Spans are [start, end) character offsets into the reply as given."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class KeyPoint:
    """A scenario fact the reply should ask for or convey. Met when one of ``any`` matches, or when the reply
    states ``value``, the value drawn for the scenario variable ``variable`` (``value: right_room`` in YAML)."""

    id: str
    text: str
    any: tuple[str, ...] = ()
    variable: str = ""  # the variable whose drawn value states this point ("" for a phrase-only point)
    value: str = ""  # that value in this call (filled in when the call draws its variables)
    others: tuple[str, ...] = ()  # the variable's other values: saying one of them instead is a contradiction
    elsewhere: tuple[str, ...] = ()  # the call's other drawn values (the caller's wrong room is not this fact)


@dataclass(frozen=True)
class MustNot:
    """What the agent must never say in a scenario (or one turn of it): any phrase of ``any`` is a breach."""

    id: str
    text: str
    any: tuple[str, ...]
    severity: str = "major"  # minor | major | critical, as the guide's forbidden phrases
    suggest: str = ""  # what to say instead
    forbidden: tuple[str, ...] = ()  # the guide's forbidden ids that break this rule too (promise_result)


@dataclass(frozen=True)
class CategoryMatch:
    category: str
    span: tuple[int, int]
    guide_phrase: str  # the guide variant (or standard phrase) that matched
    source: str = "guide"  # "model": the guide had no phrase for it; the reply model (scoring/reply_model.py) did


@dataclass(frozen=True)
class ForbiddenUse:
    id: str
    phrase: str  # the guide's forbidden phrase
    span: tuple[int, int]
    suggest: str  # the standard phrase to say instead
    severity: str  # minor | major | critical
    source: str = "guide"  # "model": found by the reply model, not by a guide phrase


@dataclass(frozen=True)
class PointMatch:
    id: str
    span: tuple[int, int]
    phrase: str


@dataclass(frozen=True)
class Contradiction:
    """A drawn fact stated wrong: the reply said ``said`` where the right value is ``right``."""

    point: str
    said: str
    right: str
    span: tuple[int, int]


@dataclass(frozen=True)
class MustNotUse:
    id: str
    text: str  # what the rule forbids (对案件结果作判断)
    span: tuple[int, int]
    suggest: str
    severity: str


@dataclass(frozen=True)
class Suggestion:
    category: str
    phrase: str  # the nearest standard phrase for a category the turn expected but the reply missed


@dataclass
class ReplyAnalysis:
    text: str
    categories: list[str] = field(default_factory=list)
    matches: list[CategoryMatch] = field(default_factory=list)
    forbidden: list[ForbiddenUse] = field(default_factory=list)
    points: list[PointMatch] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    judgeable: bool = True  # False: empty or garbled; ask the trainee to repeat, do not score
    why_not_judgeable: str = ""
    contradictions: list[Contradiction] = field(default_factory=list)  # drawn facts stated wrong
    must_not: list[MustNotUse] = field(default_factory=list)  # the scenario's must-not rules broken

    def to_json(self) -> dict:
        """The ``score-reply --json`` object (fields fixed by the issue)."""
        return {
            "categories": list(self.categories),
            "forbidden": [
                {
                    "phrase": f.phrase,
                    "span": list(f.span),
                    "suggest": f.suggest,
                    "id": f.id,
                    "severity": f.severity,
                    "source": f.source,
                }
                for f in self.forbidden
            ],
            "matches": [
                {"category": m.category, "span": list(m.span), "guide_phrase": m.guide_phrase, "source": m.source}
                for m in self.matches
            ],
            "suggestions": [asdict(s) for s in self.suggestions],
            "points": [{"id": p.id, "span": list(p.span), "phrase": p.phrase} for p in self.points],
            "contradictions": [contradiction_json(c) for c in self.contradictions],
            "must_not": [must_not_json(m) for m in self.must_not],
            "judgeable": self.judgeable,
        }


def contradiction_json(c: Contradiction) -> dict:
    """One contradiction as every ``--json`` shows it."""
    return {"point": c.point, "said": c.said, "right": c.right, "span": list(c.span)}


def must_not_json(m: MustNotUse) -> dict:
    """One must-not breach as every ``--json`` shows it."""
    return {"id": m.id, "span": list(m.span), "text": m.text, "suggest": m.suggest, "severity": m.severity}


@dataclass(frozen=True)
class Reason:
    """One line of the explanation: every point gained or lost points at its reason."""

    delta: float
    why: str


@dataclass
class TurnScore:
    score: float  # 0..100
    hit: list[str] = field(default_factory=list)  # expected categories satisfied
    missed: list[str] = field(default_factory=list)  # expected categories not satisfied
    points_hit: list[str] = field(default_factory=list)
    points_missed: list[str] = field(default_factory=list)
    forbidden: list[ForbiddenUse] = field(default_factory=list)
    contradictions: list[Contradiction] = field(default_factory=list)
    must_not: list[MustNotUse] = field(default_factory=list)
    critical: bool = False  # a critical forbidden phrase or must-not breach: the call fails
    reasons: list[Reason] = field(default_factory=list)
