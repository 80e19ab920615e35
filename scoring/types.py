"""What the scorer returns. Spans are [start, end) character offsets into the reply as given."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
            "judgeable": self.judgeable,
        }


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
    critical: bool = False  # a critical forbidden phrase: the call fails
    reasons: list[Reason] = field(default_factory=list)
