"""The session engine: one practice call from the caller's first line to the scorecard.

It draws the scenario's variables, walks the turn graph, scores each reply, takes the first
branch whose condition holds, and times every turn and the whole call. The call is handed to
a ``CallSink`` as it happens (each turn when scored), so Ctrl-C or a scripted run that runs out
of replies leaves an incomplete call saved, never lost. A reply too unclear to score fairly is
not scored: the trainee is asked to repeat it (``why_repeat``). Speaking, listening and showing
things go through small interfaces so the engine runs the same in a terminal, a test or a
benchmark.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from core.errors import TrainerError
from scoring.scorecard import PASS_SCORE
from scoring.work_order import WorkOrder, WorkOrderScore, WorkOrderSpec
from simulator.engines.base import Heard, Listener, Source, Speaker
from simulator.record import (
    COMPLETE,
    END_REACHED,
    FAILED,
    HUNG_UP,
    INCOMPLETE,
    INTERRUPTED,
    REPLIES_EXHAUSTED,
    TIME_LIMIT,
    CallRecord,
    CallSink,
    NullSink,
    TurnRecord,
    new_call_id,
)
from simulator.scenario import END, PLACEHOLDER, Condition, Scenario, Turn, fill

if TYPE_CHECKING:
    from scoring.scorecard import Scorecard
    from scoring.scorer import Scorer
    from scoring.types import ReplyAnalysis, TurnScore

# Below this recognizer confidence a spoken reply is not scored: the trainee is asked "请再说一遍". On the voice
# bench, clear neural-voice speech scored 0.63-0.81 and robotic espeak-ng speech the recognizer garbled scored
# 0.00-0.48; silence and noise give 0.
LOW_CONFIDENCE = 0.5


T = TypeVar("T")

# Where the trainee's work order comes from once a call that asks for one ends: the terminal form, a replies file's
# [工单] section, --work-order FILE.json, or an example's work_order (simulator/work_order_form.py).
WorkOrderSource = Callable[[WorkOrderSpec], WorkOrder | None]


class SessionUI(Protocol):
    """What the trainee sees. ``simulator.ui`` has the terminal one; tests use a silent one."""

    def call_starts(self, scenario: Scenario, call: CallRecord) -> None: ...

    def caller_says(self, name: str, text: str) -> None: ...

    def notice(self, text: str) -> None: ...

    def ask_repeat(self, reason: str) -> None: ...

    def feedback(self, turn: Turn, record: TurnRecord, analysis: ReplyAnalysis, score: TurnScore) -> None: ...

    def offer_retry(self) -> bool: ...

    def mentor_comment(self, mentor: str) -> str: ...

    def call_ends(self, scenario: Scenario, call: CallRecord, scorecard: Scorecard, hidden: list[str]) -> None: ...


class SilentUI:
    """Shows nothing and never asks: for exam scoring, tests, ``test`` and ``--json``."""

    def __init__(self) -> None:
        self.notices: list[str] = []

    def call_starts(self, scenario, call) -> None:
        pass

    def caller_says(self, name, text) -> None:
        pass

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def ask_repeat(self, reason: str) -> None:
        self.notices.append(reason)

    def feedback(self, turn, record, analysis, score) -> None:
        pass

    def offer_retry(self) -> bool:
        return False

    def mentor_comment(self, mentor: str) -> str:
        return ""

    def call_ends(self, scenario, call, scorecard, hidden) -> None:
        pass


@dataclass
class SessionOptions:
    trainee: str = "学员"
    mentor: str = ""
    exam: bool = False  # no feedback until the end
    seed: int | None = None
    min_confidence: float = LOW_CONFIDENCE
    max_repeats: int = 3  # after this many "请再说一遍" in a row the reply is scored as it is
    assignment_id: int | None = None  # the assignment this call is practised against


@dataclass(frozen=True)
class _Stop:
    """Why a call stops before ``end`` (kept apart from turn ids, which authors may name freely)."""

    reason: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def condition_holds(when: Condition | None, analysis: ReplyAnalysis, score: TurnScore) -> bool:
    if when is None:
        return True
    categories = set(analysis.categories)
    points = {p.id for p in analysis.points}
    checks = (
        when.hit is None or when.hit in categories,
        when.missed is None or when.missed not in categories,
        when.point is None or when.point in points,
        when.missed_point is None or when.missed_point not in points,
        when.forbidden is None or when.forbidden == bool(analysis.forbidden),
        when.must_not is None or when.must_not == bool(analysis.must_not),
        when.contradiction is None or when.contradiction == bool(analysis.contradictions),
        when.score_below is None or score.score < when.score_below,
        when.score_at_least is None or score.score >= when.score_at_least,
    )
    return all(checks)


@dataclass(frozen=True)
class TurnRules:
    """What one turn of one call judges a reply by: its categories, its key points with this call's values,
    and the scenario's and the turn's must-not rules."""

    expect: tuple[str, ...]
    points: tuple
    must_not: tuple

    @classmethod
    def of(cls, scenario: Scenario, turn: Turn, values: dict[str, str]) -> TurnRules:
        points = tuple(scenario.point_for_call(p, values) for p in turn.key_points)
        return cls(turn.expect, points, scenario.rules_for_turn(turn, values))

    def judge(self, scorer: Scorer, reply: str) -> tuple[ReplyAnalysis, TurnScore]:
        analysis = scorer.analyze(reply, self.expect, self.points, self.must_not)
        return analysis, scorer.score_turn(analysis, self.expect, self.points)


def judge_reply(
    scenario: Scenario, turn_id: str, reply: str, scorer: Scorer, values: dict[str, str] | None = None, seed: int = 0
) -> tuple[ReplyAnalysis, TurnScore, str]:
    """One reply at one turn, out of a call: the analysis, the turn score and the branch it would take.
    ``values`` fix some variables (the rest are drawn with ``seed``); ``{变量}`` in the reply are filled."""
    drawn = {**scenario.draw(seed), **(values or {})}
    turn = scenario.turns[turn_id]
    analysis, score = TurnRules.of(scenario, turn, drawn).judge(scorer, fill(reply, drawn))
    return analysis, score, next_turn(turn, analysis, score)


def why_repeat(
    heard: Heard,
    analysis: ReplyAnalysis,
    min_confidence: float = LOW_CONFIDENCE,
    *,
    expect: Sequence[str] | None = None,
    points: Sequence = (),
) -> str:
    """Why the reply is too unclear to score fairly ("" when it can be scored): the scorer cannot judge it (empty,
    garbled), or the recognizer was unsure where its doubt could change the score. Typed replies carry no
    confidence.

    With the turn's ``expect`` and key ``points`` given, an unsure transcript is asked again only when something
    expected was not heard (it may have been said) or a penalty was found (a forbidden phrase, a wrong fact, a
    must-not breach a mishearing could have made up); one that already earns everything asked of it is scored as
    heard. Short greetings come back unsure even when clean (您好，请讲: 0.54-0.56), and asking a trainee to repeat
    a perfect reply is unfair. Without ``expect`` any unsure transcript is asked again."""
    if not analysis.judgeable:
        return analysis.why_not_judgeable or "没有听清"
    if heard.confidence is None or heard.confidence >= min_confidence:
        return ""
    if expect is not None:
        missed = set(expect) - set(analysis.categories)
        unheard_points = {p.id for p in points} - {m.id for m in analysis.points}
        penalties = analysis.forbidden or analysis.contradictions or analysis.must_not
        if not (missed or unheard_points or penalties):
            return ""
    return "没有听清 (识别置信度低)"


def next_turn(turn: Turn, analysis: ReplyAnalysis, score: TurnScore) -> str:
    """The first branch whose condition holds (the validator guarantees a fallback)."""
    for branch in turn.next:
        if condition_holds(branch.when, analysis, score):
            return branch.goto
    return END


class Session:
    def __init__(
        self,
        scenario: Scenario,
        scorer: Scorer,
        listener: Listener,
        *,
        speaker: Speaker | None = None,
        ui: SessionUI | None = None,
        sink: CallSink | None = None,
        options: SessionOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
        work_order: WorkOrderSource | None = None,
    ):
        self.scenario = scenario
        self.work_order_source = work_order
        self.scorer = scorer
        self.listener = listener
        self.speaker = speaker
        self.ui = ui or SilentUI()
        self.sink: CallSink = NullSink() if sink is None else sink
        self.options = options or SessionOptions()
        self.clock = clock
        self.values = scenario.draw(self.options.seed)
        self.call = CallRecord(
            call_id=new_call_id(),
            trainee=self.options.trainee,
            scenario_id=scenario.id,
            scenario_hash=scenario.content_hash,
            scenario_title=scenario.title,
            mentor=self.options.mentor,
            mode="exam" if self.options.exam else "mentor",
            variables=dict(self.values),
            seed=self.options.seed,
            time_limit_s=scenario.time_limit_s,
            assignment_id=self.options.assignment_id,
        )
        self.scorecard: Scorecard | None = None
        self._audio_failed = False
        self._turn_scores: dict[int, TurnScore] = {}

    # -- the call -----------------------------------------------------------------------

    def run(self) -> CallRecord:
        call = self.call
        call.started_at = _now()
        self.sink.call_started(call)
        self.ui.call_starts(self.scenario, call)
        started = self.clock()
        self._paused_s = 0.0  # time the mentor's prompts took: not the trainee's call time
        turn_id = self.scenario.start
        reason = END_REACHED
        try:
            while turn_id != END:
                if self._call_time(started) >= self.scenario.time_limit_s:
                    reason = TIME_LIMIT
                    self.ui.notice(f"已到通话时限 {self.scenario.time_limit_s} 秒, 通话结束。")
                    break
                outcome = self._play_turn(self.scenario.turns[turn_id])
                if isinstance(outcome, _Stop):
                    reason = outcome.reason
                    break
                turn_id = outcome
        except KeyboardInterrupt:
            reason = INTERRUPTED
        except Exception:
            reason = FAILED  # saved as incomplete, then the error goes on to the CLI's one-line message
            raise
        finally:
            call.call_s = round(self._call_time(started), 3)
            self._finish(reason)
        return call

    def _call_time(self, started: float) -> float:
        return self.clock() - started - self._paused_s

    def _paused(self, ask: Callable[[], T]) -> T:
        """Run a mentor-side prompt (comment, retry) with the call clock stopped."""
        began = self.clock()
        try:
            return ask()
        finally:
            self._paused_s += self.clock() - began

    def _play_turn(self, turn: Turn) -> str | _Stop:
        """Speak the caller's line, take replies until one is scored; return the next turn id, or why to stop."""
        line = fill(turn.say, self.values)
        self._speak(line)
        rules = TurnRules.of(self.scenario, turn, self.values)
        repeats = 0
        retry_of: int | None = None
        while True:
            asked_at = self.clock()
            heard = self.listener.listen(line)
            if heard is None:
                return _Stop(REPLIES_EXHAUSTED)
            if heard.hangup:
                return _Stop(HUNG_UP)
            response_s = round(self.clock() - asked_at, 3)
            if heard.scripted:  # scripted replies may name drawn values: 您找的是{judge}
                heard.text = fill(heard.text, self.values)
            analysis = self.scorer.analyze(heard.text, rules.expect, rules.points, rules.must_not)
            why = why_repeat(heard, analysis, self.options.min_confidence, expect=rules.expect, points=rules.points)
            if why and repeats < self.options.max_repeats:
                repeats += 1
                self._record(turn, line, heard, response_s, analysis, None, asked_repeat=True, why=why)
                self.ui.ask_repeat(f"{why}: 请再说一遍。")
                continue
            score = self.scorer.score_turn(analysis, rules.expect, rules.points)
            goto = next_turn(turn, analysis, score)
            record = self._record(turn, line, heard, response_s, analysis, score, goto=goto, retry_of=retry_of)
            if self.options.exam:
                return goto
            self.ui.feedback(replace(turn, hint=fill(turn.hint, self.values)), record, analysis, score)
            if self.options.mentor:
                comment = self._paused(lambda: self.ui.mentor_comment(self.options.mentor))
                if comment:
                    record.comment = comment
                    self.sink.turn_scored(self.call, record)
            # a retry is offered for a reply below the pass mark only: a good one goes on without a prompt
            if score.score < PASS_SCORE and self._paused(self.ui.offer_retry):
                record.counted = False
                self.sink.turn_scored(self.call, record)
                retry_of = record.index
                repeats = 0
                self.ui.caller_says(self.scenario.caller.name, line)
                continue
            return goto

    def _record(
        self,
        turn: Turn,
        line: str,
        heard: Heard,
        response_s: float,
        analysis: ReplyAnalysis,
        score: TurnScore | None,
        *,
        asked_repeat: bool = False,
        why: str = "",
        goto: str | None = None,
        retry_of: int | None = None,
    ) -> TurnRecord:
        record = TurnRecord(
            index=len(self.call.turns),
            turn_id=turn.id,
            caller_line=line,
            reply=heard.text,
            source=heard.source.value,
            response_s=response_s,
            categories=list(analysis.categories),
            expected=list(turn.expect),
            analysis=analysis.to_json(),
            asked_repeat=asked_repeat,
            retry_of=retry_of,
            counted=not asked_repeat,
            confidence=heard.confidence,
            audio_path=heard.audio_path,
            speech=dict(heard.metrics),
            next_turn=goto,
            at=_now(),
        )
        if score is not None:
            self._turn_scores[record.index] = score
            record.score = round(score.score, 1)
            record.missed = list(score.missed)
            record.points_hit = list(score.points_hit)
            record.points_missed = list(score.points_missed)
            record.forbidden = record.analysis["forbidden"]
            record.contradictions = record.analysis["contradictions"]
            record.must_not = record.analysis["must_not"]
            record.reasons = [{"delta": r.delta, "why": r.why} for r in score.reasons]
        elif why:
            record.reasons = [{"delta": 0, "why": f"{why}, 请学员重说, 不扣分"}]
        self.call.turns.append(record)
        self.sink.turn_scored(self.call, record)
        return record

    def _speak(self, line: str) -> None:
        self.ui.caller_says(self.scenario.caller.name, line)
        if self.speaker is None or self._audio_failed:
            return
        try:
            wav = self.speaker.render(line, self.scenario.caller.voice)
            if not self.speaker.play(wav):
                self._voice_lost(line, "没有可用的音频输出设备: 来电人的话只以文字显示。")
        except TrainerError as exc:
            self._voice_lost(line, f"语音不可用 ({exc}): 来电人的话只以文字显示。")

    def _voice_lost(self, line: str, why: str) -> None:
        self._audio_failed = True
        self.ui.notice(why)
        if getattr(self.ui, "subtitles", True) is False:  # the trainee heard nothing and saw nothing: show it
            self.ui.subtitles = True
            self.ui.caller_says(self.scenario.caller.name, line)

    def _finish(self, reason: str) -> None:
        from scoring.scorecard import build_scorecard

        call = self.call
        call.end_reason = reason
        # the trainee hanging up before the end is no completed call (it cannot pass)
        call.status = INCOMPLETE if reason in (INTERRUPTED, REPLIES_EXHAUSTED, FAILED, HUNG_UP) else COMPLETE
        call.ended_at = _now()
        scored = [self._scored_turn(t) for t in call.turns if t.counted or t.asked_repeat]
        # Typing is slower than speaking: only spoken answers are held to the 15 s answering norm.
        spoken = any(Source(t.source).spoken for t in call.turns)
        work_order = self._work_order() if call.completed else None
        self.scorecard = build_scorecard(
            scored,
            time_limit_s=self.scenario.time_limit_s,
            call_s=call.call_s,
            completed=call.completed,
            guide=self.scorer.guide,
            **({} if spoken else {"slow_after_s": None}),
            work_order=work_order,
        )
        call.scorecard = self.scorecard.to_json()
        self.sink.call_ended(call)
        hidden = [fill(h, self.values) for h in self.scenario.hidden]
        self.ui.call_ends(self.scenario, call, self.scorecard, hidden)

    def _work_order(self) -> WorkOrderScore | None:
        """The trainee's work order for a completed call, scored; None when the scenario asks for none."""
        from scoring.work_order import score_work_order
        from simulator.work_order_form import filled_with

        spec = self.scenario.work_order_for_call(self.values)
        if spec is None:
            return None
        filled = None
        if self.work_order_source is not None:
            try:
                filled = self.work_order_source(spec)
            except (KeyboardInterrupt, EOFError):  # the call is over and saved: an abandoned form is an empty one
                self.ui.notice("工单没有填完, 按空工单评分。")
        if filled is not None:
            filled = filled_with(filled, self.values)  # scripted work orders may name drawn values: {case_no}
        return score_work_order(spec, filled, self.scorer)

    def _scored_turn(self, t: TurnRecord):
        from scoring.scorecard import ScoredTurn

        score = None if t.asked_repeat else self._turn_scores.get(t.index)
        turn = self.scenario.turns[t.turn_id]
        return ScoredTurn(
            turn_id=t.turn_id,
            reply=t.reply,
            score=score,
            response_s=t.response_s,
            key_points=[p.id for p in turn.key_points],
            point_texts={p.id: fill(p.text, self.values) for p in turn.key_points},
        )


