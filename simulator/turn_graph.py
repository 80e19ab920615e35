"""A scenario's turn graph: its edges with their conditions in words, as Mermaid, Graphviz DOT or an SVG picture
(the web console's scenario library, which may load nothing from outside)."""

from __future__ import annotations

import html
from collections import deque


def condition_text(when, scenario=None, turn=None) -> str:
    """A branch condition in the words a trainee sees: category titles and key-point texts, not ids."""
    from scoring.guide import category_title

    if when is None:
        return "其他情况"
    texts = {p.id: p.text for p in turn.key_points} if turn is not None else {}
    parts = []
    if when.hit is not None:
        parts.append(f"做到「{category_title(when.hit)}」")
    if when.missed is not None:
        parts.append(f"漏了「{category_title(when.missed)}」")
    if when.point is not None:
        parts.append(f"说到「{texts.get(when.point, when.point)}」")
    if when.missed_point is not None:
        parts.append(f"没说到「{texts.get(when.missed_point, when.missed_point)}」")
    for key, yes, no in (("forbidden", "用了禁语", "没用禁语"), ("must_not", "说了不能说的话", "没说不能说的话"),
                         ("contradiction", "说错了事实", "没说错事实")):  # fmt: skip
        value = getattr(when, key)
        if value is not None:
            parts.append(yes if value else no)
    if when.score_below is not None:
        parts.append(f"得分 < {when.score_below:g}")
    if when.score_at_least is not None:
        parts.append(f"得分 ≥ {when.score_at_least:g}")
    return " 且 ".join(parts) or "总是"


def graph_edges(scenario) -> list[tuple[str, str, str]]:
    """(from turn, to turn, the condition in words) for every branch."""
    return [
        (turn.id, branch.goto, condition_text(branch.when, scenario, turn))
        for turn in scenario.turns.values()
        for branch in turn.next
    ]


def graph_text(scenario, kind: str) -> str:
    """The turn graph as Mermaid (``flowchart TD``) or Graphviz DOT, edges labelled with their conditions."""
    from simulator.scenario import END

    def label(text: str) -> str:
        return text.replace('"', "'").replace("\n", " ")

    edges = graph_edges(scenario)
    if kind == "mermaid":

        def node(tid: str) -> str:  # Mermaid ids: no hyphens, and "end" is a keyword
            return "call_end" if tid == END else "t_" + tid.replace("-", "_")

        lines = ["flowchart TD"]
        lines += [f'    {node(tid)}["{tid}: {label(turn.say[:24])}"]' for tid, turn in scenario.turns.items()]
        lines.append(f'    {node(END)}(["结束"])')
        lines += [f'    {node(a)} -->|"{label(why)}"| {node(b)}' for a, b, why in edges]
        return "\n".join(lines) + "\n"
    lines = [f'digraph "{scenario.id}" {{', "    rankdir=TB;", '    node [shape=box, fontname="Noto Sans CJK SC"];']
    lines += [f'    "{tid}" [label="{tid}\\n{label(turn.say[:24])}"];' for tid, turn in scenario.turns.items()]
    lines.append(f'    "{END}" [label="结束", shape=oval];')
    lines += [f'    "{a}" -> "{b}" [label="{label(why)}"];' for a, b, why in edges]
    return "\n".join(lines) + "\n}\n"


def graph_svg(scenario) -> str:
    """The turns in rows by their distance from the first, each branch an arrow; conditions as tooltips."""
    from simulator.scenario import END

    edges = graph_edges(scenario)
    depth = {scenario.start: 0}
    queue = deque([scenario.start])
    while queue:
        tid = queue.popleft()
        for a, b, _ in edges:
            if a == tid and b not in depth:
                depth[b] = depth[tid] + 1
                queue.append(b)
    for tid in [*scenario.turns, END]:
        depth.setdefault(tid, max(depth.values(), default=0) + 1)
    depth[END] = max(depth.values()) + (0 if depth.get(END) == max(depth.values()) else 0)
    rows: dict[int, list[str]] = {}
    for tid, d in sorted(depth.items(), key=lambda item: item[1]):
        rows.setdefault(d, []).append(tid)
    box_w, box_h, gap_x, gap_y = 150, 34, 30, 46
    width = max(len(r) for r in rows.values()) * (box_w + gap_x) + gap_x
    height = len(rows) * (box_h + gap_y) + gap_y
    where = {}
    for d, tids in rows.items():
        span = len(tids) * (box_w + gap_x) - gap_x
        for i, tid in enumerate(tids):
            where[tid] = ((width - span) / 2 + i * (box_w + gap_x), gap_y + d * (box_h + gap_y))
    parts = [f"<svg class='graph' role='img' aria-label='轮次图' viewBox='0 0 {width:.0f} {height:.0f}' "
             f"width='{width:.0f}' height='{height:.0f}' xmlns='http://www.w3.org/2000/svg'>"]  # fmt: skip
    for a, b, why in edges:
        (ax, ay), (bx, by) = where[a], where[b]
        x1, y1, x2, y2 = ax + box_w / 2, ay + box_h, bx + box_w / 2, by
        if by <= ay:  # back to an earlier row: leave from the side
            x1, y1, x2, y2 = ax + box_w, ay + box_h / 2, bx + box_w, by + box_h / 2
        parts.append(f"<line class='edge' x1='{x1:.0f}' y1='{y1:.0f}' x2='{x2:.0f}' y2='{y2:.0f}'>"
                     f"<title>{html.escape(a)} → {html.escape(b)}: {html.escape(why)}</title></line>")  # fmt: skip
        parts.append(f"<circle class='arrow' cx='{x2:.0f}' cy='{y2:.0f}' r='3'/>")
    for tid, (x, y) in where.items():
        label = "结束" if tid == END else tid
        say = "" if tid == END else scenario.turns[tid].say
        parts.append(f"<g class='node{' end' if tid == END else ''}'><rect x='{x:.0f}' y='{y:.0f}' width='{box_w}' "
                     f"height='{box_h}' rx='6'/><text x='{x + box_w / 2:.0f}' y='{y + box_h / 2 + 5:.0f}' "
                     f"text-anchor='middle'>{html.escape(label[:18])}</text><title>{html.escape(say)}</title></g>")  # fmt: skip
    return "".join(parts) + "</svg>"
