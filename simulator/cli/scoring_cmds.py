"""``score-reply``: judge one reply (or a JSONL file of replies) against the phrasing guide."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.errors import TrainerError
from simulator.cli.output import add_output_options, console, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score-reply",
        help="按规范用语分析一条回复(命中的类别、禁语、建议)",
        description="按规范用语分析一条座席回复:命中的类别及原话位置、禁语及应改说法、缺少类别的标准说法。",
    )
    parser.add_argument("text", nargs="?", metavar="TEXT", help="回复文本;写 - 从标准输入读取")
    parser.add_argument(
        "--expect",
        nargs="+",
        metavar="CAT",
        default=[],
        help="本轮应做到的类别,如 greeting ask_case_info(写在 TEXT 之后)",
    )
    parser.add_argument("--guide", metavar="PATH", help="规范用语文件(默认 scoring/guide.yaml)")
    parser.add_argument(
        "--batch", metavar="FILE.jsonl", help='逐行读取 {"id": ..., "text": ...},每行输出一个 JSON 结果'
    )
    parser.add_argument("--scenario", metavar="ID", help="按这个场景的某一轮来评: 要点、不能说的话、会走哪个分支")
    parser.add_argument("--turn", metavar="T", help="和 --scenario 一起用: 轮次 id (show 里列出的)")
    parser.add_argument("--seed", type=int, default=0, help="和 --scenario 一起用: 抽变量的种子 (默认 0)")
    add_output_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from scoring.scorer import Scorer

    scorer = Scorer.load(args.guide) if args.guide else Scorer.default()
    _check_categories(args.expect, scorer)
    if args.batch:
        if args.text is not None:
            raise TrainerError("--batch 与 TEXT 只能二选一 - 去掉其中一个")
        return _batch(scorer, Path(args.batch), args.expect)
    if args.text is None:
        raise TrainerError("缺少回复文本 - 写成 score-reply '您好,请讲',或用 --batch FILE.jsonl")
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.scenario or args.turn:
        return _at_turn(scorer, args, text)
    result = reply_json(scorer, text, args.expect)
    if args.json:
        print_json(result)
    else:
        show(scorer, text, result)
    return 0


def _at_turn(scorer, args: argparse.Namespace, text: str) -> int:
    """The reply judged as at one turn of a scenario: its categories, key points with this draw's values, the
    scenario's must-not rules, and the branch the call would take."""
    from core.suggest import did_you_mean
    from simulator.library import find_scenario
    from simulator.session import judge_reply

    if not (args.scenario and args.turn):
        raise TrainerError("--scenario 和 --turn 要一起用 - 例如 --scenario wrong-courtroom --turn opening")
    scenario = find_scenario(args.scenario, guide=scorer.guide)
    if args.turn not in scenario.turns:
        raise TrainerError(
            f"场景 {scenario.id} 没有轮次 {args.turn!r} - {did_you_mean(args.turn, scenario.turns, '轮次')}"
        )
    turn = scenario.turns[args.turn]
    analysis, score, goto = judge_reply(scenario, args.turn, text, scorer, seed=args.seed)
    texts = {p.id: p.text for p in turn.key_points}
    hit = [p.id for p in analysis.points]
    result = {
        "scenario": scenario.id,
        "turn": args.turn,
        "text": text,
        **analysis.to_json(),
        "score": score.score if analysis.judgeable else None,
        "points_hit": hit,
        "points_missed": [p.id for p in turn.key_points if p.id not in hit],
        "next": goto,
    }
    if args.json:
        print_json(result)
        return 0
    from rich.markup import escape

    out = console()
    # the turn's own score and reasons: key points, wrong facts and must-not rules count too
    show(scorer, text, reply_json(scorer, text, list(turn.expect), (analysis, score)), out)
    for pid in result["points_hit"]:
        out.print(f"[green]✓ 要点 {escape(texts.get(pid, pid))}[/]")
    for pid in result["points_missed"]:
        out.print(f"[red]✗ 要点 {escape(texts.get(pid, pid))}[/]")
    for c in analysis.contradictions:
        out.print(f"[bold red]说错了事实: 说成「{escape(c.said)}」, 正确的是「{escape(c.right)}」[/]")
    for m in analysis.must_not:
        out.print(f"[bold red]不能说的话: {escape(m.text)}[/]  应改说: 「{escape(m.suggest)}」")
    out.print(f"会走到: [bold]{'结束' if goto == 'end' else goto}[/]")
    return 0


