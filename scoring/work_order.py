"""The work order (工单) a call ends with: what the scenario expects, what the trainee filled in, and its score.

A scenario may declare the work order a good call ends with (``work_order:`` in its YAML, docs/scenario-format.md).
After the call the trainee fills one in; this module compares the two:
- ``type``: one of ``WORK_ORDER_TYPES``; a complaint logged as a query is wrong (it goes to the wrong desk);
- ``fields``: each against the value drawn for this call, in any common form (（二零二四）沪0105民初2093号 =
  (2024)沪0105民初2093号; 陆法官 = 陆; 一三八… = 138…), as ``value`` key points are judged;
- ``summary``: the scenario's summary points, judged on the trainee's summary text as key points are;
- ``reply_within``: the reply time promised to the caller (两个工作日 = 2个工作日).

Each part is one item, except the type, which counts ``TYPE_WEIGHT`` items because routing is what the work order is
for; ``score`` = 100 × items right / items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scoring.types import KeyPoint

if TYPE_CHECKING:
    from scoring.scorer import Scorer

# The kinds of work order the hotline's system offers; the first line of each is what the form shows.
WORK_ORDER_TYPES = ("联系法官", "咨询", "投诉", "建议", "信访", "求助", "表扬")

# Field names a scenario may ask for, with the label the form and the reports show.
FIELD_TITLES = {
    "case_no": "案号",
    "judge": "承办法官",
    "caller": "来电人姓名",
    "party": "当事人",
    "phone": "联系电话",
    "court": "法院",
    "department": "承办部门",
    "hearing_time": "开庭时间",
    "amount": "金额",
    "request": "诉求",
}

SUMMARY_TITLE = "诉求摘要"
REPLY_WITHIN_TITLE = "答复时限"
TYPE_TITLE = "工单类型"
TYPE_WEIGHT = 2


@dataclass(frozen=True)
class WorkOrderSpec:
    """What the scenario expects the call's work order to say (placeholders filled for the call)."""

    type: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> value, e.g. {"case_no": "（二零二四）沪…号"}
    summary: tuple[KeyPoint, ...] = ()
    reply_within: str = ""  # e.g. 2个工作日; "" when the scenario does not check it


@dataclass(frozen=True)
class WorkOrder:
    """The work order the trainee filled in."""

    type: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    reply_within: str = ""

    @classmethod
    def from_json(cls, data: Mapping) -> WorkOrder:
        """From ``--work-order FILE.json`` or a stored call: {"type", "fields": {...}, "summary", "reply_within"}."""
        fields = data.get("fields") or {}
        return cls(
            type=str(data.get("type") or "").strip(),
            fields={str(k): str(v).strip() for k, v in fields.items() if v is not None},
            summary=str(data.get("summary") or "").strip(),
            reply_within=str(data.get("reply_within") or "").strip(),
        )

    def to_json(self) -> dict:
        return {
            "type": self.type,
            "fields": dict(self.fields),
            "summary": self.summary,
            "reply_within": self.reply_within,
        }

    @property
    def empty(self) -> bool:
        return not (self.type or any(self.fields.values()) or self.summary or self.reply_within)


@dataclass(frozen=True)
class FieldCheck:
    want: str
    got: str
    ok: bool


@dataclass(frozen=True)
class WorkOrderScore:
    score: float
    type_want: str
    type_got: str
    fields: dict[str, FieldCheck]
    summary_hit: tuple[str, ...]
    summary_missed: tuple[str, ...]  # summary point texts the trainee's summary left out
    reply_within: FieldCheck | None
    filled: WorkOrder

    @property
    def type_ok(self) -> bool:
        return self.type_got == self.type_want

    def mistakes(self) -> list[str]:
        """One line per wrong part, in Chinese, for the scorecard and the trainee."""
        out = []
        if not self.type_ok:
            out.append(f"{TYPE_TITLE}应为「{self.type_want}」,填成了「{self.type_got or '(空)'}」")
        for name, check in self.fields.items():
            if not check.ok:
                out.append(f"{FIELD_TITLES.get(name, name)}应为「{check.want}」,填成了「{check.got or '(空)'}」")
        for text in self.summary_missed:
            out.append(f"{SUMMARY_TITLE}漏了: {text}")
        if self.reply_within and not self.reply_within.ok:
            got = self.reply_within.got or "(空)"
            out.append(f"{REPLY_WITHIN_TITLE}应为「{self.reply_within.want}」,填成了「{got}」")
        return out

    def to_json(self) -> dict:
        return {
            "score": self.score,
            "type_ok": self.type_ok,
            "type": {"want": self.type_want, "got": self.type_got},
            "fields": {n: {"want": c.want, "got": c.got, "ok": c.ok} for n, c in self.fields.items()},
            "summary": {"hit": list(self.summary_hit), "missed": list(self.summary_missed)},
            "reply_within": (
                {"want": self.reply_within.want, "got": self.reply_within.got, "ok": self.reply_within.ok}
                if self.reply_within
                else None
            ),
            "filled": self.filled.to_json(),
        }


def same_value(want: str, got: str) -> bool:
    """Whether a filled-in field states the wanted value, in any common form, and no other value of its kind."""
    from scoring.normalize import normalize  # the pinyin tables load lazily: scenarios import this module
    from scoring.values import ValueFinder, ValueRule, value_key

    if not got.strip():
        return False
    # a form's case number often drops its last 号: (2024)沪0105民初2093
    want_key, got_key = value_key(want).removesuffix("号"), value_key(got).removesuffix("号")
    if want_key == got_key:
        return True
    if want_key.endswith("法官") and got_key in (want_key[: -len("法官")], "姓" + want_key[: -len("法官")]):
        return True  # a form's judge field holds the surname alone
    mentions = ValueFinder(ValueRule(want)).mentions(normalize(got))
    affirmed = [m for m in mentions if m.affirmed]
    return any(m.right for m in affirmed) and all(m.right for m in affirmed)


def score_work_order(spec: WorkOrderSpec, filled: WorkOrder | None, scorer: Scorer) -> WorkOrderScore:
    filled = filled or WorkOrder()
    fields = {
        name: FieldCheck(want, filled.fields.get(name, ""), same_value(want, filled.fields.get(name, "")))
        for name, want in spec.fields.items()
    }
    hit: tuple[str, ...] = ()
    if spec.summary and filled.summary:
        analysis = scorer.analyze(filled.summary, (), spec.summary)
        said = {p.id for p in analysis.points}
        hit = tuple(p.id for p in spec.summary if p.id in said)
    missed = tuple(p.text for p in spec.summary if p.id not in hit)
    reply_within = (
        FieldCheck(spec.reply_within, filled.reply_within, same_value(spec.reply_within, filled.reply_within))
        if spec.reply_within
        else None
    )
    type_ok = filled.type == spec.type
    right = (
        TYPE_WEIGHT * type_ok + sum(c.ok for c in fields.values()) + len(hit) + bool(reply_within and reply_within.ok)
    )
    total = TYPE_WEIGHT + len(fields) + len(spec.summary) + (1 if reply_within else 0)
    return WorkOrderScore(
        score=round(100.0 * right / total, 1),
        type_want=spec.type,
        type_got=filled.type,
        fields=fields,
        summary_hit=hit,
        summary_missed=missed,
        reply_within=reply_within,
        filled=filled,
    )
