"""What history, progress, team and the report show, computed from the store's queries.

Plain data in, plain data out: terminal.py and html_report.py render it, ``to_json`` exports it.
Scores shown are "effective": a mentor's override when there is one, the scorer's otherwise; the
original is always carried beside it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from core.errors import NotFound, TrainerError
from scoring.guide import category_standard, category_title
from simulator.curriculum import Curriculum, standing
from simulator.history import TEAM_SORTS
from simulator.history.pseudonyms import MENTOR, Identity, Pseudonymizer
from simulator.history.rows import CallRow, Review, ScoredCall, TeamRow
from simulator.history.store import HistoryStore

RECENT_CALLS = 10  # "still used", "missed recently" and the trend look at this many latest calls
MIN_EXPECTED = 3  # a category expected fewer times than this says too little to call it weak
WEAK_RATE = 0.3  # missed in more than 30% of the turns that expected it


# ---- names and the guide ---------------------------------------------------------------------


def pseudonymizer(store: HistoryStore, anonymize: bool) -> Pseudonymizer | Identity:
    if not anonymize:
        return Identity()
    return Pseudonymizer(store.pseudonym_secret(), store.trainees(), store.mentors())


@lru_cache(maxsize=1)
def _library_texts() -> dict[tuple[str, str], str]:
    """(scenario id, key point or must-not id) -> its text in the library, for knowledge-gap reports."""
    try:
        from simulator.library import load_library

        scenarios = load_library()
    except (TrainerError, OSError):
        return {}
    texts: dict[tuple[str, str], str] = {}
    for scenario in scenarios:
        for rule in scenario.must_not:
            texts[(scenario.id, rule.id)] = rule.text
        for turn in scenario.turns.values():
            for point in turn.key_points:
                texts.setdefault((scenario.id, point.id), point.text)
            for rule in turn.must_not:
                texts.setdefault((scenario.id, rule.id), rule.text)
    return texts


def substance_text(scenario_id: str, item_id: str) -> str:
    """What a key point or must-not rule is about, in the scenario's words (its id if the library lacks it)."""
    return _library_texts().get((scenario_id, item_id), item_id)


def trend_delta(scores: list[float]) -> float | None:
    """Mean of the later half of the latest scores minus the mean of the earlier half (up to 5 + 5)."""
    scores = [s for s in scores if s is not None][-2 * 5 :]
    half = len(scores) // 2
    if half == 0:
        return None
    earlier, later = scores[-2 * half : -half], scores[-half:]
    return round(sum(later) / half - sum(earlier) / half, 1)


# ---- history -----------------------------------------------------------------------------------


def history_rows(store: HistoryStore, names, **filters) -> list[dict]:
    rows = store.list_calls(**filters)
    return [_call_json(row, names) for row in rows]


def _call_json(row: CallRow, names) -> dict:
    data = row.to_json()
    data["trainee"] = names.name(row.trainee)
    data["mentor"] = names.name(row.mentor, MENTOR)
    return data


HISTORY_COLUMNS = (
    "call_id", "started_at", "trainee", "scenario_id", "status", "end_reason", "score", "reviewed_score",
    "passed", "turn_count", "call_s", "mentor", "mode",
)  # fmt: skip


def call_detail(store: HistoryStore, call_id: str, names) -> dict:
    """The whole call: every turn with its feedback, the original and overridden scores, all comments."""
    call_id = store.resolve_call_id(call_id)
    record = store.get_call(call_id)
    row = store.get_call_row(call_id)
    reviews = store.reviews(call_id)
    by_turn: dict[int | None, list[Review]] = {}
    for review in reviews:
        by_turn.setdefault(review.turn_index, []).append(review)
    turns = []
    for turn in record.turns:
        overrides = [r for r in by_turn.get(turn.index, []) if r.kind == "override"]
        latest = overrides[-1] if overrides else None
        turns.append(
            {
                **turn.shown(),
                "reply": names.scrub(turn.reply),
                "comment": names.scrub(turn.comment),
                "original_score": turn.score,
                "override_score": latest.new_score if latest else None,
                "effective_score": latest.new_score if latest else turn.score,
                "reviews": [_review_json(r, names) for r in by_turn.get(turn.index, [])],
            }
        )
    data = _call_json(row, names)
    data.update(
        {
            "scenario_hash": record.scenario_hash,
            "variables": record.variables,
            "seed": record.seed,
            "time_limit_s": record.time_limit_s,
            "scorecard": record.scorecard,
            "work_order": _scrubbed_work_order(record.scorecard.get("work_order"), names),
            "turns": turns,
            "call_reviews": [_review_json(r, names) for r in by_turn.get(None, [])],
        }
    )
    return data


