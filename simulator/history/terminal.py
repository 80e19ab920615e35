"""Terminal views of the history: rich tables, the transcript, the progress charts.

Everything the user typed (names, replies, comments) is printed through ``Text`` objects, never
parsed as rich markup, so a reply like "[bold]" stays as typed.
"""

from __future__ import annotations

from datetime import datetime

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from core.text import fmt_score
from simulator.history import TEAM_SORT_TITLES
from simulator.history.reports import RECENT_CALLS, SUBSTANCE_TITLES, Progress, TeamStat, category_title

STATUS = {"complete": "完成", "incomplete": "未完成", "in_progress": "进行中"}
END_REASON = {
    "end": "正常结束",
    "time_limit": "超时",
    "hangup": "挂断",
    "interrupted": "中断",
    "replies_exhausted": "回答用完",
    "abandoned": "程序意外退出",
    "error": "出错",
}
SOURCE = {"typed": "打字", "scripted": "脚本", "voice": "语音", "wav": "录音文件"}
SPARK = "▁▂▃▄▅▆▇█"


def local_time(iso: str, short: bool = False) -> str:
    """A stored UTC time in the user's time zone; ``short`` drops the year for narrow tables."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return iso
    return moment.strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")


def score_text(original: float | None, reviewed: float | None) -> Text:
    """The scorer's score, and the mentor's beside it when overridden: "60 → 80"."""
    if reviewed is None:
        return Text(fmt_score(original))
    return Text.assemble((fmt_score(original), "strike dim"), "→", (fmt_score(reviewed), "bold"))


def fmt_trend(delta: float | None) -> Text:
    if delta is None:
        return Text("—")
    if delta > 0.5:
        return Text(f"↑+{delta:g}", style="green")
    if delta < -0.5:
        return Text(f"↓{delta:g}", style="red")
    return Text(f"→{delta:+g}")


def fmt_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{round(100 * rate)}%"


TREND_POINTS = 60  # the sparkline's width: the latest complete calls it shows


def sparkline(scores: list[float], width: int = TREND_POINTS) -> str:
    """One character per call (the last ``width`` calls), height by score 0..100."""
    return "".join(SPARK[min(len(SPARK) - 1, int(s / 100 * len(SPARK)))] for s in scores[-width:])


def _table(title: str) -> Table:
    """The compact left-titled table every history view uses."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)


def render_history(rows: list[dict], console: Console) -> None:
    if not rows:
        console.print("没有符合条件的通话记录。")
        return
    table = _table(f"通话记录 ({len(rows)} 通, 最新在前)")
    for name, justify in (("编号", "left"), ("时间", "left"), ("学员", "left"), ("场景", "left"), ("结果", "left"),
                          ("得分", "right"), ("轮数", "right")):  # fmt: skip
        table.add_column(
            name,
            justify=justify,
            no_wrap=name not in ("学员", "场景"),
            overflow="fold",
            min_width=6 if name == "学员" else None,
        )
    for r in rows:
        result = STATUS.get(r["status"], r["status"])
        if r["status"] == "complete" and r["passed"] is not None:
            result += "✓" if r["passed"] else "✗"
        table.add_row(
            r["call_id"],
            local_time(r["started_at"], short=True),
            Text(r["trainee"] or "—"),
            Text(r["scenario_id"]),
            Text(result, style="" if r["status"] == "complete" else "yellow"),
            score_text(r["score"], r["reviewed_score"]),
            str(r["turn_count"]),
        )
    console.print(table)


