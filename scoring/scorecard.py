"""The end-of-call scorecard: overall score, pass/fail, categories, forbidden phrases, times, what to practise.

Rules (docs/scoring.md):
- Only judged turns count; a reply the trainee was asked to repeat (``score is None``) is left out.
- ``score`` = the mean of the judged turn scores, minus ``SLOW_DEDUCTION`` for each turn whose
  response took longer than ``slow_after_s`` (15 s, the answering norm of GB/T 33358-2016; at most
  ``SLOW_DEDUCTION_CAP`` in all; pass ``slow_after_s=None`` for typed practice, where typing time is
  not response time), minus ``OVERTIME_DEDUCTION`` when the call ran past its time limit; 0..100.
- ``passed`` = the call was completed, at least one turn was judged, no critical forbidden phrase or
  must-not breach, no fact left stated wrong (a contradiction counts unless a later turn of the call
  states the same point right), and ``score >= PASS_SCORE``. A call failed by a critical breach or a wrong fact
  scores at most ``FAILED_CALL_MAX``, so the number never contradicts the verdict.
- When the scenario asks for a work order (scoring/work_order.py), the turns' part of the score counts
  ``1 - WORK_ORDER_SHARE`` and the work order's score ``WORK_ORDER_SHARE``; a work order left empty scores 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scoring.guide import Guide
from scoring.types import Reason, TurnScore
from scoring.work_order import WorkOrderScore

PASS_SCORE = 60.0
SLOW_AFTER_S = 15.0
SLOW_DEDUCTION = 2.0
SLOW_DEDUCTION_CAP = 10.0
OVERTIME_DEDUCTION = 5.0
WORK_ORDER_SHARE = 0.2
FAILED_CALL_MAX = PASS_SCORE - 1  # the most a call failed by a critical breach or a wrong fact can score


@dataclass
class ScoredTurn:
    turn_id: str
    reply: str
    score: TurnScore | None  # None: the trainee was asked to repeat; not counted
    response_s: float
    key_points: list[str] = field(default_factory=list)  # ids of the key points this turn asked for
    point_texts: dict[str, str] = field(default_factory=dict)  # id -> 询问案号, for practise_next in Chinese


@dataclass
class Scorecard:
    score: float
    passed: bool
    completed: bool
    categories: dict[str, dict[str, int]]
    forbidden: list[dict]
    key_points: dict[str, list[str]]
    turns: list[dict]
    call_s: float
    time_limit_s: float
    over_time: bool
    slow_turns: list[str]
    practise_next: list[str]
    reasons: list[Reason]
    critical: bool = False
    contradictions: list[dict] = field(default_factory=list)  # [{turn, point, text, said, right, corrected}]
    must_not: list[dict] = field(default_factory=list)  # [{id, text, suggest, severity, count}]
    work_order: WorkOrderScore | None = None  # None: the scenario asks for no work order

    def to_json(self) -> dict:
        return {
            "score": self.score,
            "passed": self.passed,
            "completed": self.completed,
            "critical": self.critical,
            "categories": self.categories,
            "forbidden": self.forbidden,
            "key_points": self.key_points,
            "contradictions": self.contradictions,
            "must_not": self.must_not,
            "work_order": self.work_order.to_json() if self.work_order else None,
            "turns": self.turns,
            "call_s": round(self.call_s, 1),
            "time_limit_s": self.time_limit_s,
            "over_time": self.over_time,
            "slow_turns": self.slow_turns,
            "practise_next": self.practise_next,
            "reasons": [{"delta": r.delta, "why": r.why} for r in self.reasons],
        }


def build_scorecard(
    turns: Sequence[ScoredTurn],
    *,
    time_limit_s: float,
    call_s: float,
    completed: bool,
    guide: Guide,
    slow_after_s: float | None = SLOW_AFTER_S,
    work_order: WorkOrderScore | None = None,
) -> Scorecard:
    judged = [t for t in turns if t.score is not None]
    reasons: list[Reason] = []

    categories: dict[str, dict[str, int]] = {}
    for t in judged:
        for cid in t.score.hit + t.score.missed:
            entry = categories.setdefault(cid, {"expected": 0, "hit": 0})
            entry["expected"] += 1
            entry["hit"] += cid in t.score.hit

    forbidden = _tally(
        (u for t in judged for u in t.score.forbidden),
        lambda u: {"id": u.id, "phrase": u.phrase, "suggest": u.suggest, "severity": u.severity},
    )
    critical = any(t.score.critical for t in judged)
    must_not = _tally(
        (u for t in judged for u in t.score.must_not),
        lambda u: {"id": u.id, "text": u.text, "suggest": u.suggest, "severity": u.severity},
    )
    contradictions = []
    for k, t in enumerate(judged):
        for c in t.score.contradictions:
            corrected = any(c.point in later.score.points_hit for later in judged[k + 1 :])
            contradictions.append(
                {
                    "turn": t.turn_id,
                    "point": c.point,
                    "text": t.point_texts.get(c.point, c.point),
                    "said": c.said,
                    "right": c.right,
                    "corrected": corrected,
                }
            )
    wrong_facts = [c for c in contradictions if not c["corrected"]]

    covered = list(dict.fromkeys(p for t in judged for p in t.score.points_hit))
    asked = list(
        dict.fromkeys([p for t in judged for p in t.key_points] + [p for t in judged for p in t.score.points_missed])
    )
    missed_points = [p for p in asked if p not in covered]
    point_texts = {k: v for t in judged for k, v in t.point_texts.items()}

    if judged:
        mean = sum(t.score.score for t in judged) / len(judged)
        reasons.append(Reason(round(mean, 1), f"{len(judged)} 轮已评分回复的平均分"))
    else:
        mean = 0.0
        reasons.append(Reason(0.0, "没有可评分的回复"))
    if work_order is not None:
        turns_part = mean * (1 - WORK_ORDER_SHARE)
        reasons.append(
            Reason(
                round(work_order.score * WORK_ORDER_SHARE - mean * WORK_ORDER_SHARE, 1),
                f"工单 {work_order.score:g} 分,占总分 {WORK_ORDER_SHARE:.0%}",
            )
        )
        for line in work_order.mistakes():
            reasons.append(Reason(0.0, line))
        mean = turns_part + work_order.score * WORK_ORDER_SHARE
    skipped = len(turns) - len(judged)
    if skipped:
        reasons.append(Reason(0.0, f"{skipped} 轮因没听清请学员重说,不计分"))

    slow = [t.turn_id for t in judged if slow_after_s is not None and t.response_s > slow_after_s]
    deduction = min(SLOW_DEDUCTION_CAP, SLOW_DEDUCTION * len(slow))
    if deduction:
        reasons.append(
            Reason(
                -deduction,
                f"{len(slow)} 轮应答超过 {slow_after_s:g} 秒(每轮扣 {SLOW_DEDUCTION:g} 分,最多扣 {SLOW_DEDUCTION_CAP:g} 分)",
            )
        )
    over_time = bool(time_limit_s) and call_s > time_limit_s
    if over_time:
        deduction += OVERTIME_DEDUCTION
        reasons.append(Reason(-OVERTIME_DEDUCTION, f"通话 {call_s:.0f} 秒,超过时限 {time_limit_s:g} 秒"))
    score = round(max(0.0, min(100.0, mean - deduction)), 1)

    passed = completed and bool(judged) and not critical and not wrong_facts and score >= PASS_SCORE
    if (critical or wrong_facts) and score > FAILED_CALL_MAX:
        # a call that fails on what was said must not read as a good score: 88 分, 不合格 confuses a trainee
        reasons.append(Reason(round(FAILED_CALL_MAX - score, 1), f"不合格的通话总分最高计 {FAILED_CALL_MAX:g} 分"))
        score = FAILED_CALL_MAX
    if critical:
        reasons.append(Reason(0.0, "使用了严重禁语或说了严重违规的话,本次通话不合格"))
    for c in wrong_facts:
        reasons.append(
            Reason(0.0, f"「{c['text']}」说成了「{c['said']}」(正确的是「{c['right']}」)且没有更正,本次通话不合格")
        )
    if not completed:
        reasons.append(Reason(0.0, "通话没有完成,不判定合格"))
    if completed and judged and not critical and not wrong_facts and score < PASS_SCORE:
        reasons.append(Reason(0.0, f"总分低于 {PASS_SCORE:g} 分,不合格"))

    return Scorecard(
        score=score,
        passed=passed,
        completed=completed,
        categories=categories,
        forbidden=forbidden,
        key_points={"covered": covered, "missed": missed_points},
        turns=[
            {"turn": t.turn_id, "score": t.score.score if t.score else None, "response_s": round(t.response_s, 1)}
            for t in turns
        ],
        call_s=call_s,
        time_limit_s=time_limit_s,
        over_time=over_time,
        slow_turns=slow,
        practise_next=practise_next(
            categories,
            forbidden,
            [point_texts.get(p, p) for p in missed_points],
            slow,
            over_time,
            guide,
            slow_after_s,
            completed=completed,
            contradictions=wrong_facts,
            must_not=must_not,
            work_order=work_order,
        ),
        reasons=reasons,
        critical=critical,
        contradictions=contradictions,
        must_not=must_not,
        work_order=work_order,
    )


def _tally(uses: Iterable, describe: Callable[[Any], dict]) -> list[dict]:
    """One entry per id, as ``describe`` gives its first use, with how many times it was used."""
    count: Counter[str] = Counter()
    first: dict[str, dict] = {}
    for use in uses:
        count[use.id] += 1
        first.setdefault(use.id, describe(use))
    return [dict(first[uid], count=n) for uid, n in count.items()]


def practise_next(
    categories: dict[str, dict[str, int]],
    forbidden: list[dict],
    missed_points: list[str],
    slow: list[str],
    over_time: bool,
    guide: Guide,
    slow_after_s: float | None = SLOW_AFTER_S,
    *,
    completed: bool = True,
    contradictions: Sequence[dict] = (),
    must_not: Sequence[dict] = (),
    work_order: WorkOrderScore | None = None,
) -> list[str]:
    """Three short things to practise, most important first: wrong facts, must-not breaches, forbidden phrases,
    missed categories, points, time."""
    rank = {"critical": 0, "major": 1, "minor": 2}
    items: list[str] = []
    if not completed:
        items.append("把这通电话完整地接完:练习中途结束了,再练一遍")
    for c in contradictions:
        items.append(f"说准事实:「{c['text']}」是「{c['right']}」,不是「{c['said']}」;没把握时先查询再回答")
    for m in sorted(must_not, key=lambda m: (rank.get(m["severity"], 1), -m["count"], m["id"])):
        items.append(f"不要{m['text']},改说「{m['suggest']}」")
    if work_order is not None and work_order.score < 100:
        mistakes = work_order.mistakes()
        items.append("挂断后把工单填完整、填准确" + (f":{mistakes[0]}" if mistakes else ""))
    for f in sorted(forbidden, key=lambda f: (rank.get(f["severity"], 1), -f["count"], f["id"])):
        items.append(f"改掉禁语「{f['phrase']}」,改说「{f['suggest']}」")
    misses = sorted(
        ((c["expected"] - c["hit"], cid) for cid, c in categories.items() if c["expected"] > c["hit"]),
        key=lambda x: (-x[0], x[1]),
    )
    for _, cid in misses:
        category = guide.categories.get(cid)
        if category:
            items.append(f"练习「{category.title}」:{category.standard}")
        else:
            items.append(f"练习「{cid}」")
    if missed_points:
        items.append(f"记得问到要点:{'、'.join(missed_points[:3])}")
    if slow:
        items.append(f"加快应答:{len(slow)} 轮超过 {slow_after_s:g} 秒")
    if over_time:
        items.append("控制通话时长:先问关键信息,再解释细节")
    fillers = (
        "保持规范用语,试试难度更高的场景",
        "练习用自己的话说出规范用语的意思",
        "用考试模式 (--exam) 再练一遍这个场景",
    )
    # general advice fills up a finished call's list only: after a call cut short, finishing it is the advice
    for filler in fillers if completed else ():
        if len(items) >= 3:
            break
        items.append(filler)
    return items[:3]