def _scrubbed_work_order(order: dict | None, names) -> dict | None:
    """The scored work order with the trainee's free text pseudonymised like replies and comments."""
    if not order:
        return None
    order = json.loads(json.dumps(order))
    for check in order.get("fields", {}).values():
        check["got"] = names.scrub(check.get("got", ""))
    filled = order.get("filled", {})
    filled["summary"] = names.scrub(filled.get("summary", ""))
    filled["fields"] = {k: names.scrub(v) for k, v in filled.get("fields", {}).items()}
    return order


def _review_json(review: Review, names) -> dict:
    data = review.to_json()
    data["mentor"] = names.name(review.mentor, MENTOR)
    data["reason"] = names.scrub(review.reason)
    data["text"] = names.scrub(review.text)
    data["n"] = None if review.turn_index is None else review.turn_index + 1
    return data


# ---- progress ----------------------------------------------------------------------------------


@dataclass
class TrendPoint:
    call_id: str
    at: str
    scenario_id: str
    score: float | None  # effective
    original_score: float | None
    reviewed: bool
    passed: bool | None


@dataclass
class CategoryStat:
    category: str
    title: str
    expected: int
    missed: int
    rate: float  # share of the turns expecting it where it was missed
    recent_expected: int = 0
    recent_missed: int = 0
    recent_rate: float | None = None


@dataclass
class ForbiddenStat:
    phrase_id: str
    phrase: str
    suggest: str
    severity: str
    uses: int
    recent_uses: int
    last_used: str


@dataclass
class SubstanceStat:
    """A knowledge gap: a key point missed, a fact stated wrong, or a must-not rule broken, in one scenario."""

    kind: str  # missed | contradiction | must_not
    scenario_id: str
    item_id: str
    text: str
    uses: int
    recent_uses: int = 0


SUBSTANCE_TITLES = {"missed": "漏掉要点", "contradiction": "说错事实", "must_not": "说了不能说的话"}


@dataclass
class ScenarioStat:
    scenario_id: str
    title: str
    attempts: int
    complete: int
    best: float | None
    last_at: str


@dataclass
class Progress:
    trainee: str
    calls: int
    complete: int
    incomplete: int
    in_progress: int
    passed: int
    pass_rate: float | None
    latest: float | None
    best: float | None
    trend: float | None
    points: list[TrendPoint] = field(default_factory=list)
    weekly: list[dict] = field(default_factory=list)
    categories: list[CategoryStat] = field(default_factory=list)  # missed most first
    forbidden_still_used: list[ForbiddenStat] = field(default_factory=list)
    forbidden_all: list[ForbiddenStat] = field(default_factory=list)
    substance: list[SubstanceStat] = field(default_factory=list)  # wrong facts and breaches first, then misses
    scenarios_not_passed: list[ScenarioStat] = field(default_factory=list)
    practise_next: list[str] = field(default_factory=list)
    curriculum: dict | None = None  # where the trainee stands on the learning path (curriculum.Standing.to_json)
    path_next: list[ScenarioStat] = field(default_factory=list)  # the path's next scenarios, as tried so far

    def to_json(self) -> dict:
        return asdict(self)


