"""The record of one practice call, built turn by turn by the session and saved by the history store."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

# Call status
IN_PROGRESS = "in_progress"
COMPLETE = "complete"
INCOMPLETE = "incomplete"

# Why a call ended
END_REACHED = "end"
TIME_LIMIT = "time_limit"
HUNG_UP = "hangup"
INTERRUPTED = "interrupted"  # Ctrl-C
REPLIES_EXHAUSTED = "replies_exhausted"  # a scripted run or stdin ran out
FAILED = "error"  # an engine or input error stopped the call; the CLI shows the error
ABANDONED = "abandoned"  # left in progress by a process that died; closed when the store next opened


def new_call_id() -> str:
    """12 hex digits: short enough to type a prefix of, and unique across millions of calls."""
    return secrets.token_hex(6)


@dataclass
class TurnRecord:
    """One answered turn. A reply the scorer could not judge is kept with ``asked_repeat`` and no score."""

    index: int  # 0-based position in the call, counting repeats and retries
    turn_id: str
    caller_line: str
    reply: str
    source: str  # typed | scripted | voice | wav
    response_s: float  # from the end of the caller's line to the reply
    categories: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    forbidden: list[dict] = field(default_factory=list)  # ForbiddenUse as dicts
    points_hit: list[str] = field(default_factory=list)
    points_missed: list[str] = field(default_factory=list)
    contradictions: list[dict] = field(default_factory=list)  # [{"point", "said", "right", "span"}]
    must_not: list[dict] = field(default_factory=list)  # [{"id", "span", "text", "suggest", "severity"}]
    score: float | None = None  # None when asked to repeat
    reasons: list[dict] = field(default_factory=list)  # [{"delta": -10, "why": "..."}]
    analysis: dict = field(default_factory=dict)  # ReplyAnalysis.to_json()
    asked_repeat: bool = False
    retry_of: int | None = None  # index of the attempt this one retries (mentor mode)
    counted: bool = True  # False for an attempt superseded by a retry
    confidence: float | None = None
    audio_path: str | None = None
    speech: dict = field(default_factory=dict)  # chars_per_min, silence_before_s, longest_pause_s
    comment: str = ""  # mentor's comment
    next_turn: str | None = None  # branch taken
    at: str = ""  # ISO time the reply was scored

    def to_json(self) -> dict:
        from dataclasses import asdict

        return asdict(self)

    def shown(self) -> dict:
        """The turn as every ``--json`` shows it (``practice``, ``history show``): one shape, one place."""
        return {
            "n": self.index + 1,
            "index": self.index,
            "turn": self.turn_id,
            "caller_line": self.caller_line,
            "reply": self.reply,
            "source": self.source,
            "audio_path": self.audio_path,
            "confidence": self.confidence,
            "response_s": self.response_s,
            "categories": self.categories,
            "expected": self.expected,
            "missed": self.missed,
            "forbidden": self.forbidden,
            "points_hit": self.points_hit,
            "points_missed": self.points_missed,
            "contradictions": self.contradictions,
            "must_not": self.must_not,
            "suggestions": self.analysis.get("suggestions", []),
            "score": self.score,
            "reasons": self.reasons,
            "asked_repeat": self.asked_repeat,
            "counted": self.counted,
            "retry_of": self.retry_of,
            "speech": self.speech,
            "comment": self.comment,
            "next_turn": self.next_turn,
            "at": self.at,
        }


@dataclass
class CallRecord:
    call_id: str
    trainee: str
    scenario_id: str
    scenario_hash: str
    scenario_title: str = ""
    mentor: str = ""
    mode: str = "mentor"  # mentor | exam
    variables: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    started_at: str = ""  # ISO 8601, UTC
    ended_at: str = ""
    status: str = IN_PROGRESS
    end_reason: str = ""
    time_limit_s: int = 0
    call_s: float = 0.0
    turns: list[TurnRecord] = field(default_factory=list)
    scorecard: dict = field(default_factory=dict)  # Scorecard.to_json() once the call ends
    assignment_id: int | None = None  # the assignment practised (practice --assignment ID)

    @property
    def completed(self) -> bool:
        return self.status == COMPLETE


class CallSink(Protocol):
    """Where a session saves the call as it happens (the history store implements it)."""

    def call_started(self, call: CallRecord) -> None: ...

    def turn_scored(self, call: CallRecord, turn: TurnRecord) -> None: ...

    def call_ended(self, call: CallRecord) -> None: ...


class NullSink:
    """A ``CallSink`` that keeps nothing: practice with ``--no-save``, examples and tests."""

    def call_started(self, call: CallRecord) -> None:
        pass

    def turn_scored(self, call: CallRecord, turn: TurnRecord) -> None:
        pass

    def call_ended(self, call: CallRecord) -> None:
        pass


class RecoveringSink:
    """Passes a call to ``sink``; if a write fails mid-call (disk full, damaged or read-only database), keeps the
    call going and writes the whole call to ``recovery_dir/<call_id>.json`` after every turn instead, telling the
    trainee once. Nothing the trainee did is lost."""

    def __init__(self, sink: CallSink, recovery_dir: Path, notice: Callable[[str], None]):
        self.sink = sink
        self.recovery_dir = recovery_dir
        self.notice = notice
        self.recovered: Path | None = None  # the file the call went to, once the sink failed
        self.lost = False  # the recovery file could not be written either

    def call_started(self, call: CallRecord) -> None:
        self._pass(call, lambda: self.sink.call_started(call))

    def turn_scored(self, call: CallRecord, turn: TurnRecord) -> None:
        self._pass(call, lambda: self.sink.turn_scored(call, turn))

    def call_ended(self, call: CallRecord) -> None:
        self._pass(call, lambda: self.sink.call_ended(call))

    def _pass(self, call: CallRecord, write: Callable[[], None]) -> None:
        if self.recovered is None:
            try:
                write()
                return
            except Exception as exc:  # noqa: BLE001 - whatever the store raised, the call must survive it
                self.recovered = self.recovery_dir / f"{call.call_id}.json"
                self.notice(f"成绩没能保存 ({str(exc).splitlines()[0]}); 本通电话改存到 {self.recovered}, 练习继续")
        self._dump(call)

    def _dump(self, call: CallRecord) -> None:
        if self.recovered is None:
            return
        data = asdict(call)  # the turns too: asdict walks nested dataclasses
        try:
            self.recovery_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.recovered.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, self.recovered)
        except OSError as exc:
            if not self.lost:
                self.notice(f"恢复文件 {self.recovered} 也写不进去 ({exc.strerror}); 通话记录只在屏幕上的成绩卡里")
            self.lost = True