# -- helpers for render, test and tests ----------------------------------------------------


def caller_lines(scenario: Scenario) -> list[str]:
    """Every line the caller can say, with every value its placeholders can take (for pre-rendering)."""
    lines: list[str] = []
    for turn in scenario.turns.values():
        names = sorted({m.group(1) for m in PLACEHOLDER.finditer(turn.say)} & set(scenario.variables))
        for combo in itertools.product(*(scenario.variables[n] for n in names)):
            line = fill(turn.say, dict(zip(names, combo, strict=True)))
            if line not in lines:
                lines.append(line)
    return lines


def play(
    scenario: Scenario,
    replies: Sequence[str],
    *,
    seed: int | None = 0,
    scorer: Scorer | None = None,
    sink: CallSink | None = None,
    exam: bool = True,
    work_order: WorkOrder | None = None,
) -> Session:
    """Play a scripted call silently and return the finished session (its ``call`` and ``scorecard``); ``work_order``
    is what the scripted trainee fills in if the scenario asks for one."""
    from scoring.scorer import Scorer
    from simulator.engines.scripted_listener import ScriptedListener

    session = Session(
        scenario,
        scorer or Scorer.default(),
        ScriptedListener(replies),
        sink=sink,
        options=SessionOptions(trainee="示例", exam=exam, seed=seed),
        work_order=lambda spec: work_order,
    )
    session.run()
    return session


