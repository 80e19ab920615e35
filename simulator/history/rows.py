"""What the store's tables hold, as dataclasses: the rows queries return, and calls and turns as table rows.

Column lists are built from the dataclasses' fields, and result rows are read by column name: no statement
depends on the order of its columns. A field added to ``CallRecord`` or ``TurnRecord`` is written and read with
the rest (its column comes with a migration); a query that does not name a field of the row it returns fails at
once, naming the column. Times are stored as UTC text (``utc_iso``), which sorts in time order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field, asdict, dataclass, fields
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import TrainerError
from simulator.record import CallRecord, TurnRecord

if TYPE_CHECKING:
    from simulator.history.sqlite_dialect import Row  # or postgres_dialect.Row: both read by name and position

T = TypeVar("T")


def utc_iso(value: str | datetime | None = None) -> str:
    """A time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), so that stored times sort as strings."""
    if value is None or value == "":
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise TrainerError(f"无法识别的时间 {value!r} - 请用 YYYY-MM-DD 或 ISO 8601 格式") from exc
    if moment.tzinfo is None:  # a bare date or time given by a user means their local time
        moment = moment.astimezone()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def without_nul(value: Any) -> Any:
    """``value`` with each NUL character (in strings, lists and dicts) replaced by U+FFFD: PostgreSQL's text cannot
    hold NUL, and both backends keep the same text."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


