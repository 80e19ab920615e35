"""Scenario commands: list, show, validate, new, render, test."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.cli.output import add_output_options, console, print_error, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="列出场景库中的全部场景")
    add_output_options(p)
    p.add_argument("--dir", type=Path, help="场景文件夹 (默认 scenarios/)")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", help="显示一个场景: 简介、来电人、每个轮次和它的分支")
    p.add_argument("scenario", metavar="SCENARIO", help="场景 id 或 YAML 文件路径")
    p.add_argument("--graph", choices=["mermaid", "dot"], help="输出轮次图: Mermaid 或 Graphviz DOT, 边上写着分支条件")
    add_output_options(p)
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("validate", help="检查场景文件和规范用语, 一次列出全部问题")
    p.add_argument("paths", nargs="*", metavar="PATH", help="文件或文件夹 (默认 scenarios/ 和规范用语)")
    p.add_argument("--guide", type=Path, help="规范用语文件 (默认 scoring/guide.yaml)")
    p.add_argument(
        "--strict", action="store_true", help="也检查警告: 示例太少、没用到的变量、走不到的分支等; 有警告也算失败"
    )
    add_output_options(p)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("new", help="生成一个可以直接通过检查的场景模板")
    p.add_argument("id", metavar="ID", help="新场景的 id (kebab-case, 例如 hearing-date-change)")
    p.add_argument("--dir", type=Path, help="写到哪个文件夹 (默认 scenarios/)")
    p.add_argument("--force", action="store_true", help="覆盖已有文件")
    p.set_defaults(handler=cmd_new)

    p = sub.add_parser("render", help="预先合成一个场景的全部来电人语音 (WAV 缓存)")
    p.add_argument("scenario", metavar="SCENARIO", nargs="+", help="场景 id 或 YAML 文件路径")
    p.add_argument("--voice", default="auto", choices=["auto", "espeak", "neural"], help="语音引擎")
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser("test", help="用场景的 examples 模拟通话, 检查得分是否在作者预期范围内")
    p.add_argument("scenarios", metavar="SCENARIO", nargs="*", help="场景 id 或路径 (默认全部)")
    p.add_argument("--coverage", action="store_true", help="再列出每个场景的示例走到了多少轮次和分支, 以及没走到的")
    p.add_argument("--min-coverage", type=float, metavar="N", help="任何场景的示例走到的轮次少于 N%% 时判为失败")
    add_output_options(p)
    p.set_defaults(handler=cmd_test)


def cmd_list(args: argparse.Namespace) -> int:
    from simulator.library import load_library

    scenarios = load_library(args.dir)
    rows = [
        {
            "id": s.id,
            "title": s.title,
            "service": s.service,
            "difficulty": s.difficulty,
            "time_limit_s": s.time_limit_s,
            "mood": s.caller.mood,
            "caller": s.caller.name,
            "turns": len(s.turns),
            "examples": len(s.examples),
            "path": s.source,
        }
        for s in scenarios
    ]
    if args.json:
        print_json(rows)
        return 0
    from rich.table import Table

    table = Table(title=f"场景库 ({len(rows)} 个)")
    width = max((len(r["id"]) for r in rows), default=2)
    table.add_column("id", no_wrap=True, min_width=width)  # the one thing a trainee types: never cut
    for col in ("标题", "业务", "难度", "时限", "来电人", "情绪", "轮次"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["id"], r["title"], r["service"], "★" * r["difficulty"], f"{r['time_limit_s']}s",
            r["caller"], _MOOD_ZH.get(r["mood"], r["mood"]), str(r["turns"]),
        )  # fmt: skip
    console().print(table)
    return 0


_MOOD_ZH = {"calm": "平静", "anxious": "焦急", "distressed": "痛苦", "angry": "愤怒"}


def cmd_show(args: argparse.Namespace) -> int:
    from simulator.library import find_scenario
    from simulator.scenario import END

    s = find_scenario(args.scenario)
    if args.json:
        from dataclasses import asdict

        print_json(asdict(s))
        return 0
    if args.graph:
        from simulator.turn_graph import graph_text

        print(graph_text(s, args.graph), end="")
        return 0
    from rich.markup import escape
    from rich.panel import Panel

    from scoring.guide import category_title

    out = console()
    out.print(
        Panel(
            f"[bold]{escape(s.title)}[/]  ({s.id})\n业务: {escape(s.service)}   难度: {'★' * s.difficulty}"
            f"   时限: {s.time_limit_s} 秒\n\n{escape(s.brief)}",
            title="场景",
        )
    )
    out.print(
        f"来电人: [bold]{escape(s.caller.name)}[/] - {escape(s.caller.persona)} "
        f"({_MOOD_ZH.get(s.caller.mood, s.caller.mood)})"
    )
    if s.variables:
        out.print("随机变量: " + escape("; ".join(f"{k} = {' / '.join(v)}" for k, v in s.variables.items())))
    if s.hidden:
        out.print("隐藏信息 (通话结束后揭晓): " + escape("; ".join(s.hidden)))
    # each turn once, start first, then in the order the graph reaches them: shared turns are not repeated
    order = [s.start]
    for tid in order:
        for branch in s.turns[tid].next:
            if branch.goto != END and branch.goto not in order:
                order.append(branch.goto)
    order += [tid for tid in s.turns if tid not in order]
    from simulator.turn_graph import condition_text

    for tid in order:
        turn = s.turns[tid]
        out.print(f"\n[bold]{tid}[/]" + ("  (开始)" if tid == s.start else ""))
        out.print(f"  [cyan]来电人:[/] {escape(turn.say)}")
        if turn.expect:
            out.print(f"  [green]应做到:[/] {escape('、'.join(category_title(c) for c in turn.expect))}")
        for point in turn.key_points:
            out.print(f"  [green]要点:[/] {escape(point.text)}")
        for branch in turn.next:
            target = "结束" if branch.goto == END else branch.goto
            out.print(f"  [yellow]{escape(condition_text(branch.when, s, turn))}[/] → [bold]{target}[/]")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    import sys
    from dataclasses import asdict

    from simulator.library import LIBRARY_DIR
    from simulator.validate import validate_paths

    paths = args.paths or [LIBRARY_DIR]
    for p in paths:
        if not Path(p).exists():
            print(f"{p}:1: 文件或文件夹不存在 - 检查路径", file=sys.stderr)
            return 1
    scenarios, problems = validate_paths(paths, guide=args.guide)
    warnings = []
    if args.strict:
        from simulator.lint import scenario_warnings

        warnings = [w for s in scenarios for w in scenario_warnings(s)]
    if args.json:
        print_json(
            [{**asdict(p), "level": "problem"} for p in problems]
            + [{**asdict(w), "level": "warning"} for w in warnings]
        )
    else:
        for problem in problems + warnings:
            print(problem)
    if problems or warnings:
        tail = f", {len(warnings)} 个警告 (--strict)" if warnings else ""
        print(f"发现 {len(problems)} 个问题{tail}。", file=sys.stderr)
        return 1
    if not args.json:
        print(f"全部通过: {len(scenarios)} 个场景, 规范用语 1 份。")
    return 0


TEMPLATE = """\
# 新场景模板: 按 docs/scenario-format.md 修改每一项, 然后运行 run_training.py validate 和
# run_training.py test --coverage (示例要走到至少 80% 的轮次)
id: {id}
title: 请填写场景标题
service: 诉讼咨询
difficulty: 1
time_limit_s: 180
brief: 来电人想咨询一件事。请用规范用语接听，问清案号，并给出答复。
hidden: ["案号是{{case_no}}"]
caller:
  name: 李先生
  persona: 四十多岁，说话平和
  mood: calm
  voice: {{variant: m3, rate: 170, pitch: 45, volume: 0.9}}