def play_examples(scenario: Scenario, scorer: Scorer | None = None) -> list[dict]:
    """Play each of the scenario's examples; report whether score and path land where the author said."""
    results = []
    reached_turns: set[str] = set()
    reached_edges: set[tuple[str, str]] = set()
    for example in scenario.examples:
        values = scenario.draw(example.seed)
        replies = [fill(r, values) for r in example.replies]
        session = play(scenario, replies, seed=example.seed, scorer=scorer, work_order=example.work_order)
        unused = len(replies) - session.listener.used
        score = session.scorecard.score if session.scorecard else 0.0
        path = _visited(session.call)
        low, high = example.score
        why = ""
        expected_path = [p for p in example.path if p != END]
        if example.path and path != expected_path:
            why = _divergence(scenario, session.call, path, expected_path)
        elif not low <= score <= high:
            why = f"得分 {score:.0f} 不在 {low:g}-{high:g} 之间"
        elif example.passed is not None and session.scorecard and session.scorecard.passed != example.passed:
            why = "通话判定为" + ("合格" if session.scorecard.passed else "不合格") + ", 与预期不同"
        elif session.call.end_reason == REPLIES_EXHAUSTED:
            why = f"回答不够: 在轮次 {session.call.turns[-1].turn_id if session.call.turns else scenario.start} 之后没有回答了"
        elif unused:
            why = f"通话已结束, 还有 {unused} 句回答没用上"
        edges = list(zip(path, path[1:], strict=False))
        if path and session.call.end_reason == END_REACHED:
            edges.append((path[-1], END))
        reached_turns.update(path)
        reached_edges.update(edges)
        results.append(
            {
                "scenario": scenario.id,
                "example": example.name,
                "score": round(score, 1),
                "expected": [low, high],
                "path": path,
                "expected_path": list(example.path),
                "end_reason": session.call.end_reason,
                "ok": not why,
                "why": why,
            }
        )
    coverage = Coverage.of(scenario, reached_turns, reached_edges).to_json()
    for result in results:  # the scenario's coverage by all its examples, on each of its rows
        result["coverage"] = coverage
    return results