def dumps(value: Any) -> str:
    """JSON as stored: compact, Chinese kept readable, without NUL (see ``without_nul``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if "\\u0000" in text:  # a NUL somewhere (or the typed text \u0000): look again, item by item
        text = json.dumps(without_nul(value), ensure_ascii=False, separators=(",", ":"))
    return text


def _verdict(value: int | bool | None) -> bool | None:
    """A pass/fail stored as 0/1, or NULL before the scorer gave one."""
    return None if value is None else bool(value)


# ---- what queries return ---------------------------------------------------------------------------


@dataclass
class CallRow:
    """One line of ``history``: a call without its turns."""

    call_id: str
    trainee: str
    mentor: str
    scenario_id: str
    scenario_title: str
    mode: str
    started_at: str
    ended_at: str
    status: str
    end_reason: str
    call_s: float
    score: float | None  # the scorer's
    reviewed_score: float | None  # with the mentor's overrides; None when there are none
    passed: bool | None
    turn_count: int

    def __post_init__(self) -> None:
        self.passed = _verdict(self.passed)

    @property
    def effective_score(self) -> float | None:
        return self.reviewed_score if self.reviewed_score is not None else self.score

    def to_json(self) -> dict:
        data = asdict(self)
        data["effective_score"] = self.effective_score
        return data


@dataclass
class Review:
    id: int
    call_id: str
    turn_index: int | None  # None: about the whole call
    kind: str  # override | comment
    mentor: str
    original_score: float | None
    new_score: float | None
    reason: str
    text: str
    created_at: str

    def to_json(self) -> dict:
        return asdict(self)


REVIEW_STORED_AS = {"turn_index": "turn_idx"}  # the reviews column of each field stored under another name


@dataclass
class TeamRow:
    trainee: str
    calls: int
    complete: int
    passed: int
    best: float | None
    last_at: str
    work_order: float | None = None  # mean work-order score of the complete calls that asked for one


@dataclass
class ScoredCall:
    """A point of a trend: one complete call."""

    call_id: str
    started_at: str
    scenario_id: str
    score: float | None
    reviewed_score: float | None
    passed: bool | None

    def __post_init__(self) -> None:
        self.passed = _verdict(self.passed)

    @property
    def effective_score(self) -> float | None:
        return self.reviewed_score if self.reviewed_score is not None else self.score


@dataclass
class CategoryCount:
    trainee: str
    category: str
    expected: int
    missed: int


@dataclass
class ForbiddenCount:
    trainee: str
    phrase_id: str
    phrase: str
    suggest: str
    severity: str
    uses: int
    last_used: str = ""


@dataclass
class SubstanceCount:
    """How often a trainee missed a key point, stated it wrong (contradiction) or broke a must-not rule."""

    trainee: str
    kind: str  # one of summaries.SUBSTANCE_KINDS
    scenario_id: str
    item_id: str  # key point id, or must-not id
    uses: int


@dataclass
class ScenarioResult:
    scenario_id: str
    scenario_title: str
    attempts: int
    complete: int
    passed: int
    best: float | None
    last_at: str


@dataclass
class WeekPoint:
    week: str  # the Monday, YYYY-MM-DD (UTC)
    calls: int
    mean: float | None
    best: float | None


@dataclass
class ScenarioSummary:
    """How the whole centre does on one scenario (the console's scenario library)."""

    scenario_id: str
    trainees: int
    attempts: int
    complete: int
    passed: int
    mean: float | None
    best: float | None


@dataclass
class User:
    """A person of the centre: a trainee, a mentor or a supervisor."""

    name: str
    role: str
    mentor: str  # a trainee's mentor (a user's name), "" if none
    cohort: str  # a trainee's group, e.g. 2026春
    has_password: bool  # may sign in to the web console
    created_at: str

    def __post_init__(self) -> None:
        self.has_password = bool(self.has_password)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Assignment:
    """One scenario set for one trainee, due at the end of a (local) day."""

    id: int
    scenario_id: str
    trainee: str
    cohort: str
    due: str  # YYYY-MM-DD
    exam: bool
    min_score: float
    assigned_by: str
    created_at: str

    def __post_init__(self) -> None:
        self.exam = bool(self.exam)


@dataclass
class AssignmentStatus(Assignment):
    """An assignment with what the trainee did since it was set: complete calls of its scenario (in exam mode
    when it asks for an exam)."""

    attempts: int = 0
    best: float | None = None
    done_at: str | None = None  # the first call that reached the minimum score


@dataclass
class AuditEntry:
    """Who did what to whom: users added, passwords set, assignments, overrides, comments, imports."""

    id: int
    at: str
    actor: str
    action: str
    subject: str
    detail: dict

    def __post_init__(self) -> None:
        if isinstance(self.detail, str):
            self.detail = json.loads(self.detail or "{}")

    def to_json(self) -> dict:
        return asdict(self)


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def select_list(cls: type, *, table: str = "", stored_as: Mapping[str, str] | None = None) -> str:
    """The SELECT list that reads a row dataclass's columns under its field names (``table``: a join's alias)."""
    stored_as = stored_as or {}
    prefix = f"{table}." if table else ""
    return ", ".join(
        f"{prefix}{stored_as[name]} AS {name}" if name in stored_as else f"{prefix}{name}" for name in _field_names(cls)
    )


def _picker(row: Row, names: Sequence[str]) -> Callable[[Row], tuple]:
    """Reads the columns ``names`` out of each row of a result, found by name once for the whole result.

    (A name lookup in an ``sqlite3.Row`` costs about as much as reading the row; a list of calls has many.)
    """
    columns = row.keys()
    missing = [name for name in names if name not in columns]
    if missing:
        raise KeyError(f"the query does not name the column(s) {', '.join(missing)}")
    positions = [columns.index(name) for name in names]
    if len(positions) == 1:
        return lambda r: (r[positions[0]],)
    return itemgetter(*positions)


def from_rows(cls: type[T], rows: list[Row]) -> list[T]:
    """Row dataclasses from result rows, each field read from the column of its name (the query names them all)."""
    if not rows:
        return []
    pick = _picker(rows[0], _field_names(cls))
    return [cls(*pick(row)) for row in rows]


def from_row(cls: type[T], row: Row) -> T:
    return from_rows(cls, [row])[0]


# ---- calls and turns as table rows -----------------------------------------------------------------

_TURN_FIELDS_IN_ANALYSIS = ("contradictions", "must_not")  # kept once, in the analysis where the scorer puts them
_TURN_STORED_AS = {"index": "idx"}  # INDEX is an SQL keyword
_CALL_FIELDS = tuple(f for f in fields(CallRecord) if f.name != "turns")  # the turns have their own table
_TURN_FIELDS = tuple(f for f in fields(TurnRecord) if f.name not in _TURN_FIELDS_IN_ANALYSIS)


def _kind(f: Field) -> str:
    if f.default_factory in (list, dict):
        return "json"  # lists and dicts are stored as JSON text
    if isinstance(f.default, bool):
        return "flag"  # stored as 0/1
    return "plain"


_Stored = tuple[tuple[str, str, str], ...]  # (field, column, kind) of each stored field of a record


def _columns(record_fields: tuple[Field, ...], stored_as: Mapping[str, str]) -> _Stored:
    return tuple((f.name, stored_as.get(f.name, f.name), _kind(f)) for f in record_fields)


_CALL_RECORD = _columns(_CALL_FIELDS, {})
_TURN_RECORD = _columns(_TURN_FIELDS, _TURN_STORED_AS)
CALL_RECORD_COLUMNS = tuple(column for _, column, _ in _CALL_RECORD)
# The scorer's score and verdict (from the scorecard, or the turns of a call cut off) and the turns saved.
CALL_COLUMNS = (*CALL_RECORD_COLUMNS, "score", "passed", "turn_count", "work_order_score")
TURN_COLUMNS = ("call_id", *(column for _, column, _ in _TURN_RECORD))
TURN_KEY = ("call_id", "idx")


def _column_values(record: Any, columns: _Stored) -> dict[str, Any]:
    values = {}
    for name, column, kind in columns:
        value = getattr(record, name)
        if kind == "json":
            value = dumps(value)
        elif kind == "flag":
            value = int(bool(value))
        elif isinstance(value, str):
            value = without_nul(value)
        values[column] = value
    return values


def _field_values(values: tuple, columns: _Stored) -> dict[str, Any]:
    """A record's fields from the values of its ``columns``, in their order."""
    record = {}
    for (name, _, kind), value in zip(columns, values, strict=True):
        if kind == "json":
            value = json.loads(value)
        elif kind == "flag":
            value = bool(value)
        record[name] = value
    return record


def call_values(call: CallRecord, status: str, score: float | None, passed: bool | None) -> dict[str, Any]:
    """The calls row of a call, by column (``CALL_COLUMNS``)."""
    values = _column_values(call, _CALL_RECORD)
    # A record built by hand may hold None where the table keeps text or a number.
    values.update(
        mentor=without_nul(call.mentor or ""),
        scenario_hash=without_nul(call.scenario_hash or ""),
        scenario_title=without_nul(call.scenario_title or ""),
        mode=call.mode or "mentor",
        started_at=utc_iso(call.started_at),
        ended_at=utc_iso(call.ended_at) if call.ended_at else "",
        status=status,
        end_reason=without_nul(call.end_reason or ""),
        time_limit_s=int(call.time_limit_s or 0),
        call_s=float(call.call_s or 0.0),
        score=score,
        passed=None if passed is None else int(bool(passed)),
        turn_count=len(call.turns),
        work_order_score=((call.scorecard or {}).get("work_order") or {}).get("score"),
    )
    return values


def turn_values(call_id: str, turn: TurnRecord) -> dict[str, Any]:
    """The turns row of a turn, by column (``TURN_COLUMNS``). Stamps ``turn.at`` when the session has not."""
    if not turn.at:
        turn.at = utc_iso()
    values = _column_values(turn, _TURN_RECORD)
    values.update(call_id=call_id, response_s=float(turn.response_s or 0.0), comment=without_nul(turn.comment or ""))
    return values


def call_record(row: Row, turns: list[TurnRecord]) -> CallRecord:
    """A call as saved, from its row of ``CALL_RECORD_COLUMNS``."""
    values = _picker(row, CALL_RECORD_COLUMNS)(row)
    return CallRecord(**_field_values(values, _CALL_RECORD), turns=turns)


def turn_records(rows: list[Row]) -> list[TurnRecord]:
    """Turns as saved, from their rows of ``TURN_COLUMNS``."""
    if not rows:
        return []
    pick = _picker(rows[0], [column for _, column, _ in _TURN_RECORD])
    turns = []
    for row in rows:
        values = _field_values(pick(row), _TURN_RECORD)
        in_analysis = {name: values["analysis"].get(name, []) for name in _TURN_FIELDS_IN_ANALYSIS}
        turns.append(TurnRecord(**values, **in_analysis))
    return turns