def render_call(d: dict, console: Console) -> None:
    """``history show``: the header, every turn with its feedback, overrides and comments."""
    head = Text()
    head.append(f"通话 {d['call_id']}  ", style="bold")
    head.append(d["trainee"] or "—")
    if d["mentor"]:
        head.append(f"  导师 {d['mentor']}")
    head.append(f"\n场景 {d['scenario_id']}")
    if d["scenario_title"]:
        head.append(f"  {d['scenario_title']}")
    head.append(f"\n{local_time(d['started_at'])}  {STATUS.get(d['status'], d['status'])}")
    if d["end_reason"]:
        head.append(f"({END_REASON.get(d['end_reason'], d['end_reason'])})")
    head.append(f"  时长 {d['call_s']:.0f}s  模式 {'考试' if d['mode'] == 'exam' else '带教'}\n总分 ")
    head.append_text(score_text(d["score"], d["reviewed_score"]))
    if d["passed"] is not None:
        head.append("  通过" if d["passed"] else "  未通过", style="green" if d["passed"] else "red")
    if d["variables"]:
        head.append("\n变量 " + ", ".join(f"{k}={v}" for k, v in d["variables"].items()))
    console.print(Panel(head, expand=False))
    for turn in d["turns"]:
        console.print(_turn_block(turn))
    if d.get("work_order"):
        from simulator.ui import work_order_table

        console.print(work_order_table(d["work_order"]))
    if d["call_reviews"]:
        console.print(Text("导师评语(整通电话):", style="bold"))
        for review in d["call_reviews"]:
            console.print(_review_line(review))


def _turn_block(t: dict) -> Group:
    lines = []
    title = Text(f"#{t['n']} {t['turn']}", style="bold")
    title.append(f"  {SOURCE.get(t['source'], t['source'])}  响应 {t['response_s']:.1f}s", style="dim")
    if not t["counted"]:
        title.append("  (已重答, 不计分)", style="dim")
    lines.append(title)
    # Full-width colon and no space: rich would move a whole space-free Chinese line below the label.
    lines.append(Text.assemble(("来电：", "cyan"), t["caller_line"]))
    lines.append(Text.assemble(("回复：", "cyan"), t["reply"] or "(空)"))
    if t["audio_path"]:
        confidence = f"  识别置信度 {t['confidence']:.2f}" if t["confidence"] is not None else ""
        lines.append(Text(f"录音: {t['audio_path']}{confidence}", style="dim"))
    if t["asked_repeat"]:
        lines.append(Text("无法评分, 已请学员重说", style="yellow"))
    else:
        line = Text("得分 ")
        line.append_text(score_text(t["original_score"], t["override_score"]))
        hit = [c for c in t["expected"] if c not in t["missed"]]
        if hit:
            line.append("  ✓ " + " ".join(category_title(c) for c in hit), style="green")
        if t["missed"]:
            line.append("  ✗ " + " ".join(category_title(c) for c in t["missed"]), style="red")
        lines.append(line)
    for f in t["forbidden"]:
        lines.append(Text(f"禁语「{f.get('phrase', '')}」→ 应说「{f.get('suggest', '')}」", style="red"))
    for s in t["suggestions"]:
        lines.append(Text(f"建议({category_title(s.get('category', ''))}): {s.get('phrase', '')}", style="yellow"))
    for c in t.get("contradictions", []):
        lines.append(Text(f"说错事实: 说成了「{c.get('said', '')}」, 正确的是「{c.get('right', '')}」", style="red"))
    for m in t.get("must_not", []):
        lines.append(Text(f"不能说的话({m.get('text', '')}) → 应说「{m.get('suggest', '')}」", style="red"))
    wrong = {c.get("point") for c in t.get("contradictions", [])}
    missed = [p for p in t["points_missed"] if p not in wrong]
    if missed:
        lines.append(Text("漏掉要点: " + ", ".join(missed), style="yellow"))
    for reason in t["reasons"]:
        lines.append(Text(f"  {reason.get('delta', 0):+g}  {reason.get('why', '')}", style="dim"))
    if t["comment"]:
        lines.append(Text.assemble(("带教评语：", "magenta"), t["comment"]))
    for review in t["reviews"]:
        lines.append(_review_line(review))
    lines.append(Text(""))
    return Group(*lines)


def _review_line(r: dict) -> Text:
    who = r["mentor"] or "导师"
    when = local_time(r["created_at"])
    if r["kind"] == "override":
        return Text.assemble(
            ("改分 ", "magenta"), f"{fmt_score(r['original_score'])} → {fmt_score(r['new_score'])}",
            f"  理由: {r['reason']}", (f"  ({who}, {when})", "dim"),
        )  # fmt: skip
    return Text.assemble(("评语 ", "magenta"), r["text"], (f"  ({who}, {when})", "dim"))


