"""A self-contained HTML report: one file, no script, no network, charts as inline SVG.

Every piece of text that came from a user (names, replies, comments, reasons, scenario ids) goes
through ``esc``; the page also carries a Content-Security-Policy that forbids scripts and any
fetch, so even a missed escape could not run code or call out.
"""

from __future__ import annotations

import html
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from core.errors import TrainerError
from core.text import fmt_score as fmt
from simulator.history.pseudonyms import MENTOR, Identity
from simulator.history.reports import RECENT_CALLS, SUBSTANCE_TITLES, TeamStat, category_title, progress, team
from simulator.history.store import HistoryStore

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
MAX_TREND_POINTS = 300  # a single trainee's chart shows their latest calls; the data table keeps the rest
MAX_CALL_ROWS = 200
MAX_REVIEWS = 300


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{round(100 * rate)}%"


def write_report(
    store: HistoryStore,
    path: str | Path,
    *,
    trainee: str | None = None,
    names=None,
    library: dict | None = None,
    force: bool = False,
) -> dict:
    """Write the report; ``library`` (scenario id -> title) lists scenarios never tried as not passed. Never over the
    database itself; over another existing file only if it is one of our reports, or with ``force``. The page is
    written to a temporary file and renamed, so an interrupted run leaves the old file whole."""
    path = Path(path)
    if store.path is not None and path.resolve() == store.path.resolve():
        raise TrainerError(f"{path} 是成绩数据库本身, 不能写报告到这里 - 换一个文件名, 例如 report.html")
    if path.exists() and not force and not _is_our_report(path):
        raise TrainerError(f"{path} 已存在, 且不是本工具生成的报告 - 换一个文件名, 或加 --force 覆盖")
    page, counts = build_report(store, trainee=trainee, names=names or Identity(), library=library)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(page)
        os.replace(tmp.name, path)
    except OSError as exc:
        raise TrainerError(f"无法写入报告 {path}: {exc.strerror} - 换一个可写的路径") from exc
    return {"path": str(path), "bytes": len(page.encode("utf-8")), **counts}


REPORT_MARK = '<meta name="generator" content="hotline-trainer report">'


def _is_our_report(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return REPORT_MARK in head


def build_report(
    store: HistoryStore, *, trainee: str | None = None, names=None, library: dict | None = None
) -> tuple[str, dict]:
    names = names or Identity()
    generated = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    if trainee is not None:
        body, counts = _trainee_body(store, trainee, names, library)
        title = f"{names.name(trainee)} 的练习报告"
    else:
        body, counts = _team_body(store, names)
        title = "团队练习报告"
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
{REPORT_MARK}
<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} - 12368 热线座席训练</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{esc(title)}</h1>
<p class="meta">12368 诉讼服务热线座席训练 · 生成于 {esc(generated)} · 分数旁的删除线是系统原分, 粗体是导师改分后的分数</p>
</header>
{body}
</body>
</html>
"""
    return page, counts


# ---- the two kinds of report -------------------------------------------------------------------


MIN_WEEKS = 4  # fewer weekly means than this draw a dot or two, not a trend


def _team_trend(store: HistoryStore, weekly) -> str:
    """The team's weekly mean; with fewer than four weeks, each of the latest complete calls instead."""
    if len(weekly) >= MIN_WEEKS:
        chart = trend_svg([w.mean for w in weekly], [w.week for w in weekly], chart_id="trend-chart")
        return _section("成绩走势", "全体学员每周完成通话的平均分", chart)
    calls = store.list_calls(status="complete", limit=RECENT_TEAM_CALLS)[::-1]
    chart = trend_svg([c.effective_score for c in calls], [c.started_at[5:10] for c in calls], chart_id="trend-chart")
    return _section(
        "成绩走势", f"全体学员最近 {len(calls)} 通完成的通话, 按时间先后 (不足 {MIN_WEEKS} 周, 不按周平均)", chart
    )


RECENT_TEAM_CALLS = 300