def progress(
    store: HistoryStore,
    trainee: str,
    names=None,
    library: dict[str, str] | None = None,
    curriculum: Curriculum | None = None,
    scenario_categories: dict[str, tuple[str, ...]] | None = None,
    points_last: int | None = None,
) -> Progress:
    """A trainee's progress. ``library``: scenario id -> title, to list scenarios never tried as not passed;
    ``curriculum``: the learning path to place them on (``scenario_categories``: what each scenario exercises, to
    choose what to practise next). A registered trainee who has not practised yet gets the path's first stage.
    ``points_last``: the trend's points are the latest complete calls only (a chart's worth; None: every one)."""
    names = names or Identity()
    totals = store.trainee_totals(trainee)
    if totals is None and store.user(trainee) is None:
        raise NotFound(f"没有学员 {trainee!r} 的通话记录 - 用 team 查看学员名单")
    totals = totals or TeamRow(trainee, 0, 0, 0, None, "")
    in_progress = store.calls_in_progress(trainee) if totals.calls else 0
    points = [_point(c) for c in store.scored_calls(trainee, last=points_last)]
    effective = [p.score for p in points if p.score is not None]

    recent = {c.category: c for c in store.recent_category_totals(trainee, RECENT_CALLS)}
    categories = []
    for total in store.category_totals(trainee):
        stat = CategoryStat(total.category, category_title(total.category), total.expected, total.missed,
                            round(total.missed / total.expected, 3))  # fmt: skip
        if total.category in recent and recent[total.category].expected:
            r = recent[total.category]
            stat.recent_expected, stat.recent_missed = r.expected, r.missed
            stat.recent_rate = round(r.missed / r.expected, 3)
        categories.append(stat)
    categories.sort(key=lambda s: (-(s.recent_rate if s.recent_rate is not None else s.rate), -s.missed, s.category))

    recent_forbidden = {f.phrase_id: f for f in store.forbidden_recent(trainee, RECENT_CALLS)}
    all_forbidden = []
    for total in store.forbidden_totals(trainee):
        r = recent_forbidden.get(total.phrase_id)
        all_forbidden.append(
            ForbiddenStat(
                total.phrase_id,
                total.phrase,
                total.suggest,
                total.severity,
                total.uses,
                r.uses if r else 0,
                r.last_used if r else "",
            )  # fmt: skip
        )
    all_forbidden.sort(key=lambda f: (-f.recent_uses, -f.uses, f.phrase_id))
    still_used = [f for f in all_forbidden if f.recent_uses]

    recent_gaps = {(g.kind, g.scenario_id, g.item_id): g.uses for g in store.substance_recent(trainee, RECENT_CALLS)}
    substance = [
        SubstanceStat(
            g.kind,
            g.scenario_id,
            g.item_id,
            substance_text(g.scenario_id, g.item_id),
            g.uses,
            recent_gaps.get((g.kind, g.scenario_id, g.item_id), 0),
        )  # fmt: skip
        for g in store.substance_totals(trainee)
    ]
    kind_rank = {"contradiction": 0, "must_not": 1, "missed": 2}
    substance.sort(key=lambda g: (kind_rank.get(g.kind, 3), -g.recent_uses, -g.uses, g.scenario_id, g.item_id))

    results = store.scenario_results(trainee)
    not_passed = [
        ScenarioStat(s.scenario_id, s.scenario_title, s.attempts, s.complete, s.best, s.last_at)
        for s in results
        if not s.passed
    ]
    tried = {s.scenario_id for s in results}
    for scenario_id, title in sorted((library or {}).items()):
        if scenario_id not in tried:
            not_passed.append(ScenarioStat(scenario_id, title, 0, 0, None, ""))
    not_passed.sort(key=lambda s: (s.attempts == 0, s.best if s.best is not None else -1, s.scenario_id))

    weekly = [asdict(w) for w in store.weekly_scores(trainee)]
    result = Progress(
        trainee=names.name(trainee),
        calls=totals.calls,
        complete=totals.complete,
        incomplete=totals.calls - totals.complete - in_progress,
        in_progress=in_progress,
        passed=totals.passed,
        pass_rate=round(totals.passed / totals.complete, 3) if totals.complete else None,
        latest=effective[-1] if effective else None,
        best=totals.best,
        trend=trend_delta(effective),
        points=points,
        weekly=weekly,
        categories=categories,
        forbidden_still_used=still_used,
        forbidden_all=all_forbidden,
        substance=substance,
        scenarios_not_passed=not_passed,
    )
    result.practise_next = progress_advice(result)
    if curriculum is not None:
        missed_by_scenario: dict[str, int] = {}
        for g in substance:
            if g.kind == "missed":
                missed_by_scenario[g.scenario_id] = missed_by_scenario.get(g.scenario_id, 0) + g.uses
        place = standing(
            curriculum,
            {r.scenario_id: r.best for r in results},
            weak_categories=[c.category for c in categories if _weakness(c)],
            missed_points=missed_by_scenario,
            scenario_categories=scenario_categories,
        )
        result.curriculum = place.to_json()
        tried = {r.scenario_id: r for r in results}
        result.path_next = [
            ScenarioStat(sid, r.scenario_title, r.attempts, r.complete, r.best, r.last_at)
            if (r := tried.get(sid))
            else ScenarioStat(sid, (library or {}).get(sid, ""), 0, 0, None, "")
            for sid in place.next_scenarios
        ]
        titles = library or {}
        for stage in result.curriculum["stages"]:
            for item in stage["scenarios"]:
                item["title"] = titles.get(item["id"], "")
        result.practise_next = progress_advice(result)
    return result