def render_progress(p: Progress, console: Console) -> None:
    head = Text(f"{p.trainee} 的练习进度\n", style="bold")
    head.append(f"通话 {p.calls} 通: 完成 {p.complete}, 未完成 {p.incomplete}")
    if p.in_progress:
        head.append(f", 进行中 {p.in_progress}")
    head.append(f"\n通过率 {fmt_rate(p.pass_rate)}  最新 {fmt_score(p.latest)}  最好 {fmt_score(p.best)}  趋势 ")
    head.append_text(fmt_trend(p.trend))
    console.print(Panel(head, expand=False))

    scores = [pt.score for pt in p.points if pt.score is not None]
    if scores:
        shown = scores[-TREND_POINTS:]
        console.print(Text(f"成绩走势(最近 {len(shown)} 通完成的通话, 0-100 分)", style="bold"))
        console.print(Text("  " + sparkline(shown), style="cyan"))
        console.print(Text(f"  最低 {min(shown):g}  最高 {max(shown):g}  最近 {shown[-1]:g}", style="dim"))
        weeks = Table(title="每周平均分", title_justify="left", box=None, padding=(0, 1))
        weeks.add_column("周(周一)")
        weeks.add_column("通话", justify="right")
        weeks.add_column("平均", justify="right")
        weeks.add_column("", no_wrap=True)
        for w in p.weekly[-12:]:
            mean = w["mean"] or 0
            weeks.add_row(w["week"], str(w["calls"]), f"{mean:.1f}", Text("█" * round(mean / 100 * 40), style="cyan"))
        console.print(weeks)
    else:
        console.print("还没有完成的通话, 暂无成绩走势。")

    if p.categories:
        cats = Table(title="最常漏掉的用语类别", title_justify="left")
        cats.add_column("类别")
        cats.add_column("应答次数", justify="right")
        cats.add_column("漏掉", justify="right")
        cats.add_column("漏掉率", justify="right")
        cats.add_column(f"最近 {RECENT_CALLS} 通漏掉率", justify="right")
        for c in p.categories:
            cats.add_row(Text(c.title), str(c.expected), str(c.missed), fmt_rate(c.rate), fmt_rate(c.recent_rate))
        console.print(cats)
    if p.forbidden_all:
        bad = Table(title=f"服务禁语(最近 {RECENT_CALLS} 通里还在用的排前面)", title_justify="left")
        for name in ("禁语", "应改说", "总次数", "最近", "最后一次"):
            bad.add_column(name)
        for f in p.forbidden_all:
            style = "red" if f.recent_uses else "dim"
            bad.add_row(Text(f.phrase, style=style), Text(f.suggest), str(f.uses), str(f.recent_uses),
                        local_time(f.last_used))  # fmt: skip
        console.print(bad)
    else:
        console.print("没有用过服务禁语。")
    if p.substance:
        gaps = Table(title=f"要点与事实(说错和违规排前面; 最近 = 最近 {RECENT_CALLS} 通)", title_justify="left")
        for name in ("类型", "场景", "要点 / 规定", "次数", "最近"):
            gaps.add_column(name)
        for g in p.substance:
            style = "red" if g.kind != "missed" else None
            gaps.add_row(Text(SUBSTANCE_TITLES[g.kind], style=style), Text(g.scenario_id), Text(g.text), str(g.uses),
                         str(g.recent_uses))  # fmt: skip
        console.print(gaps)
    if p.scenarios_not_passed:
        todo = Table(title="还没通过的场景", title_justify="left")
        for name in ("场景", "名称", "尝试", "最好"):
            todo.add_column(name)
        for s in p.scenarios_not_passed:
            todo.add_row(Text(s.scenario_id), Text(s.title), str(s.attempts), fmt_score(s.best))
        console.print(todo)
    if p.curriculum:
        render_path(p.curriculum, console)
    if p.practise_next:
        console.print(Text("接下来练什么:", style="bold"))
        for i, item in enumerate(p.practise_next, 1):
            console.print(Text(f"  {i}. {item}"))


