"""The read side of the history store: calls, reviews, and the aggregates behind progress, team and the report.

``HistoryQueries`` is a base of ``store.HistoryStore``, which supplies the connection (``_read``). Each query names
its result columns after the fields of the row dataclass it returns (``rows.py``) and reads them by name.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import ModuleType

from core.errors import NotFound, TrainerError
from simulator.history.rows import (
    CALL_RECORD_COLUMNS,
    REVIEW_STORED_AS,
    TURN_COLUMNS,
    Assignment,
    AssignmentStatus,
    AuditEntry,
    CallRow,
    CategoryCount,
    ForbiddenCount,
    Review,
    ScenarioResult,
    ScenarioSummary,
    ScoredCall,
    SubstanceCount,
    TeamRow,
    User,
    WeekPoint,
    call_record,
    from_row,
    from_rows,
    select_list,
    turn_records,
    utc_iso,
)
from simulator.record import CallRecord

MIN_PREFIX = 4  # like git: shorter prefixes are too likely to be ambiguous

_EFFECTIVE = "COALESCE(reviewed_score, score)"  # the mentor's score when there is one
_COMPLETE = "COUNT(CASE WHEN status = 'complete' THEN 1 END)"
_USER = "name, role, mentor, cohort, CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password, created_at"
_ASSIGNMENT = select_list(Assignment)
_AUDIT = select_list(AuditEntry)
# A call that counts for assignment ``a``: the trainee's complete call of its scenario since it was set, in exam
# mode when the assignment is an exam.
_ASSIGNED_CALL = (
    "c.trainee = a.trainee AND c.scenario_id = a.scenario_id AND c.status = 'complete' "
    "AND c.started_at >= a.created_at AND (a.exam = 0 OR c.mode = 'exam')"
)
_TRAINEE_TOTALS = (
    "trainee, calls, complete, passed, best, last_at, "
    "CASE WHEN work_order_n > 0 THEN work_order_sum / work_order_n END AS work_order"
)
_PASSED = "COUNT(CASE WHEN status = 'complete' AND passed = 1 THEN 1 END)"
_CALL_ROW = select_list(CallRow)
REVIEW_SELECT = select_list(Review, stored_as=REVIEW_STORED_AS)


class AmbiguousId(TrainerError):
    """A call-id prefix that matches more than one call."""


def _where(filters: dict[str, object], *always: str) -> tuple[str, list]:
    """A WHERE clause of the conditions ``always`` and of each filter (``"trainee = ?": value``) given a value.

    A filter whose value is None is left out. Returns the clause ("" when there is no condition) and the
    parameters of the filters applied, in order.
    """
    given = {condition: value for condition, value in filters.items() if value is not None}
    conditions = [*always, *given]
    return (" WHERE " + " AND ".join(conditions) if conditions else ""), list(given.values())


class HistoryQueries:
    """Every query of the history store; the subclass owns the connection."""

    _d: ModuleType  # the backend's adapter

    def _read(self, sql: str, params: tuple | list | dict = ()) -> list:
        raise NotImplementedError  # HistoryStore reads under its lock

    @property
    def _week(self) -> str:
        return self._d.week_start("started_at")

    # ---- calls -----------------------------------------------------------------------------------

    def resolve_call_id(self, prefix: str) -> str:
        """The full id of the one call whose id starts with ``prefix`` (at least 4 characters, like git)."""
        prefix = prefix.strip().lower()
        exact = self._read("SELECT call_id FROM calls WHERE call_id = ?", (prefix,))
        if exact:
            return exact[0]["call_id"]
        if len(prefix) < MIN_PREFIX:
            raise NotFound(f"没有编号为 {prefix!r} 的通话 - 编号前缀至少 {MIN_PREFIX} 位, 用 history 查看编号")
        rows = self._read(
            "SELECT call_id FROM calls WHERE call_id >= ? AND call_id < ? ORDER BY call_id LIMIT 6",
            (prefix, prefix + "\U0010ffff"),
        )
        found = [r["call_id"] for r in rows]
        if not found:
            raise NotFound(f"没有编号以 {prefix!r} 开头的通话 - 用 history 查看编号")
        if len(found) > 1:
            raise AmbiguousId(f"编号前缀 {prefix!r} 对应多个通话 ({', '.join(found[:5])}…) - 请多输入几位")
        return found[0]

    def get_call(self, call_id: str) -> CallRecord:
        """The call as the session saved it (original scores; overrides are in ``reviews``)."""
        rows = self._read(f"SELECT {', '.join(CALL_RECORD_COLUMNS)} FROM calls WHERE call_id = ?", (call_id,))
        if not rows:
            raise NotFound(f"没有编号为 {call_id!r} 的通话 - 用 history 查看编号")
        turns = self._read(f"SELECT {', '.join(TURN_COLUMNS)} FROM turns WHERE call_id = ? ORDER BY idx", (call_id,))
        return call_record(rows[0], turn_records(turns))

    def get_call_row(self, call_id: str) -> CallRow:
        rows = self._read(f"SELECT {_CALL_ROW} FROM calls WHERE call_id = ?", (call_id,))
        if not rows:
            raise NotFound(f"没有编号为 {call_id!r} 的通话 - 用 history 查看编号")
        return from_row(CallRow, rows[0])

    def turn_overrides(self, call_id: str) -> dict[int, float]:
        """The latest override of each overridden turn."""
        rows = self._read(
            "SELECT idx, override_score FROM turns WHERE call_id = ? AND override_score IS NOT NULL", (call_id,)
        )
        return {r["idx"]: r["override_score"] for r in rows}

    def list_calls(
        self,
        *,
        trainee: str | None = None,
        scenario: str | None = None,
        since: str | None = None,
        until: str | None = None,
        status: str | None = None,
        mentor: str | None = None,
        limit: int | None = 50,
    ) -> list[CallRow]:
        """Newest first. ``since``/``until``: ISO times or dates (a date means local midnight)."""
        where, params = _where(
            {
                "trainee = ?": trainee,
                "scenario_id = ?": scenario,
                "status = ?": status,
                "mentor = ?": mentor,
                "started_at >= ?": utc_iso(since) if since else None,
                "started_at < ?": utc_iso(until) if until else None,
            }
        )
        sql = f"SELECT {_CALL_ROW} FROM calls{where} ORDER BY started_at DESC, seq DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return from_rows(CallRow, self._read(sql, params))

    def call_ids(self) -> list[str]:
        """Every call's id, in the order the calls were saved."""
        return [r["call_id"] for r in self._read("SELECT call_id FROM calls ORDER BY seq")]

    def count_calls(self) -> int:
        return self._read("SELECT COUNT(*) AS calls FROM calls")[0]["calls"]

    # ---- reviews ---------------------------------------------------------------------------------

    def _review(self, review_id: int) -> Review:
        rows = self._read(f"SELECT {REVIEW_SELECT} FROM reviews WHERE id = ?", (review_id,))
        return from_row(Review, rows[0])

    def reviews(self, call_id: str) -> list[Review]:
        rows = self._read(f"SELECT {REVIEW_SELECT} FROM reviews WHERE call_id = ? ORDER BY id", (call_id,))
        return from_rows(Review, rows)

    def recent_reviews(self, trainee: str | None = None, limit: int = 200) -> list[tuple[Review, str, str]]:
        """The latest reviews, each with the trainee of the call and the reply of the turn reviewed."""
        where, params = _where({"c.trainee = ?": trainee})
        rows = self._read(
            f"SELECT {select_list(Review, table='r', stored_as=REVIEW_STORED_AS)}, c.trainee AS trainee, "
            "COALESCE(t.reply, '') AS reply FROM reviews r JOIN calls c ON c.call_id = r.call_id "
            f"LEFT JOIN turns t ON t.call_id = r.call_id AND t.idx = r.turn_idx{where} ORDER BY r.id DESC LIMIT ?",
            [*params, limit],
        )
        return [(review, r["trainee"], r["reply"]) for review, r in zip(from_rows(Review, rows), rows, strict=True)]

    # ---- aggregates for progress, team and the report ------------------------------------------

    def trainees(self) -> list[str]:
        # A skip-scan over the covering index: one probe per trainee, not one per call.
        return [r["trainee"] for r in self._read("SELECT DISTINCT trainee FROM calls ORDER BY trainee")]

    def mentors(self) -> list[str]:
        rows = self._read(
            "SELECT mentor FROM calls WHERE mentor != '' UNION SELECT mentor FROM reviews WHERE mentor != '' ORDER BY 1"
        )
        return [r["mentor"] for r in rows]

    def team_rows(self) -> list[TeamRow]:
        return from_rows(TeamRow, self._read(f"SELECT {_TRAINEE_TOTALS} FROM trainee_calls ORDER BY trainee"))

    def trainee_totals(self, trainee: str) -> TeamRow | None:
        """A trainee's call totals (kept up to date with every call), or None before their first call."""
        rows = self._read(f"SELECT {_TRAINEE_TOTALS} FROM trainee_calls WHERE trainee = ?", (trainee,))
        return from_row(TeamRow, rows[0]) if rows else None

    def calls_in_progress(self, trainee: str) -> int:
        rows = self._read("SELECT COUNT(*) AS n FROM calls WHERE trainee = ? AND status = 'in_progress'", (trainee,))
        return int(rows[0]["n"])

    def latest_scored_calls(self, last: int) -> dict[str, list[ScoredCall]]:
        """Each trainee's latest ``last`` complete calls, oldest first, in one statement (not one per trainee)."""
        rows = self._read(self._d.latest_calls_per_trainee(select_list(ScoredCall, table="c"), last))
        latest: dict[str, list[ScoredCall]] = {}
        for row in rows:  # by trainee, oldest first; a tie at the cut-off may bring a few older calls
            latest.setdefault(row["trainee"], []).append(from_row(ScoredCall, row))
        return {trainee: calls[-last:] for trainee, calls in latest.items()}

    def scored_calls(self, trainee: str, last: int | None = None) -> list[ScoredCall]:
        """A trainee's complete calls, oldest first (the last ``last`` only, when given)."""
        sql = (
            f"SELECT {select_list(ScoredCall)} FROM calls "
            "WHERE trainee = ? AND status = 'complete' ORDER BY started_at DESC, seq DESC"
        )
        params: list = [trainee]
        if last:
            sql += " LIMIT ?"
            params.append(last)
        return from_rows(ScoredCall, self._read(sql, params)[::-1])

    def status_counts(self, trainee: str) -> dict[str, int]:
        rows = self._read("SELECT status, COUNT(*) AS calls FROM calls WHERE trainee = ? GROUP BY status", (trainee,))
        return {r["status"]: r["calls"] for r in rows}

    def category_totals(self, trainee: str | None = None) -> list[CategoryCount]:
        where, params = _where({"trainee = ?": trainee}, "expected > 0")
        rows = self._read(
            f"SELECT trainee, category, expected, missed FROM trainee_category{where} ORDER BY trainee, category",
            params,
        )
        return from_rows(CategoryCount, rows)

    def recent_category_totals(self, trainee: str, last_calls: int) -> list[CategoryCount]:
        rows = self._read(
            "SELECT ? AS trainee, cc.category AS category, SUM(cc.expected) AS expected, SUM(cc.missed) AS missed "
            "FROM call_category cc "
            "WHERE cc.call_id IN (SELECT call_id FROM calls WHERE trainee = ? ORDER BY started_at DESC, seq DESC LIMIT ?) "
            "GROUP BY cc.category ORDER BY cc.category",
            (trainee, trainee, last_calls),
        )
        return from_rows(CategoryCount, rows)

    def category_by_week(self, trainee: str) -> dict[str, dict[str, tuple[int, int]]]:
        """Week (Monday, UTC) -> category -> (expected, missed), over all the trainee's calls."""
        rows = self._read(
            f"SELECT {self._week} AS week, cc.category AS category, SUM(cc.expected) AS expected, "
            "SUM(cc.missed) AS missed FROM calls c JOIN call_category cc ON cc.call_id = c.call_id "
            "WHERE c.trainee = ? GROUP BY week, cc.category",
            (trainee,),
        )
        weeks: dict[str, dict[str, tuple[int, int]]] = {}
        for r in rows:
            weeks.setdefault(r["week"], {})[r["category"]] = (r["expected"], r["missed"])
        return weeks

    def forbidden_totals(self, trainee: str | None = None) -> list[ForbiddenCount]:
        """Uses of each forbidden phrase, per trainee (all trainees when None)."""
        where, params = _where({"trainee = ?": trainee}, "uses > 0")
        rows = self._read(
            "SELECT trainee, phrase_id, phrase, suggest, severity, uses, '' AS last_used "
            f"FROM trainee_forbidden{where} ORDER BY trainee, uses DESC",
            params,
        )
        return from_rows(ForbiddenCount, rows)

    def forbidden_recent(self, trainee: str, last_calls: int) -> list[ForbiddenCount]:
        """Forbidden phrases used in the trainee's last calls, with when each was last used."""
        rows = self._read(
            "SELECT ? AS trainee, cf.phrase_id AS phrase_id, MAX(cf.phrase) AS phrase, MAX(cf.suggest) AS suggest, "
            "MAX(cf.severity) AS severity, SUM(cf.uses) AS uses, MAX(c.started_at) AS last_used "
            "FROM (SELECT call_id, started_at FROM calls WHERE trainee = ? "
            "ORDER BY started_at DESC, seq DESC LIMIT ?) c JOIN call_forbidden cf ON cf.call_id = c.call_id "
            "GROUP BY cf.phrase_id ORDER BY SUM(cf.uses) DESC",
            (trainee, trainee, last_calls),
        )
        return from_rows(ForbiddenCount, rows)

    def substance_totals(self, trainee: str | None = None) -> list[SubstanceCount]:
        """Key points missed, contradictions and must-not breaches, per trainee, scenario and id."""
        where, params = _where({"trainee = ?": trainee}, "uses > 0")
        rows = self._read(
            f"SELECT trainee, kind, scenario_id, item_id, uses FROM trainee_substance{where} "
            "ORDER BY trainee, kind, uses DESC, item_id",
            params,
        )
        return from_rows(SubstanceCount, rows)

    def substance_by_kind(self) -> dict[tuple[str, str], int]:
        """(trainee, kind) -> uses, added up by the database (team needs the sums, not tens of thousands of rows)."""
        rows = self._read(
            "SELECT trainee, kind, SUM(uses) AS uses FROM trainee_substance WHERE uses > 0 GROUP BY trainee, kind"
        )
        return {(r["trainee"], r["kind"]): int(r["uses"]) for r in rows}

    def substance_recent(self, trainee: str, last_calls: int) -> list[SubstanceCount]:
        rows = self._read(
            "SELECT ? AS trainee, cs.kind AS kind, cs.scenario_id AS scenario_id, cs.item_id AS item_id, "
            "SUM(cs.uses) AS uses FROM call_substance cs "
            "WHERE cs.call_id IN (SELECT call_id FROM calls WHERE trainee = ? ORDER BY started_at DESC, seq DESC LIMIT ?) "
            "GROUP BY cs.kind, cs.scenario_id, cs.item_id",
            (trainee, trainee, last_calls),
        )
        return from_rows(SubstanceCount, rows)

    def scenario_results(self, trainee: str) -> list[ScenarioResult]:
        rows = self._read(
            # Counted off the trainee index alone; the title (not in it) is the scenario's latest, one probe each.
            "SELECT scenario_id, COALESCE((SELECT t.scenario_title FROM calls t WHERE t.scenario_id = c.scenario_id "
            "ORDER BY t.started_at DESC LIMIT 1), '') AS scenario_title, COUNT(*) AS attempts, "
            f"{_COMPLETE} AS complete, {_PASSED} AS passed, "
            f"MAX(CASE WHEN status = 'complete' THEN {_EFFECTIVE} END) AS best, MAX(started_at) AS last_at "
            "FROM calls c WHERE trainee = ? GROUP BY scenario_id ORDER BY scenario_id",
            (trainee,),
        )
        return from_rows(ScenarioResult, rows)

    def weekly_scores(self, trainee: str | None = None) -> list[WeekPoint]:
        """Mean and best score of complete calls per week (Monday, UTC)."""
        where, params = _where({"trainee = ?": trainee}, "status = 'complete'")
        # Grouped by day in SQL (a prefix of the stored time, no date arithmetic per call), then into weeks here.
        rows = self._read(
            f"SELECT substr(started_at, 1, 10) AS day, COUNT(*) AS calls, SUM({_EFFECTIVE}) AS total, "
            f"COUNT({_EFFECTIVE}) AS scored, MAX({_EFFECTIVE}) AS best FROM calls{where} GROUP BY day",
            params,
        )
        weeks: dict[str, list] = {}
        for r in rows:
            day = date.fromisoformat(r["day"])
            week = weeks.setdefault((day - timedelta(days=day.weekday())).isoformat(), [0, 0.0, 0, None])
            week[0] += r["calls"]
            week[1] += r["total"] or 0.0
            week[2] += r["scored"]
            if r["best"] is not None and (week[3] is None or r["best"] > week[3]):
                week[3] = r["best"]
        return [
            WeekPoint(week, calls, total / scored if scored else None, best)
            for week, (calls, total, scored, best) in sorted(weeks.items())
        ]

    def scenario_summary(self) -> list[ScenarioSummary]:
        rows = self._read(
            "SELECT scenario_id, COUNT(DISTINCT trainee) AS trainees, COUNT(*) AS attempts, "
            f"{_COMPLETE} AS complete, {_PASSED} AS passed, "
            f"AVG(CASE WHEN status = 'complete' THEN {_EFFECTIVE} END) AS mean, "
            f"MAX(CASE WHEN status = 'complete' THEN {_EFFECTIVE} END) AS best "
            "FROM calls GROUP BY scenario_id ORDER BY scenario_id"
        )
        return from_rows(ScenarioSummary, rows)

    # ---- people, assignments, audit -----------------------------------------------------------

    def users(self, role: str | None = None) -> list[User]:
        where, params = _where({"role = ?": role})
        return from_rows(User, self._read(f"SELECT {_USER} FROM users{where} ORDER BY role, name", params))

    def user(self, name: str) -> User | None:
        rows = self._read(f"SELECT {_USER} FROM users WHERE name = ?", (name,))
        return from_row(User, rows[0]) if rows else None

    def password_hash(self, name: str) -> str | None:
        rows = self._read("SELECT password_hash FROM users WHERE name = ?", (name,))
        return rows[0]["password_hash"] if rows else None

    def assignment(self, assignment_id: int) -> Assignment:
        rows = self._read(f"SELECT {_ASSIGNMENT} FROM assignments WHERE id = ?", (assignment_id,))
        if not rows:
            raise NotFound(f"没有编号为 {assignment_id} 的作业 - 用 todo 学员姓名 查看作业编号")
        return from_row(Assignment, rows[0])

    def assignment_statuses(self, trainee: str | None = None) -> list[AssignmentStatus]:
        """Assignments (one trainee's, or everyone's) with their attempts, best score and when first done."""
        where, params = _where({"a.trainee = ?": trainee})
        rows = self._read(
            f"SELECT {select_list(Assignment, table='a')}, "
            f"(SELECT COUNT(*) FROM calls c WHERE {_ASSIGNED_CALL}) AS attempts, "
            f"(SELECT MAX({_EFFECTIVE}) FROM calls c WHERE {_ASSIGNED_CALL}) AS best, "
            f"(SELECT MIN(c.started_at) FROM calls c WHERE {_ASSIGNED_CALL} AND {_EFFECTIVE} >= a.min_score) AS done_at "
            f"FROM assignments a{where} ORDER BY a.due, a.id",
            params,
        )
        return from_rows(AssignmentStatus, rows)

    def audit_log(self, *, actor: str | None = None, since: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """Newest first."""
        where, params = _where({"actor = ?": actor, "at >= ?": utc_iso(since) if since else None})
        rows = self._read(f"SELECT {_AUDIT} FROM audit{where} ORDER BY id DESC LIMIT ?", [*params, limit])
        return from_rows(AuditEntry, rows)

    def pseudonym_secret(self) -> bytes:
        rows = self._read("SELECT value FROM meta WHERE key = 'pseudonym_secret'")
        return bytes.fromhex(rows[0]["value"])
