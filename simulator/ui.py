"""The terminal UI of a practice call (rich): brief, subtitles, mentor feedback, scorecard panel, and the
microphone's listening display."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from core.text import fmt_score
from scoring.guide import category_title
from simulator.engines.base import Source
from simulator.record import CallRecord, TurnRecord
from simulator.scenario import Scenario, Turn, fill

if TYPE_CHECKING:
    from rich.console import Console

    from scoring.scorecard import Scorecard
    from scoring.types import ReplyAnalysis, TurnScore
    from scoring.work_order import WorkOrder, WorkOrderSpec
    from simulator.engines.vad import ListenSettings, LiveReply

END_REASON_ZH = {
    "end": "通话正常结束",
    "time_limit": "到达通话时限",
    "hangup": "学员挂断",
    "interrupted": "练习被中断 (已保存为未完成)",
    "replies_exhausted": "回答用完 (已保存为未完成)",
    "abandoned": "程序意外退出 (已保存为未完成)",
    "error": "出错中断 (已保存为未完成)",
}


def highlight_reply(text: str, analysis: dict) -> str:
    """Rich markup of the reply: category matches green, forbidden phrases red, key points underlined."""

    marks: list[tuple[int, int, str]] = []
    marks += [(f["span"][0], f["span"][1], "bold red") for f in analysis.get("forbidden", [])]
    marks += [(m["span"][0], m["span"][1], "bold red") for m in analysis.get("must_not", [])]
    marks += [(c["span"][0], c["span"][1], "bold red underline") for c in analysis.get("contradictions", [])]
    marks += [(m["span"][0], m["span"][1], "bold green") for m in analysis.get("matches", [])]
    marks += [(p["span"][0], p["span"][1], "underline") for p in analysis.get("points", [])]
    styles: list[str | None] = [None] * len(text)
    for start, end, style in reversed(marks):  # forbidden last in reversed order, so it wins overlaps
        for i in range(max(0, start), min(len(text), end)):
            styles[i] = style
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and styles[j] == styles[i]:
            j += 1
        chunk = escape(text[i:j])
        out.append(f"[{styles[i]}]{escape(chunk)}[/]" if styles[i] else escape(chunk))
        i = j
    return "".join(out)


class RichUI:
    def __init__(self, console: Console | None = None, *, interactive: bool = True, subtitles: bool = True):
        from rich.console import Console

        self.console = console or Console(highlight=False)
        self.interactive = interactive
        self.subtitles = subtitles
        self._notices: set[str] = set()

    def call_starts(self, scenario: Scenario, call: CallRecord) -> None:
        from rich.panel import Panel

        body = (
            f"[bold]{escape(scenario.title)}[/]   业务: {escape(scenario.service)}   难度: {'★' * scenario.difficulty}"
            f"   时限: {scenario.time_limit_s} 秒\n\n{escape(fill(scenario.brief, call.variables))}\n\n"
            f"来电人: {escape(scenario.caller.name)} ({escape(scenario.caller.persona)})"
        )
        mode = "考试模式: 通话结束后才显示评分" if call.mode == "exam" else "带教模式: 每句回答后即时反馈"
        self.console.print(Panel(body, title="来电简介", subtitle=mode))

    def caller_says(self, name: str, text: str) -> None:
        if self.subtitles:
            self.console.print(f"\n[bold cyan]☎{escape(name)}：[/]{escape(text)}")
        else:
            self.console.print(f"\n[bold cyan]☎ {escape(name)}[/] 正在说话… (字幕已关闭)")

    def notice(self, text: str) -> None:
        if text not in self._notices:  # a notice is said once per call
            self._notices.add(text)
            self.console.print(f"[yellow]提示: {escape(text)}[/]")

    def ask_repeat(self, reason: str) -> None:
        self.console.print(f"[yellow]☎ {escape(reason)}[/]")

    def feedback(self, turn: Turn, record: TurnRecord, analysis: ReplyAnalysis, score: TurnScore) -> None:
        from rich.panel import Panel

        data = record.analysis
        lines = [f"您说：{highlight_reply(record.reply, data)}"]
        if Source(record.source).spoken and record.confidence is not None:
            lines[0] += f"   [dim](识别置信度 {record.confidence:.0%})[/]"
        by_model = {m.category for m in analysis.matches if m.source == "model"}
        for cid in score.hit:
            note = "  [dim](没有对上规范用语原话,模型判断意思相近)[/]" if cid in by_model else ""
            lines.append(f"[green]✓ {escape(category_title(cid))}[/]{note}")
        for s in analysis.suggestions:
            lines.append(f"[red]✗ {escape(category_title(s.category))}[/]  建议说: 「{escape(s.phrase)}」")
        for f in analysis.forbidden:
            how = "  [dim](模型判断,说法与此禁语相近)[/]" if f.source == "model" else ""
            lines.append(f"[bold red]✗ 服务禁语「{escape(f.phrase)}」[/]{how}  应改说: 「{escape(f.suggest)}」")
        for m in score.must_not:
            said = escape(record.reply[m.span[0] : m.span[1]])
            lines.append(f"[bold red]✗ 不能说「{said}」({escape(m.text)})[/]  应改说: 「{escape(m.suggest)}」")
        wrong = {c.point for c in score.contradictions}
        for c in score.contradictions:
            lines.append(
                f"[bold red]✗ 说错了 {escape(_point_text(turn, c.point))}: 您说「{escape(c.said)}」,"
                f" 正确的是「{escape(c.right)}」[/]"
            )
        for pid in score.points_hit:
            lines.append(f"[green]✓ 要点 {escape(_point_text(turn, pid))}[/]")
        for pid in score.points_missed:
            if pid not in wrong:
                lines.append(f"[red]✗ 要点 {escape(_point_text(turn, pid))}[/]")
        if record.speech:
            from simulator.engines.speech_metrics import notes

            lines += [f"[yellow]• {note}[/]" for note in notes(record.speech)]
        if score.score < 60 and turn.hint:
            lines.append(f"[cyan]带教提示: {escape(turn.hint)}[/]")
        style = "green" if score.score >= 80 else "yellow" if score.score >= 60 else "red"
        self.console.print(
            Panel("\n".join(lines), title=f"本句得分 [{style}]{fmt_score(score.score)}[/]", border_style=style)
        )

    def offer_retry(self) -> bool:
        if not self.interactive:
            return False
        from rich.prompt import Confirm

        try:
            return Confirm.ask("重答这一句?", console=self.console, default=False)
        except EOFError:
            return False

    def mentor_comment(self, mentor: str) -> str:
        if not self.interactive:
            return ""
        from rich.prompt import Prompt

        try:
            return Prompt.ask(
                f"[magenta]带教老师 {escape(mentor)} 的点评[/] (回车跳过)",
                console=self.console,
                default="",
                show_default=False,
            ).strip()
        except EOFError:
            return ""

    def work_order_form(self, spec: WorkOrderSpec) -> WorkOrder:
        """The work order after the call, one field at a time (simulator/work_order_form.py asks the questions)."""
        from rich.prompt import Prompt

        from simulator.work_order_form import ask

        self.console.print()
        self.console.print("[bold]通话结束, 请填写工单[/] (回车跳过一项)")
        return ask(
            spec, lambda label: Prompt.ask(f"[cyan]{label}[/]", console=self.console, default="", show_default=False)
        )

    def call_ends(self, scenario: Scenario, call: CallRecord, scorecard: Scorecard, hidden: list[str]) -> None:
        texts = {p.id: fill(p.text, call.variables) for t in scenario.turns.values() for p in t.key_points}
        self.console.print()
        self.console.print(scorecard_panel(call.scorecard, call, hidden, texts))


def _point_text(turn: Turn, pid: str) -> str:
    for point in turn.key_points:
        if point.id == pid:
            return point.text
    return pid


def scorecard_panel(card: dict, call: CallRecord, hidden: list[str], point_texts: dict[str, str] | None = None):
    """The end-of-call scorecard as one rich renderable (also used by history views)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table

    passed = card.get("passed")
    verdict = "[bold green]通过[/]" if passed else "[bold red]未通过[/]"
    header = (
        f"总分 [bold]{fmt_score(card.get('score', 0))}[/]  {verdict}   {END_REASON_ZH.get(call.end_reason, call.end_reason)}"
        f"   用时 {call.call_s:.0f}/{call.time_limit_s} 秒"
    )
    parts: list = [header]
    categories = card.get("categories", {})
    if categories:
        table = Table(title="规范用语", show_edge=False)
        table.add_column("类别")
        table.add_column("做到/应做到", justify="right")
        for cid, row in categories.items():
            done = f"{row.get('hit', 0)}/{row.get('expected', 0)}"
            style = "green" if row.get("hit", 0) >= row.get("expected", 0) else "red"
            table.add_row(escape(category_title(cid)), f"[{style}]{done}[/]")
        parts.append(table)
    for f in card.get("forbidden", []):
        parts.append(
            f"[bold red]服务禁语「{escape(f.get('phrase', ''))}」× {f.get('count', 1)}[/]  应改说: 「{escape(f.get('suggest', ''))}」"
        )
    for m in card.get("must_not", []):
        parts.append(
            f"[bold red]不能说的话: {escape(m.get('text', ''))} × {m.get('count', 1)}[/]  应改说: 「{escape(m.get('suggest', ''))}」"
        )
    for c in card.get("contradictions", []):
        fixed = "  [dim](后来已更正)[/]" if c.get("corrected") else ""
        parts.append(
            f"[bold red]说错了事实: {escape(c.get('text', ''))} 说成了「{escape(c.get('said', ''))}」,"
            f" 正确的是「{escape(c.get('right', ''))}」[/]{fixed}"
        )
    order = card.get("work_order")
    if order:
        parts.append(work_order_table(order))
    points = card.get("key_points", {})
    texts = point_texts or {}
    if points.get("covered") or points.get("missed"):
        parts.append(
            f"要点: 问到 {len(points.get('covered', []))} 个"
            + (
                f", 漏掉: {escape(', '.join(texts.get(p, p) for p in points['missed']))}"
                if points.get("missed")
                else ""
            )
        )
    timing = Table(title="每句用时", show_edge=False)
    timing.add_column("轮次")
    timing.add_column("回答")
    timing.add_column("得分", justify="right")
    timing.add_column("反应(秒)", justify="right")
    for t in call.turns:
        if not t.counted and not t.asked_repeat:
            continue
        score = "请重说" if t.asked_repeat else fmt_score(t.score)
        timing.add_row(escape(t.turn_id), escape(t.reply[:30]) or "(空)", score, f"{t.response_s:.1f}")
    if call.turns:
        parts.append(timing)
    speech = speech_summary(call.turns)
    if speech:
        parts.append(speech)
    if hidden:
        parts.append("[cyan]隐藏信息揭晓:[/] " + "; ".join(hidden))
    reasons = [r for r in card.get("reasons", []) if r.get("why")]
    if reasons:  # how the score came about, on every scorecard (exam mode included)
        lines = [f"  {escape(reasons[0]['why'])}: {fmt_score(reasons[0]['delta'])}"]  # the mean the rest adjust
        lines += [f"  {escape(r['why'])}" + (f" ({r['delta']:+g})" if r.get("delta") else "") for r in reasons[1:]]
        parts.append("[bold]得分说明:[/]\n" + "\n".join(lines))
    practise = card.get("practise_next", [])
    if practise:
        parts.append("[bold]接下来练习:[/]\n" + "\n".join(f"  {i}. {escape(p)}" for i, p in enumerate(practise, 1)))
    return Panel(
        Group(*parts), title=f"评分卡 - {escape(call.scenario_title)}", border_style="green" if passed else "red"
    )