def render_path(path: dict, console: Console) -> None:
    """The learning path: each stage passed (✓), the current one (→) with its scenarios, what to practise next."""
    console.print(Text(f"学习路径: {path['title']}", style="bold"))
    for stage in path["stages"]:
        current = stage["id"] == path["current_stage"]
        mark = "✓" if stage["done"] else ("→" if current else " ")
        line = Text(f"  {mark} {stage['title']}  {stage['passed']}/{stage['total']} 个场景达到 {stage['pass_score']:g} 分",
                    style="bold" if current else ("green" if stage["done"] else "dim"))  # fmt: skip
        console.print(line)
        if current:
            for item in stage["scenarios"]:
                best = fmt_score(item["best"]) if item["best"] is not None else "未练"
                tick = "✓" if item["passed"] else "·"
                console.print(Text(f"      {tick} {item['title'] or item['id']} ({item['id']}): {best}"))
    if path["finished"]:
        console.print(Text("  整条学习路径已完成。", style="green"))
    elif path["next"]:
        console.print(Text(f"  下一步: {', '.join(path['next'])}  (run_training.py practice {path['next'][0]})"))


def assignment_cell(s: TeamStat) -> Text:
    """Assignments done of those set, the overdue ones in red: ``3/5 逾期1``."""
    if not s.assigned:
        return Text("—")
    cell = Text(f"{s.assignments_done}/{s.assigned}")
    if s.overdue:
        cell.append(f" 逾期{s.overdue}", style="red")
    return cell


def render_team(stats: list[TeamStat], console: Console, sort: str) -> None:
    """One row per trainee. Columns that say nothing (no work orders, no assignments) are left out, and on a narrow
    terminal the sparkline (under 120 columns) and the last practice day (under 100): the names and numbers must
    stay readable. ``--json`` and ``--csv`` always have every column."""
    if not stats:
        console.print("还没有任何通话记录。")
        return
    columns = [
        ("学员", "left", lambda s: Text(s.trainee)),
        ("通话", "right", lambda s: str(s.calls)),
        ("最新", "right", lambda s: fmt_score(s.latest)),
        ("最好", "right", lambda s: fmt_score(s.best)),
        ("趋势", "right", lambda s: fmt_trend(s.trend)),
        ("通过率", "right", lambda s: fmt_rate(s.pass_rate)),
        ("最弱类别", "left", lambda s: Text(category_title(s.weakest) if s.weakest else "—")),
        ("漏要点", "right", lambda s: str(s.points_missed)),
        ("说错事实", "right", lambda s: Text(str(s.contradictions), style="red" if s.contradictions else "")),
        ("违规", "right", lambda s: Text(str(s.must_not), style="red" if s.must_not else "")),
    ]
    if any(s.work_order is not None for s in stats):
        columns.append(("工单", "right", lambda s: fmt_score(s.work_order)))
    if any(s.assigned for s in stats):
        columns.append(("作业", "right", assignment_cell))
    if console.width >= 120:
        columns.append(("走势", "left", lambda s: Text(sparkline(s.recent, 8), style="cyan")))
    if console.width >= 100:
        columns.append(("最后练习", "left", lambda s: local_time(s.last_at, short=True)[:5] if s.last_at else "—"))
    table = _table(f"团队成绩({len(stats)} 位学员, 按{TEAM_SORT_TITLES.get(sort, sort)}排序)")
    cells = [[_as_text(cell(s)) for _, _, cell in columns] for s in stats]
    for i, (name, justify, _) in enumerate(columns):
        # Widths measured here, on plain text: Rich would measure every cell again (a third of the time at 200 rows).
        width = max(cell_len(name), 6 if i == 0 else 0, *(cell_len(row[i].plain) for row in cells))
        table.add_column(name, justify=justify, no_wrap=True, width=width)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _as_text(cell: str | Text) -> Text:
    """A cell as Text: a plain string would be parsed for markup, and a name may contain brackets."""
    return cell if isinstance(cell, Text) else Text(cell)