def _team_body(store: HistoryStore, names) -> tuple[str, dict]:
    stats = team(store, "name", names=names)
    weekly = store.weekly_scores()
    matrix = store.category_totals()
    forbidden: dict[str, list] = {}
    for f in store.forbidden_totals():
        entry = forbidden.setdefault(f.phrase_id, [f.phrase, f.suggest, f.severity, 0])
        entry[3] += f.uses
    categories = sorted({c.category for c in matrix}, key=_category_order)
    rows = {}
    for c in matrix:
        rows.setdefault(names.name(c.trainee), {})[c.category] = (c.expected, c.missed)
    parts = [
        _team_trend(store, weekly),
        _section("学员一览", f"共 {len(stats)} 位学员", _team_table(stats)),
        _section(
            "类别热力图",
            "每位学员在各用语类别的做到率 (应答中做到的比例); 颜色越红越需要练习",
            heatmap_svg(sorted(rows), categories, rows),
        ),
        _section(
            "服务禁语次数",
            "全体学员使用各条服务禁语的次数",
            forbidden_svg(sorted(forbidden.values(), key=lambda f: -f[3])),
        ),  # fmt: skip
        _section("导师改分与评语", "", _reviews_table(store.recent_reviews(limit=MAX_REVIEWS), names)),
    ]
    return "\n".join(parts), {"trainees": len(stats), "calls": sum(s.calls for s in stats)}


def _trainee_body(store: HistoryStore, trainee: str, names, library: dict | None) -> tuple[str, dict]:
    p = progress(store, trainee, names, library=library, points_last=MAX_TREND_POINTS)
    points = p.points
    by_week = store.category_by_week(trainee)
    categories = sorted({c for week in by_week.values() for c in week}, key=_category_order)
    weeks = sorted(by_week)[-12:]
    summary = (
        f"<table class='kv'><tr><th>通话</th><td>{p.calls} (完成 {p.complete}, 未完成 {p.incomplete})</td></tr>"
        f"<tr><th>通过率</th><td>{pct(p.pass_rate)}</td></tr>"
        f"<tr><th>最新 / 最好</th><td>{fmt(p.latest)} / {fmt(p.best)}</td></tr>"
        f"<tr><th>趋势</th><td>{'—' if p.trend is None else f'{p.trend:+g}'}</td></tr></table>"
    )
    practise = "".join(f"<li>{esc(item)}</li>" for item in p.practise_next) or "<li>暂无</li>"
    not_passed = "".join(
        f"<tr><td>{esc(s.scenario_id)}</td><td>{esc(s.title)}</td><td>{s.attempts}</td><td>{fmt(s.best)}</td></tr>"
        for s in p.scenarios_not_passed
    )
    calls = store.list_calls(trainee=trainee, limit=MAX_CALL_ROWS)
    parts = [
        _section("概况", "", summary + f"<h3>接下来练什么</h3><ol>{practise}</ol>"),
        _section(
            "成绩走势",
            f"最近 {len(points)} 通完成的通话; 空心点是系统原分, 实心点是改分后的分数",
            trend_svg(
                [pt.score for pt in points],
                [pt.at[:10] for pt in points],
                chart_id="trend-chart",
                originals=[pt.original_score if pt.reviewed else None for pt in points],
            ),  # fmt: skip
        ),
        _section(
            "类别热力图",
            "最近各周在各用语类别的做到率; 颜色越红越需要练习",
            heatmap_svg(weeks, categories, by_week),
        ),
        _section(
            "服务禁语次数",
            f"全部通话中的次数 (最近 {RECENT_CALLS} 通仍在用的标红)",
            forbidden_svg([[f.phrase, f.suggest, f.severity, f.uses, f.recent_uses] for f in p.forbidden_all]),
        ),
        _section(
            "要点与事实",
            f"说错的事实、说了不能说的话、漏掉的要点 (全部通话; 最近 = 最近 {RECENT_CALLS} 通)",
            _substance_table(p.substance),
        ),
        _section(
            "还没通过的场景",
            "",
            f"<table><tr><th>场景</th><th>名称</th><th>尝试</th><th>最好</th></tr>{not_passed}</table>"
            if not_passed
            else "<p>全部通过。</p>",
        ),
        _section("通话记录", f"最新 {len(calls)} 通", _calls_table(calls, names)),
        _section("导师改分与评语", "", _reviews_table(store.recent_reviews(trainee, MAX_REVIEWS), names)),
    ]
    return "\n".join(parts), {"trainees": 1, "calls": p.calls}


# ---- tables --------------------------------------------------------------------------------------


def _section(title: str, note: str, content: str) -> str:
    note_html = f"<p class='note'>{esc(note)}</p>" if note else ""
    return f"<section><h2>{esc(title)}</h2>{note_html}{content}</section>"


def _score_html(original: float | None, reviewed: float | None) -> str:
    if reviewed is None:
        return esc(fmt(original))
    return f"<s>{esc(fmt(original))}</s> → <b>{esc(fmt(reviewed))}</b>"


def _assignments_html(s: TeamStat) -> str:
    if not s.assigned:
        return "—"
    overdue = f" <span class='bad'>逾期 {s.overdue}</span>" if s.overdue else ""
    return f"{s.assignments_done}/{s.assigned}{overdue}"