def _point(call: ScoredCall) -> TrendPoint:
    return TrendPoint(call.call_id, call.started_at, call.scenario_id, call.effective_score, call.score,
                      call.reviewed_score is not None, call.passed)  # fmt: skip


def _scenarios_to_practise(p: Progress) -> tuple[list[ScenarioStat], float | None]:
    """The scenarios to practise and the mark they must reach: on a learning path its next ones and the current
    stage's pass mark; otherwise those not passed yet (the scorer's verdict)."""
    if not p.curriculum or p.curriculum["finished"]:
        return p.scenarios_not_passed, None
    stage = next(st for st in p.curriculum["stages"] if st["id"] == p.curriculum["current_stage"])
    return p.path_next, stage["pass_score"]


def _how_far(s: ScenarioStat, mark: float | None) -> str:
    """Where the trainee is on a scenario, in the words of the advice: never tried, tried and not finished, the best
    score against the mark to reach (the stage's, or the scorer's pass)."""
    if s.best is not None:
        return f"(最好 {s.best:g} 分, 本阶段要 {mark:g} 分)" if mark is not None else f"(最好 {s.best:g} 分, 未通过)"
    if s.attempts:
        return f"(练过 {s.attempts} 次, 还没完成)"
    return "(还没练过)"


def progress_advice(p: Progress, limit: int = 3) -> list[str]:
    """The three things to work on: a fact still stated wrong or a rule broken, a forbidden phrase still used,
    the weakest category, a scenario not passed (on the learning path, the next ones of its current stage)."""
    severity_rank = {"critical": 0, "major": 1, "minor": 2}
    forbidden = sorted(p.forbidden_still_used, key=lambda f: (severity_rank.get(f.severity, 3), -f.recent_uses))
    weak = [c for c in p.categories if _weakness(c) is not None and _weakness(c) >= WEAK_RATE]
    gaps = [g for g in p.substance if g.recent_uses and g.kind in ("contradiction", "must_not")]
    to_practise, mark = _scenarios_to_practise(p)
    queues: list[list[str]] = [
        [
            f"{SUBSTANCE_TITLES[g.kind]}:「{g.text}」(场景 {g.scenario_id}, 最近 {RECENT_CALLS} 通里 {g.recent_uses} 次)"
            for g in gaps
        ],
        [
            f"改掉服务禁语「{f.phrase}」(最近 {RECENT_CALLS} 通里用了 {f.recent_uses} 次), 改说「{f.suggest}」"
            for f in forbidden
        ],
        [
            f"练习「{c.title}」: 最近漏掉 {round(100 * _weakness(c))}%"
            + (f", 标准用语「{category_standard(c.category)}」" if category_standard(c.category) else "")
            for c in weak
        ],
        [f"再练场景 {s.scenario_id}{_how_far(s, mark)}" for s in to_practise],
    ]
    chosen: list[str] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def _weakness(c: CategoryStat) -> float | None:
    if c.recent_rate is not None and c.recent_expected >= MIN_EXPECTED:
        return c.recent_rate
    if c.expected >= MIN_EXPECTED:
        return c.rate
    return None


# ---- team --------------------------------------------------------------------------------------


@dataclass
class TeamStat:
    trainee: str
    calls: int
    complete: int
    latest: float | None
    best: float | None
    trend: float | None
    pass_rate: float | None
    weakest: str  # category id
    weakest_rate: float | None
    last_at: str
    recent: list[float] = field(default_factory=list)  # latest complete scores, oldest first (sparkline)
    points_missed: int = 0  # key points not said, over all calls
    contradictions: int = 0  # drawn facts stated wrong
    must_not: int = 0  # must-not rules broken
    work_order: float | None = None  # mean work-order score of the complete calls that asked for one
    assigned: int = 0  # assignments set for the trainee
    assignments_done: int = 0  # reached their minimum score (on time or late)
    overdue: int = 0  # not done, past their due day

    def to_json(self) -> dict:
        return asdict(self)