def reply_json(scorer, text: str, expect: list[str], judged=None) -> dict:
    """ReplyAnalysis.to_json() plus the text, why it could not be judged, and the turn score. ``judged``: an
    (analysis, turn score) already made, e.g. at a scenario's turn, so the reply is not analysed twice."""
    analysis, turn = judged or (scorer.analyze(text, expect), None)
    out = {"text": text, **analysis.to_json(), "why_not_judgeable": analysis.why_not_judgeable}
    if analysis.judgeable:
        turn = turn or scorer.score_turn(analysis, expect)
        out["score"] = turn.score
        out["critical"] = turn.critical
        out["reasons"] = [{"delta": r.delta, "why": r.why} for r in turn.reasons]
    else:
        out["score"] = None
    return out


def _check_categories(expect: list[str], scorer) -> None:
    unknown = [c for c in expect if c not in scorer.guide.categories]
    if unknown:
        known = " ".join(scorer.guide.categories)
        raise TrainerError(f"未知的类别 {unknown[0]!r} - 可选: {known}(回复文本要写在 --expect 之前)")


def _batch(scorer, path: Path, expect: list[str]) -> int:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise TrainerError(f"无法读取 {path}: {exc.strerror} - 检查文件路径") from exc
    except UnicodeDecodeError as exc:
        raise TrainerError(f"{path} 不是 UTF-8 文本 - 请另存为 UTF-8") from exc
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainerError(
                f'{path}:{number}: 不是有效的 JSON({exc.msg}) - 每行写成 {{"id": ..., "text": ...}}'
            ) from exc
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise TrainerError(f'{path}:{number}: 缺少文本字段 "text" - 每行写成 {{"id": ..., "text": ...}}')
        line_expect = item.get("expect", expect)
        if not isinstance(line_expect, list) or not all(isinstance(c, str) for c in line_expect):
            raise TrainerError(f'{path}:{number}: "expect" 应是类别名的列表 - 例如 "expect": ["greeting"]')
        try:
            _check_categories(line_expect, scorer)
        except TrainerError as exc:
            raise TrainerError(f"{path}:{number}: {exc}") from exc
        items.append((item.get("id"), item["text"], line_expect))
    out = sys.stdout
    for item_id, text, line_expect in items:
        result = reply_json(scorer, text, line_expect)
        out.write(json.dumps({"id": item_id, **result}, ensure_ascii=False) + "\n")
    return 0


def show(scorer, text: str, result: dict, con=None) -> None:
    """A rich table; the matched words are highlighted in the reply (green: guide phrase, red: forbidden)."""
    from rich.table import Table
    from rich.text import Text

    con = con or console()
    if not result["judgeable"]:
        con.print(f"[yellow]无法评分:{result['why_not_judgeable']},请再说一遍。[/yellow]")
        return
    reply = Text(text)
    for m in result["matches"]:
        reply.stylize("bold green", *m["span"])
    for f in result["forbidden"]:
        reply.stylize("bold white on red", *f["span"])
    con.print(Text("回复: ") + reply)
    titles = {cid: c.title for cid, c in scorer.guide.categories.items()}
    table = Table(show_header=True, header_style="bold")
    table.add_column("结果")
    table.add_column("类别/禁语")
    table.add_column("回复中的原话")
    table.add_column("规范用语 / 应改说", overflow="fold")
    for m in result["matches"]:
        start, end = m["span"]
        by_model = m.get("source") == "model"  # no guide phrase matched: the reply model judged it
        table.add_row(
            "[green]✓ 命中[/green]" + ("(模型)" if by_model else ""),
            titles.get(m["category"], m["category"]),
            text[start:end],
            ("意思相近,可参考:" if by_model else "") + m["guide_phrase"],
        )
    for f in result["forbidden"]:
        start, end = f["span"]
        mark = "[bold red]✗ 严重禁语[/bold red]" if f["severity"] == "critical" else "[red]✗ 禁语[/red]"
        mark += "(模型)" if f.get("source") == "model" else ""
        table.add_row(mark, f["phrase"], text[start:end], f["suggest"])
    for s in result["suggestions"]:
        table.add_row("[yellow]… 缺少[/yellow]", titles.get(s["category"], s["category"]), "", s["phrase"])
    if table.row_count:
        con.print(table)
    else:
        con.print("没有命中任何规范用语,也没有禁语。")
    if result.get("score") is not None:
        con.print(f"本轮得分: [bold]{result['score']:g}[/bold]")