def work_order_table(order: dict):
    """The scored work order (``Scorecard.work_order`` JSON): each part with what was wanted and what was filled in."""
    from rich.table import Table

    from scoring.work_order import FIELD_TITLES, REPLY_WITHIN_TITLE, SUMMARY_TITLE, TYPE_TITLE

    def mark(ok: bool) -> str:
        return "[green]✓[/]" if ok else "[red]✗[/]"

    table = Table(title=f"工单 {fmt_score(order.get('score', 0))} 分", show_edge=False)
    for column in ("项目", "应填", "已填", ""):
        table.add_column(column)
    kind = order.get("type", {})
    table.add_row(
        TYPE_TITLE,
        escape(kind.get("want", "")),
        escape(kind.get("got", "") or "(空)"),
        mark(order.get("type_ok", False)),
    )
    for name, check in order.get("fields", {}).items():
        table.add_row(
            FIELD_TITLES.get(name, name), escape(check["want"]), escape(check["got"] or "(空)"), mark(check["ok"])
        )
    summary = order.get("summary", {})
    filled = order.get("filled", {})
    if summary.get("hit") or summary.get("missed"):
        missed = summary.get("missed", [])
        want = "漏了: " + "、".join(missed) if missed else "要点都写到了"
        table.add_row(SUMMARY_TITLE, escape(want), escape(filled.get("summary", "") or "(空)"), mark(not missed))
    within = order.get("reply_within")
    if within:
        table.add_row(REPLY_WITHIN_TITLE, escape(within["want"]), escape(within["got"] or "(空)"), mark(within["ok"]))
    return table