TEAM_COLUMNS = ("trainee", "calls", "complete", "latest", "best", "trend", "pass_rate", "weakest", "weakest_rate",
                "points_missed", "contradictions", "must_not", "work_order", "assigned", "assignments_done",
                "overdue", "last_at")  # fmt: skip


def assignment_counts(store: HistoryStore) -> dict[str, tuple[int, int, int]]:
    """Trainee -> (assigned, done, overdue)."""
    from simulator.people import assignment_state

    counts: dict[str, list[int]] = {}
    for a in store.assignment_statuses():
        state = assignment_state(a.due, a.done_at).key
        tally = counts.setdefault(a.trainee, [0, 0, 0])
        tally[0] += 1
        tally[1] += state in ("done", "late")
        tally[2] += state == "overdue"
    return {trainee: (t[0], t[1], t[2]) for trainee, t in counts.items()}


def team(store: HistoryStore, sort: str = "name", reverse: bool = False, names=None) -> list[TeamStat]:
    names = names or Identity()
    if sort not in TEAM_SORTS:
        raise TrainerError(f"不能按 {sort!r} 排序 - 可选: {', '.join(TEAM_SORTS)}")
    weakest: dict[str, tuple[str, float]] = {}
    for c in store.category_totals():
        if c.expected < MIN_EXPECTED or not c.missed:
            continue  # a category never missed is nobody's weakest
        rate = c.missed / c.expected
        if c.trainee not in weakest or rate > weakest[c.trainee][1]:
            weakest[c.trainee] = (c.category, rate)
    gaps = store.substance_by_kind()
    work = assignment_counts(store)
    rows = store.team_rows()
    # A trainee with assignments and no call yet is listed too: they are the first who need attention.
    rows += [TeamRow(t, 0, 0, 0, None, "", None) for t in sorted(set(work) - {r.trainee for r in rows})]
    latest = store.latest_scored_calls(2 * RECENT_CALLS)
    stats = []
    for row in sorted(rows, key=lambda r: r.trainee):
        recent = [c.effective_score for c in latest.get(row.trainee, [])]
        recent = [s for s in recent if s is not None]
        weak = weakest.get(row.trainee)
        stats.append(
            TeamStat(
                trainee=row.trainee,
                calls=row.calls,
                complete=row.complete,
                latest=recent[-1] if recent else None,
                best=row.best,
                trend=trend_delta(recent),
                pass_rate=round(row.passed / row.complete, 3) if row.complete else None,
                weakest=weak[0] if weak else "",
                weakest_rate=round(weak[1], 3) if weak else None,
                last_at=row.last_at,
                recent=recent,
                points_missed=gaps.get((row.trainee, "missed"), 0),
                contradictions=gaps.get((row.trainee, "contradiction"), 0),
                must_not=gaps.get((row.trainee, "must_not"), 0),
                work_order=None if row.work_order is None else round(row.work_order, 1),
                **dict(zip(("assigned", "assignments_done", "overdue"), work.get(row.trainee, (0, 0, 0)), strict=True)),
            )
        )
    for s in stats:
        s.trainee = names.name(s.trainee)
    stats.sort(key=_team_key(sort), reverse=reverse)
    return stats


def _team_key(sort: str):
    """Numbers best first (most calls, highest score, fastest rising); names alphabetical; weakest worst first."""
    if sort == "name":
        return lambda s: s.trainee
    if sort == "weakest":
        return lambda s: (s.weakest_rate is None, -(s.weakest_rate or 0), s.trainee)
    if sort == "last":
        return lambda s: (_neg_text(s.last_at), s.trainee)
    attribute = {"calls": "calls", "latest": "latest", "best": "best", "trend": "trend", "pass_rate": "pass_rate",
                 "contradictions": "contradictions", "must_not": "must_not", "work_order": "work_order",
                 "overdue": "overdue", "points_missed": "points_missed"}[sort]  # fmt: skip
    return lambda s: (getattr(s, attribute) is None, -(getattr(s, attribute) or 0), s.trainee)


def _neg_text(text: str) -> tuple:
    return tuple(-ord(ch) for ch in text)