def _team_table(stats: list[TeamStat]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "学员",
            "通话",
            "最新",
            "最好",
            "趋势",
            "通过率",
            "最弱类别",
            "漏要点",
            "说错事实",
            "违规",
            "工单",
            "作业 (完成/布置, 逾期)",
            "最近走势",
        )
    )
    rows = []
    for s in stats:
        trend = "—" if s.trend is None else f"{s.trend:+g}"
        weakest = f"{esc(category_title(s.weakest))} {pct(s.weakest_rate)}" if s.weakest else "—"
        rows.append(
            f"<tr><td>{esc(s.trainee)}</td><td>{s.calls}</td><td>{fmt(s.latest)}</td><td>{fmt(s.best)}</td>"
            f"<td>{esc(trend)}</td><td>{pct(s.pass_rate)}</td><td>{weakest}</td><td>{s.points_missed}</td>"
            f"<td>{s.contradictions}</td><td>{s.must_not}</td><td>{fmt(s.work_order)}</td>"
            f"<td>{_assignments_html(s)}</td><td>{sparkline_svg(s.recent)}</td></tr>"
        )
    return f"<table class='team'><tr>{head}</tr>{''.join(rows)}</table>"


def _substance_table(gaps) -> str:
    if not gaps:
        return "<p>没有漏掉要点、说错事实或违规。</p>"
    head = "".join(f"<th>{h}</th>" for h in ("类型", "场景", "要点 / 规定", "次数", "最近"))
    rows = "".join(
        f"<tr><td>{esc(SUBSTANCE_TITLES[g.kind])}</td><td>{esc(g.scenario_id)}</td><td>{esc(g.text)}</td>"
        f"<td>{g.uses}</td><td>{g.recent_uses}</td></tr>"
        for g in gaps
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _calls_table(calls, names) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("编号", "时间 (UTC)", "场景", "状态", "得分", "通过", "轮数"))
    rows = "".join(
        f"<tr><td><code>{esc(c.call_id)}</code></td><td>{esc(c.started_at.replace('T', ' ').rstrip('Z'))}</td>"
        f"<td>{esc(c.scenario_id)}</td><td>{esc(_STATUS.get(c.status, c.status))}</td>"
        f"<td>{_score_html(c.score, c.reviewed_score)}</td><td>{ {True: '✓', False: '✗', None: '—'}[c.passed] }</td>"
        f"<td>{c.turn_count}</td></tr>"
        for c in calls
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _reviews_table(reviews, names) -> str:
    if not reviews:
        return "<p>还没有导师改分或评语。</p>"
    head = "".join(f"<th>{h}</th>" for h in ("时间 (UTC)", "学员", "通话", "轮", "学员的回复", "类型", "原分 → 改分",
                                             "理由 / 评语", "导师"))  # fmt: skip
    rows = []
    for r, who, reply in reviews:
        change = f"<s>{esc(fmt(r.original_score))}</s> → <b>{esc(fmt(r.new_score))}</b>" if r.kind == "override" else ""
        words = r.reason if r.kind == "override" else r.text
        rows.append(
            f"<tr><td>{esc(r.created_at.replace('T', ' ').rstrip('Z'))}</td><td>{esc(names.name(who))}</td>"
            f"<td><code>{esc(r.call_id)}</code></td><td>{'' if r.turn_index is None else r.turn_index + 1}</td>"
            f"<td>{esc(names.scrub(reply))}</td><td>{'改分' if r.kind == 'override' else '评语'}</td><td>{change}</td>"
            f"<td>{esc(names.scrub(words))}</td><td>{esc(names.name(r.mentor, MENTOR))}</td></tr>"
        )
    return f"<table class='reviews'><tr>{head}</tr>{''.join(rows)}</table>"


# ---- charts ----------------------------------------------------------------------------------------


def trend_svg(
    scores: list[float | None], labels: list[str], *, chart_id: str, originals: list[float | None] | None = None
) -> str:
    """A line of scores 0..100; where ``originals`` has a value, a hollow point shows the scorer's score."""
    width, height, left, right, top, bottom = 960, 300, 44, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f"<svg id='{chart_id}' class='chart' role='img' aria-label='成绩走势' viewBox='0 0 {width} {height}' "
             f"width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"]  # fmt: skip
    for tick in range(0, 101, 20):
        y = top + plot_h * (1 - tick / 100)
        parts.append(f"<line x1='{left}' y1='{y:.1f}' x2='{width - right}' y2='{y:.1f}' class='grid'/>")
        parts.append(f"<text x='{left - 6}' y='{y + 4:.1f}' class='axis' text-anchor='end'>{tick}</text>")
    known = [(i, s) for i, s in enumerate(scores) if s is not None]
    if not known:
        parts.append(
            f"<text x='{width / 2}' y='{height / 2}' text-anchor='middle' class='axis'>还没有完成的通话</text>"
        )
        return "".join(parts) + "</svg>"
    step = plot_w / max(1, len(scores) - 1)

    def xy(i: int, s: float) -> tuple[float, float]:
        return left + (i * step if len(scores) > 1 else plot_w / 2), top + plot_h * (1 - s / 100)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, s) for i, s in known))
    parts.append(f"<polyline class='trend' points='{path}'/>")
    show_dots = len(known) <= 120
    for i, s in known:
        x, y = xy(i, s)
        original = originals[i] if originals else None
        if original is not None:
            ox, oy = xy(i, original)
            parts.append(f"<line class='override' x1='{ox:.1f}' y1='{oy:.1f}' x2='{x:.1f}' y2='{y:.1f}'/>")
            parts.append(f"<circle class='original' cx='{ox:.1f}' cy='{oy:.1f}' r='4'><title>原分 {fmt(original)}"
                         f"</title></circle>")  # fmt: skip
        if show_dots or original is not None:
            parts.append(f"<circle class='dot' cx='{x:.1f}' cy='{y:.1f}' r='3'><title>{esc(labels[i])}: "
                         f"{fmt(s)}</title></circle>")  # fmt: skip
    last = len(labels) - 1
    drawn: list[float] = []
    for i in sorted({0, last, *range(0, len(labels), max(1, len(labels) // 8))}, key=lambda i: (i not in (0, last), i)):
        x, _ = xy(i, 0)
        if any(abs(x - other) < 115 for other in drawn):  # a date label is about 75 px wide
            continue  # would overlap a label already placed (the first and the last are placed first)
        drawn.append(x)
        anchor = "start" if i == 0 else "end" if i == last else "middle"
        parts.append(f"<text x='{x:.1f}' y='{height - 14}' class='axis' text-anchor='{anchor}'>{esc(labels[i])}</text>")
    return "".join(parts) + "</svg>"


def heatmap_svg(rows: list[str], columns: list[str], cells: dict[str, dict[str, tuple[int, int]]]) -> str:
    """Rows x categories; each cell the share of expecting turns where the category was hit."""
    if not rows or not columns:
        return "<p>还没有可统计的类别。</p>"
    label_w, cell_w, cell_h, head_h = 150, 110, 24, 34
    width, height = label_w + cell_w * len(columns) + 10, head_h + cell_h * len(rows) + 10
    parts = [f"<svg id='heatmap' class='chart' role='img' aria-label='类别热力图' viewBox='0 0 {width} {height}' "
             f"width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"]  # fmt: skip
    for j, column in enumerate(columns):
        x = label_w + j * cell_w + cell_w / 2
        parts.append(f"<text x='{x:.0f}' y='22' class='head' text-anchor='middle'>{esc(category_title(column))}</text>")
    for i, row in enumerate(rows):
        y = head_h + i * cell_h
        shown = row if len(row) <= 12 else row[:11] + "…"
        parts.append(f"<text x='{label_w - 8}' y='{y + 16}' class='label' text-anchor='end'>{esc(shown)}"
                     f"<title>{esc(row)}</title></text>")  # fmt: skip
        for j, column in enumerate(columns):
            x = label_w + j * cell_w
            expected, missed = cells.get(row, {}).get(column, (0, 0))
            if expected:
                rate = 1 - missed / expected
                parts.append(
                    f"<rect class='cell' x='{x + 1}' y='{y + 1}' width='{cell_w - 2}' height='{cell_h - 2}' "
                    f"fill='{_heat(rate)}'><title>{esc(row)} · {esc(category_title(column))}: 做到 "
                    f"{expected - missed}/{expected}</title></rect>"
                    f"<text x='{x + cell_w / 2}' y='{y + 16}' class='value' text-anchor='middle'>{pct(rate)}</text>"
                )
            else:
                parts.append(f"<rect class='cell empty' x='{x + 1}' y='{y + 1}' width='{cell_w - 2}' "
                             f"height='{cell_h - 2}'/>")  # fmt: skip
    return "".join(parts) + "</svg>"


def forbidden_svg(entries: list[list]) -> str:
    """Horizontal bars: [phrase, suggest, severity, uses, (recent uses)]."""
    if not entries:
        return "<p>没有用过服务禁语。</p>"
    label_w, bar_w, row_h = 160, 560, 28
    notes = [f"{e[3]} 次" + (f" (最近 {e[4]})" if len(e) > 4 and e[4] else "") + f" → 「{e[1]}」" for e in entries]
    # The widest note decides the width, so a long suggestion is never cut at the right edge.
    note_w = max(_text_width(note) for note in notes) + 16
    width, height = label_w + bar_w + note_w, row_h * len(entries) + 12
    top = max(e[3] for e in entries) or 1
    parts = [f"<svg id='forbidden-chart' class='chart' role='img' aria-label='服务禁语次数' "
             f"viewBox='0 0 {width} {height}' width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"]  # fmt: skip
    for i, entry in enumerate(entries):
        phrase, suggest, severity, uses = entry[:4]
        recent = entry[4] if len(entry) > 4 else None
        y = 6 + i * row_h
        length = max(2.0, bar_w * uses / top)
        style = "bar critical" if severity == "critical" else ("bar recent" if recent else "bar")
        parts.append(f"<text x='{label_w - 8}' y='{y + 17}' class='label' text-anchor='end'>「{esc(phrase)}」</text>")
        parts.append(f"<rect class='{style}' x='{label_w}' y='{y + 3}' width='{length:.1f}' height='{row_h - 8}'>"
                     f"<title>{esc(phrase)}: {uses} 次; 应改说「{esc(suggest)}」</title></rect>")  # fmt: skip
        parts.append(f"<text x='{label_w + length + 6:.1f}' y='{y + 17}' class='value'>{esc(notes[i])}</text>")
    return "".join(parts) + "</svg>"


def _text_width(text: str, size: float = 14) -> float:
    """About how wide ``text`` draws: a CJK character a full em, anything else half of one."""
    return sum(size if ord(ch) > 0x2E7F else size / 2 for ch in text)


def sparkline_svg(scores: list[float]) -> str:
    if len(scores) < 2:
        return ""
    width, height = 120, 24
    step = width / (len(scores) - 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * s / 100:.1f}" for i, s in enumerate(scores))
    return (f"<svg class='spark' viewBox='0 0 {width} {height}' width='{width}' height='{height}' "
            f"xmlns='http://www.w3.org/2000/svg'><polyline points='{points}'/></svg>")  # fmt: skip


def _heat(rate: float) -> str:
    """Red (0%) through yellow (50%) to green (100%)."""
    low, mid, high = (215, 48, 39), (254, 224, 139), (26, 152, 80)
    a, b, t = (low, mid, rate * 2) if rate < 0.5 else (mid, high, (rate - 0.5) * 2)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


_FIXED_ORDER = ("greeting", "ask_case_info", "verify_identity", "empathy", "hold", "commitment", "closing")


def _category_order(category: str) -> tuple:
    return (_FIXED_ORDER.index(category) if category in _FIXED_ORDER else len(_FIXED_ORDER), category)


_STATUS = {"complete": "完成", "incomplete": "未完成", "in_progress": "进行中"}

_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 24px auto; max-width: 1100px; color: #222; background: #fff; padding: 0 16px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; border-bottom: 2px solid #2b6cb0; padding-bottom: 4px; }
.meta, .note { color: #666; font-size: 13px; }
section { margin: 28px 0; }
table { border-collapse: collapse; font-size: 14px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: middle; }
th { background: #f0f4f8; }
table.kv th { width: 110px; }
s { color: #999; }
.chart { max-width: 100%; height: auto; display: block; background: #fcfcfd; border: 1px solid #eee; }
.chart .grid { stroke: #e5e7eb; stroke-width: 1; }
.chart .axis { font-size: 12px; fill: #555; }
.chart .trend { fill: none; stroke: #2b6cb0; stroke-width: 2; }
.chart .dot { fill: #2b6cb0; }
.chart .original { fill: #fff; stroke: #c05621; stroke-width: 1.5; }
.chart .override { stroke: #c05621; stroke-dasharray: 3 2; }
.chart .head { font-size: 13px; font-weight: bold; fill: #333; }
.chart .label { font-size: 13px; fill: #333; }
.chart .value { font-size: 12px; fill: #222; }
.chart .cell.empty { fill: #f3f3f3; }
.chart .bar { fill: #dd6b20; } .chart .bar.recent { fill: #e53e3e; } .chart .bar.critical { fill: #9b2c2c; }
.spark { display: block; } .spark polyline { fill: none; stroke: #2b6cb0; stroke-width: 1.5; }
code { font-size: 13px; }
"""