def speech_summary(turns: list[TurnRecord]) -> str:
    """Speaking rate and pauses over the spoken, scored turns of a call ("" for a typed call)."""
    from simulator.engines.speech_metrics import TARGET_CHARS_PER_MIN

    spoken = [t.speech for t in turns if t.counted and t.speech.get("chars_per_min")]
    if not spoken:
        return ""
    rate = sum(s["chars_per_min"] for s in spoken) / len(spoken)
    before = max(s.get("silence_before_s", 0.0) for s in spoken)
    pause = max(s.get("longest_pause_s", 0.0) for s in spoken)
    return f"说话: 平均语速 {rate:.0f} 字/分 (建议约 {TARGET_CHARS_PER_MIN}), 开口前最长停顿 {before:.1f} 秒, 句中最长停顿 {pause:.1f} 秒"


class RichListeningView:
    """What the trainee sees while answering into the microphone (``mic_source.ListeningView``): a clear listening
    sign, a live level meter and the words recognized so far."""

    def __init__(self, console: Console | None = None):
        from rich.console import Console

        self.console = console or Console(highlight=False)

    def ready(self, push_to_talk: bool) -> str:
        if push_to_talk:
            return self.console.input("[bold green]您的回答[/]: 按回车开始说话 (输入 /挂断 结束通话) ")
        self.console.print("[bold green]您的回答[/]: 请对着麦克风说话, 说完稍停即可 (Ctrl-C 结束练习)")
        return ""

    @contextlib.contextmanager
    def recording(self, reply: LiveReply, settings: ListenSettings) -> Iterator[Callable[[float], None]]:
        from rich.live import Live

        panel = listening_panel(-100.0, reply, settings)
        with Live(panel, console=self.console, refresh_per_second=12, transient=True) as live:
            yield lambda level_db: live.update(listening_panel(level_db, reply, settings))

    def recording_full(self) -> None:
        self.console.print("已达到最长录音时间, 请按回车继续。")

    def recognizing(self) -> None:
        self.console.print("[dim]识别中…[/]")


def level_bar(level_db: float, width: int = 20) -> str:
    """A level meter: -60 dBFS (empty) to 0 dBFS (full)."""
    filled = round((min(max(level_db, -60.0), 0.0) + 60.0) / 60.0 * width)
    return "█" * filled + "░" * (width - filled)


def listening_panel(level_db: float, reply: LiveReply, settings: ListenSettings) -> Any:
    """The listening sign, the level (green above the speech threshold), the time so far and what was heard."""
    from rich.text import Text

    hint = "说完请按回车" if settings.push_to_talk else "说完稍停即可"
    lines = Text()
    lines.append("● 正在聆听… ", style="bold red")
    lines.append(level_bar(level_db), style="green" if level_db > reply.threshold_db() else "dim")
    lines.append(f"  {reply.elapsed_s:4.1f} 秒  ({hint})", style="dim")
    if reply.partial_text:
        lines.append(f"\n已识别: {escape(reply.partial_text)}")
    if reply.too_noisy and not settings.push_to_talk:
        lines.append("\n环境太吵, 分不出您的声音: 请换个安静的地方, 或加 --push-to-talk (按回车开始、再按回车结束)",
                     style="yellow")  # fmt: skip
    return lines