@dataclass(frozen=True)
class Coverage:
    """Which turns and branches a scenario's examples reach."""

    turns: int
    turns_reached: int
    branches: int
    branches_reached: int
    unreached_turns: tuple[str, ...]
    unreached_branches: tuple[str, ...]  # "turn → target"

    @classmethod
    def of(cls, scenario: Scenario, turns: set[str], edges: set[tuple[str, str]]) -> Coverage:
        all_edges = list(dict.fromkeys((t.id, b.goto) for t in scenario.turns.values() for b in t.next))
        return cls(
            turns=len(scenario.turns),
            turns_reached=len(turns & set(scenario.turns)),
            branches=len(all_edges),
            branches_reached=sum(e in edges for e in all_edges),
            unreached_turns=tuple(t for t in scenario.turns if t not in turns),
            unreached_branches=tuple(f"{a} → {b}" for a, b in all_edges if (a, b) not in edges),
        )

    @property
    def turn_share(self) -> float:
        return self.turns_reached / self.turns if self.turns else 1.0

    def to_json(self) -> dict:
        return {
            "turns": [self.turns_reached, self.turns],
            "branches": [self.branches_reached, self.branches],
            "turn_share": round(self.turn_share, 3),
            "unreached_turns": list(self.unreached_turns),
            "unreached_branches": list(self.unreached_branches),
        }


