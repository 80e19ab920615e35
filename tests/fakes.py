"""Fakes for unit tests of the logic around the engines. The product never uses them."""

from __future__ import annotations

from dataclasses import dataclass, field

from scoring.types import CategoryMatch, ForbiddenUse, PointMatch, Reason, ReplyAnalysis, Suggestion, TurnScore
from simulator.engines.base import Heard

KEYWORDS = {
    "您好": "greeting",
    "案号": "ask_case_info",
    "别着急": "empathy",
    "稍等": "hold",
    "转告": "commitment",
    "不用谢": "closing",
    "本人": "verify_identity",
}


@dataclass
class FakeGuide:
    categories: dict = field(default_factory=lambda: {c: None for c in KEYWORDS.values()})


class KeywordScorer:
    """Credits a category when its keyword appears; 不知道 is forbidden; '???' is unjudgeable."""

    guide = FakeGuide()

    def analyze(self, text, expect=(), key_points=(), must_not=()):
        if not text.strip() or text.strip() == "???":
            return ReplyAnalysis(text, judgeable=False, why_not_judgeable="没有听清")
        matches = [
            CategoryMatch(c, (text.index(k), text.index(k) + len(k)), k) for k, c in KEYWORDS.items() if k in text
        ]
        forbidden = []
        if "不知道" in text:
            i = text.index("不知道")
            forbidden.append(ForbiddenUse("dont_know", "不知道", (i, i + 3), "我帮您查询一下", "major"))
        points = [PointMatch(p.id, (0, 1), a) for p in key_points for a in p.any if a in text][:1] if key_points else []
        categories = [m.category for m in matches]
        suggestions = [Suggestion(c, f"标准:{c}") for c in expect if c not in categories]
        return ReplyAnalysis(text, categories, matches, forbidden, points, suggestions)

    def score_turn(self, analysis, expect, key_points):
        hit = [c for c in expect if c in analysis.categories]
        missed = [c for c in expect if c not in analysis.categories]
        got = {p.id for p in analysis.points}
        total = len(expect) + len(key_points)
        score = 100.0 if total == 0 else 100.0 * (len(hit) + len(got)) / total
        reasons = [Reason(-100.0 / max(total, 1), f"漏了 {c}") for c in missed]
        if analysis.forbidden:
            score = max(0.0, score - 30)
            reasons.append(Reason(-30, "禁语"))
        return TurnScore(
            score=score,
            hit=hit,
            missed=missed,
            points_hit=sorted(got),
            points_missed=[p.id for p in key_points if p.id not in got],
            forbidden=list(analysis.forbidden),
            reasons=reasons,
        )


class FakeClock:
    """Time advances only when a listener says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TimedListener:
    """Scripted replies, each taking ``seconds`` of (fake) time to say."""

    def __init__(self, replies, clock: FakeClock, seconds: float = 2.0, confidence=None):
        self.replies = list(replies)
        self.clock = clock
        self.seconds = seconds
        self.confidence = confidence

    def listen(self, prompt):
        if not self.replies:
            return None
        self.clock.now += self.seconds
        reply = self.replies.pop(0)
        if isinstance(reply, Heard):
            return reply
        return Heard(reply, "voice" if self.confidence is not None else "scripted", confidence=self.confidence)


class RecordingSink:
    def __init__(self):
        self.events: list[tuple] = []

    def call_started(self, call):
        self.events.append(("started", call.call_id, call.status))

    def turn_scored(self, call, turn):
        self.events.append(("turn", turn.index, turn.turn_id, turn.score, turn.counted))

    def call_ended(self, call):
        self.events.append(("ended", call.status, call.end_reason))


class InterruptingListener:
    """Answers once, then the trainee presses Ctrl-C."""

    def __init__(self, first: str):
        self.first = first
        self.calls = 0

    def listen(self, prompt):
        self.calls += 1
        if self.calls == 1:
            return Heard(self.first, "typed")
        raise KeyboardInterrupt