variables:
  # 要念出来的数字写成中文数字: 阿拉伯数字的号码会被语音合成念成“一千零一”
  case_no: ["（二零二四）沪零一零五民初一零零一号", "（二零二四）沪零一零五民初二零零二号"]
start: opening
turns:
  opening:
    say: 喂，您好，我想咨询一下我的案子。
    expect: [greeting, ask_case_info]
    key_points:
      - {{id: ask_case_no, text: 询问案号, any: [案号, 哪个案子, "案(件|子)(的|)(编号|号码)"]}}
    hint: 先问好，再请来电人报案号。
    next:
      - {{if: {{forbidden: true}}, goto: upset}}
      - {{if: {{point: ask_case_no}}, goto: details}}
      - {{goto: confused}}
  confused:
    say: 您要我说什么？我没听明白。
    expect: [ask_case_info]
    next:
      - {{if: {{hit: ask_case_info}}, goto: details}}
      - {{goto: upset}}
  upset:
    say: 你这是什么态度？我要投诉！
    expect: [empathy]
    next:
      - {{if: {{hit: empathy}}, goto: details}}
      - {{goto: end}}
  details:
    say: 案号是{{case_no}}。
    expect: [commitment]
    next: [{{goto: thanks}}]
  thanks:
    say: 好的，谢谢您。
    expect: [closing]
    next: [{{goto: end}}]
