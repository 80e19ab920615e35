"""The console's pages: what each shows, who may see it, what its forms change. Rendering is in ``templates/``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.errors import NotFound, TrainerError
from simulator.console.web import Forbidden, Viewer, audio_file, checked_form, render
from simulator.history import TEAM_SORT_TITLES, TEAM_SORTS
from simulator.history.pseudonyms import Identity
from simulator.history.store import HistoryStore

CALLS_SHOWN = 200
CHART_POINTS = 300  # a trainee page charts their latest complete calls
NOT_FOUND_CALL = "没有这通电话 - 从学员页面的通话列表打开"


@dataclass
class Context:
    store: HistoryStore
    templates: Environment

    def render(self, request: Request, viewer: Viewer | None, name: str, data: dict, status: int = 200) -> Response:
        return render(self.templates, request, viewer, name, data, status)

    @cached_property
    def library(self) -> list:
        """The scenario library, read once."""
        from simulator.library import load_library

        return load_library()

    @cached_property
    def titles(self) -> dict[str, str]:
        return {s.id: s.title for s in self.library}

    @cached_property
    def curriculum(self):
        from simulator.curriculum import load_curriculum

        try:
            return load_curriculum(known_scenarios=self.titles)
        except TrainerError:
            return None


# ---- who sees what --------------------------------------------------------------------------------


def visible_trainees(ctx: Context, viewer: Viewer) -> set[str] | None:
    """The trainees whose calls the viewer may see; None: all of them (a supervisor)."""
    if viewer.role == "supervisor":
        return None
    if viewer.role == "trainee":
        return {viewer.name}
    mine = {u.name for u in ctx.store.users("trainee") if u.mentor == viewer.name}
    return mine | {c.trainee for c in ctx.store.list_calls(mentor=viewer.name, limit=5000)}


def may_see(ctx: Context, viewer: Viewer, trainee: str, mentor: str = "") -> bool:
    visible = visible_trainees(ctx, viewer)
    return visible is None or trainee in visible or (viewer.role == "mentor" and mentor == viewer.name)


# ---- pages ----------------------------------------------------------------------------------------


async def home(request: Request, ctx: Context, viewer: Viewer) -> Response:
    target = f"/trainees/{viewer.name}" if viewer.role == "trainee" else "/team"
    return RedirectResponse(target, status_code=303)


def needs_attention(stat) -> list[str]:
    """Why a trainee should be looked at first, in words."""
    reasons = []
    if stat.overdue:
        reasons.append(f"作业逾期 {stat.overdue} 项")
    if stat.contradictions or stat.must_not:
        reasons.append(f"说错事实 {stat.contradictions} 次, 违规 {stat.must_not} 次")
    if stat.trend is not None and stat.trend <= -5:
        reasons.append(f"成绩下滑 {stat.trend:g} 分")
    if stat.pass_rate is not None and stat.complete >= 3 and stat.pass_rate < 0.5:
        reasons.append(f"通过率 {round(100 * stat.pass_rate)}%")
    return reasons


async def team(request: Request, ctx: Context, viewer: Viewer) -> Response:
    from simulator.history.reports import category_title
    from simulator.history.reports import team as team_stats

    if viewer.role == "trainee":
        return RedirectResponse(f"/trainees/{viewer.name}", status_code=303)
    sort = request.query_params.get("sort", "name")
    sort = sort if sort in TEAM_SORTS else "name"
    reverse = request.query_params.get("reverse") == "1"
    visible = visible_trainees(ctx, viewer)
    stats = [s for s in team_stats(ctx.store, sort, reverse) if visible is None or s.trainee in visible]
    attention = [(s, why) for s in stats if (why := needs_attention(s))]
    return ctx.render(request, viewer, "team.html", {
        "stats": stats, "attention": attention, "sort": sort, "reverse": reverse, "sort_titles": TEAM_SORT_TITLES,
        "category_title": category_title, "assigned": request.query_params.get("assigned"),
    })  # fmt: skip


async def trainee(request: Request, ctx: Context, viewer: Viewer) -> Response:
    from scoring.guide import category_standard
    from simulator.history.html_report import trend_svg
    from simulator.history.reports import progress
    from simulator.history.terminal import local_time
    from simulator.people import todo_rows

    name = request.path_params["name"]
    if not may_see(ctx, viewer, name):
        raise NotFound(f"没有学员 {name} - 从团队页面进入")
    categories = {s.id: tuple(sorted({c for t in s.turns.values() for c in t.expect})) for s in ctx.library}
    p = progress(
        ctx.store,
        name,
        library=ctx.titles,
        curriculum=ctx.curriculum,
        scenario_categories=categories,
        points_last=CHART_POINTS,
    )
    points = p.points
    chart = trend_svg([pt.score for pt in points], [local_time(pt.at, short=True)[:5] for pt in points],
                      chart_id="trend", originals=[pt.original_score if pt.reviewed else None for pt in points])  # fmt: skip
    weak = [(c, category_standard(c.category)) for c in p.categories if (c.recent_rate or c.rate) >= 0.2][:6]
    return ctx.render(request, viewer, "trainee.html", {
        "p": p, "chart": chart, "weak": weak, "calls": ctx.store.list_calls(trainee=name, limit=CALLS_SHOWN),
        "todo": todo_rows(ctx.store, name), "local_time": local_time,
    })  # fmt: skip


def _call_for(ctx: Context, viewer: Viewer, prefix: str) -> str:
    """The full id of a call the viewer may see; any other (or none) is the same 'not found'."""
    try:
        call_id = ctx.store.resolve_call_id(prefix)
    except TrainerError as exc:
        raise NotFound(NOT_FOUND_CALL) from exc
    row = ctx.store.get_call_row(call_id)
    if not may_see(ctx, viewer, row.trainee, row.mentor):
        raise NotFound(NOT_FOUND_CALL)
    return call_id


def highlighted(turn: dict, analysis: dict) -> list[tuple[str, str, str]]:
    """The reply of a ``call_detail`` turn cut into (text, kind, note) pieces: guide phrases matched and key points
    said (from the scorer's analysis), forbidden phrases, wrong facts and must-not breaches marked; the rest plain."""
    reply = turn["reply"]
    marks: list[tuple[int, int, str, str]] = []
    for m in analysis.get("matches", []):
        marks.append((*m["span"], "hit", m.get("category", "")))
    for pt in analysis.get("points", []):
        marks.append((*pt["span"], "point", pt.get("id", "")))
    for f in turn["forbidden"]:
        if f.get("span"):
            marks.append((*f["span"], "forbidden", f"改说「{f.get('suggest', '')}」"))
    for x in turn["contradictions"]:
        if x.get("span"):
            marks.append((*x["span"], "wrong", f"应为「{x.get('right', '')}」"))
    for b in turn["must_not"]:
        if b.get("span"):
            marks.append((*b["span"], "must-not", f"改说「{b.get('suggest', '')}」" if b.get("suggest") else ""))
    pieces, at = [], 0
    for start, end, kind, note in sorted(marks):
        if start < at or end <= start:
            continue  # overlapping marks: the first one wins
        if start > at:
            pieces.append((reply[at:start], "", ""))
        pieces.append((reply[start:end], kind, note))
        at = end
    if at < len(reply):
        pieces.append((reply[at:], "", ""))
    return pieces


async def call(request: Request, ctx: Context, viewer: Viewer, error: str = "", status: int = 200) -> Response:
    from simulator.history.reports import call_detail, category_title, substance_text
    from simulator.history.terminal import local_time

    call_id = _call_for(ctx, viewer, request.path_params["call_id"])
    detail = call_detail(ctx.store, call_id, Identity())
    saved = ctx.store.get_call(call_id)
    analysis = {t.index: t.analysis for t in saved.turns}
    for turn in detail["turns"]:
        turn["pieces"] = highlighted(turn, analysis.get(turn["index"], {}))
        turn["audio"] = bool(turn["audio_path"]) and audio_file(turn["audio_path"]) is not None
        for key in ("points_hit", "points_missed"):
            turn[f"{key}_text"] = [substance_text(detail["scenario_id"], p) for p in turn[key]]
    return ctx.render(request, viewer, "call.html", {
        "d": detail, "category_title": category_title, "local_time": local_time, "error": error,
    }, status=status)  # fmt: skip


async def review(request: Request, ctx: Context, viewer: Viewer) -> Response:
    call_id = _call_for(ctx, viewer, request.path_params["call_id"])
    if not viewer.reviews:
        raise Forbidden("只有导师和主管可以改分和写评语")
    form = await checked_form(request)
    try:
        if form.get("kind") == "override":
            turn = _number(form.get("turn"), "轮次")
            score = _number(form.get("score"), "分数")
            ctx.store.add_override(call_id, int(turn) - 1, score, str(form.get("reason", "")), mentor=viewer.name)
        else:
            turn_text = str(form.get("turn", "")).strip()
            turn_index = int(_number(turn_text, "轮次")) - 1 if turn_text else None
            ctx.store.add_comment(call_id, str(form.get("text", "")), mentor=viewer.name, turn_index=turn_index)
    except TrainerError as exc:
        return await call(request, ctx, viewer, error=str(exc), status=400)
    return RedirectResponse(f"/calls/{call_id}#reviews", status_code=303)


def _number(value, what: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError as exc:
        raise TrainerError(f"{what}「{value}」不是数字 - 请填数字") from exc


async def audio(request: Request, ctx: Context, viewer: Viewer) -> Response:
    call_id = _call_for(ctx, viewer, request.path_params["call_id"])
    index = request.path_params["turn"]
    turns = {t.index: t for t in ctx.store.get_call(call_id).turns}
    found = audio_file(turns[index].audio_path) if index in turns else None
    if found is None:
        raise NotFound("这一轮没有录音 (打字回答的轮次, 或录音文件已不在这台机器上)")
    return found


async def assign(request: Request, ctx: Context, viewer: Viewer) -> Response:
    from scoring.scorecard import PASS_SCORE
    from simulator.people import check_min_score, parse_due

    if not viewer.reviews:
        raise Forbidden("只有导师和主管可以布置作业")
    visible = visible_trainees(ctx, viewer)
    trainees = [u for u in ctx.store.users("trainee") if visible is None or u.name in visible]
    data = {"trainees": trainees, "scenarios": ctx.library, "error": "", "form": {}, "pass_score": PASS_SCORE}
    if request.method == "GET":
        return ctx.render(request, viewer, "assign.html", data)
    form = await checked_form(request)
    chosen_scenarios = [s for s in form.getlist("scenario") if s in ctx.titles]
    allowed = {u.name for u in trainees}
    chosen_trainees = [str(t) for t in form.getlist("trainee")]
    data["form"] = {"scenarios": chosen_scenarios, "trainees": chosen_trainees, "due": form.get("due", ""),
                    "exam": form.get("exam") == "1", "min_score": form.get("min_score", "")}  # fmt: skip
    try:
        if not chosen_scenarios:
            raise TrainerError("请至少选一个场景")
        if not chosen_trainees:
            raise TrainerError("请至少选一位学员")
        if any(t not in allowed for t in chosen_trainees):
            raise Forbidden("只能给自己的学员布置作业")
        due = parse_due(str(form.get("due", "")))
        min_text = str(form.get("min_score", "")).strip()
        min_score = check_min_score(_number(min_text, "最低分") if min_text else PASS_SCORE)
    except Forbidden:
        raise
    except TrainerError as exc:
        data["error"] = str(exc)
        return ctx.render(request, viewer, "assign.html", data, status=400)
    made = ctx.store.add_assignments(chosen_scenarios, chosen_trainees, due=due, exam=form.get("exam") == "1",
                                     min_score=min_score, actor=viewer.name)  # fmt: skip
    return RedirectResponse(f"/team?assigned={len(made)}", status_code=303)


async def scenarios(request: Request, ctx: Context, viewer: Viewer) -> Response:
    from simulator.turn_graph import graph_svg

    results = {r.scenario_id: r for r in ctx.store.scenario_summary()}
    items = [{"s": s, "graph": graph_svg(s), "r": results.get(s.id)} for s in ctx.library]
    return ctx.render(request, viewer, "scenarios.html", {"items": items})