def _divergence(scenario: Scenario, call: CallRecord, path: list[str], expected: list[str]) -> str:
    """Where a run left the author's path: the turn, the reply given there and what it did and missed, in the
    names a trainee sees (the guide's category titles, the scenario's key-point texts)."""
    from scoring.guide import category_title

    k = next((i for i, (a, b) in enumerate(zip(path, expected, strict=False)) if a != b), min(len(path), len(expected)))
    head = f"路径在第 {k + 1} 轮走到 {path[k] if k < len(path) else '(结束)'}, 预期 {expected[k] if k < len(expected) else '(结束)'}"
    turns = [t for t in call.turns if t.counted]
    if k == 0 or k > len(turns):
        return head
    turn = turns[k - 1]  # the reply that chose the branch
    texts = {p.id: p.text for p in scenario.turns[turn.turn_id].key_points}
    did = "、".join([category_title(c) for c in turn.categories] + [texts.get(p, p) for p in turn.points_hit])
    missed = "、".join([category_title(c) for c in turn.missed] + [texts.get(p, p) for p in turn.points_missed])
    did, missed = did or "无", missed or "无"
    forbidden = "、".join(f["phrase"] for f in turn.forbidden)
    return f"{head}: 上一轮 {turn.turn_id} 的回答「{turn.reply}」做到 {did}; 漏了 {missed}" + (
        f"; 禁语 {forbidden}" if forbidden else ""
    )


def _visited(call: CallRecord) -> list[str]:
    """Turn ids in the order visited (a repeated or retried turn counts once per visit)."""
    path: list[str] = []
    for turn in call.turns:
        if not turn.counted:
            continue
        path.append(turn.turn_id)
    return path