examples:
  - name: 规范应答
    replies: ["您好，请讲。请问您的案号是多少？", "好的，我会转告法官，请您放心。", "不用谢，感谢您的来电。"]
    score: [85, 100]
    path: [opening, details, thanks]
  - name: 漏问案号
    replies: ["您好，请讲。", "请您报一下案号。", "好的，我会转告法官。", "不用谢。"]
    score: [50, 95]
    path: [opening, confused, details, thanks]
  - name: 使用禁语
    replies: ["不知道，你自己去查。", "急什么。"]
    score: [0, 40]
    passed: false
    path: [opening, upset]
"""


def cmd_new(args: argparse.Namespace) -> int:
    from core.errors import TrainerError
    from simulator.library import LIBRARY_DIR
    from simulator.validate import KEBAB

    if not KEBAB.match(args.id):
        raise TrainerError(f"id {args.id!r} 不是 kebab-case - 只用小写字母、数字和连字符, 例如 hearing-date-change")
    folder = args.dir or LIBRARY_DIR
    target = folder / f"{args.id}.yaml"
    if target.exists() and not args.force:
        raise TrainerError(f"{target} 已存在 - 换一个 id, 或加 --force 覆盖")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(TEMPLATE.format(id=args.id), encoding="utf-8")
    print(f"已创建 {target}。修改后运行: python run_training.py validate {target}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    import time

    from simulator.engines.speakers import choose_speaker
    from simulator.library import find_scenario
    from simulator.session import caller_lines

    speaker = choose_speaker(args.voice)
    total = 0
    started = time.perf_counter()
    for ref in args.scenario:
        scenario = find_scenario(ref)
        lines = caller_lines(scenario)
        for text in lines:
            speaker.render(text, scenario.caller.voice)
        total += len(lines)
        print(f"{scenario.id}: {len(lines)} 句")
    print(f"共合成 {total} 句, 用时 {time.perf_counter() - started:.1f} 秒 (已缓存的句子不再合成)。")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from simulator.library import find_scenario, load_library
    from simulator.session import play_examples

    scenarios = [find_scenario(r) for r in args.scenarios] if args.scenarios else load_library()
    results = [r for s in scenarios for r in play_examples(s)]
    failures = [r for r in results if not r["ok"]]
    without = [s.id for s in scenarios if not s.examples]
    coverage = {r["scenario"]: r["coverage"] for r in results}
    low = (
        [sid for sid, c in coverage.items() if c["turn_share"] * 100 < args.min_coverage]
        if args.min_coverage is not None
        else []
    )
    if args.json:
        print_json(results)
    else:
        from rich.table import Table

        table = Table(title="场景示例测试")
        table.add_column("场景", no_wrap=True, min_width=max((len(r["scenario"]) for r in results), default=2))
        for col in ("示例", "得分", "预期", "路径", "结果"):
            table.add_column(col, overflow="fold")
        for r in results:
            mark = "[green]通过[/]" if r["ok"] else f"[red]失败[/] {r['why']}"
            table.add_row(
                r["scenario"],
                r["example"],
                f"{r['score']:.0f}",
                f"{r['expected'][0]:g}-{r['expected'][1]:g}",
                " → ".join(r["path"]),
                mark,
            )
        console().print(table)
        if args.coverage or low:
            console().print(_coverage_table(coverage))
        print(f"通过 {len(results) - len(failures)} 个示例, 失败 {len(failures)} 个")
    for sid in without:
        print_error(
            f"场景 {sid} 没有示例 - 至少写上规范应答、常见错误、禁语三条 examples (docs/scenario-format.md 第 8 节)"
        )
    for sid in low:
        share = coverage[sid]["turn_share"] * 100
        print_error(
            f"场景 {sid} 的示例只走到 {share:.0f}% 的轮次, 低于 {args.min_coverage:g}% - 为没走到的轮次补示例 (test --coverage 列出)"
        )
    return 1 if failures or without or low or not results else 0


def _coverage_table(coverage: dict[str, dict]):
    from rich.table import Table

    table = Table(title="示例覆盖")
    table.add_column("场景", no_wrap=True, min_width=max((len(sid) for sid in coverage), default=2))
    for col in ("轮次", "分支", "没走到的轮次"):
        table.add_column(col, overflow="fold")
    for sid, c in coverage.items():
        (tr, tt), (br, bt) = c["turns"], c["branches"]
        table.add_row(sid, f"{tr}/{tt}", f"{br}/{bt}", "、".join(c["unreached_turns"]) or "—")
    return table
