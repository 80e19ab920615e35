"""History commands: history, history show, progress, team, review, report.

Every command takes ``--db PATH`` (default: ``$HOTLINE_TRAINER_DB`` or the user's data folder).
Nothing heavy at module level: sqlite3, rich and the report load inside the handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.cli.output import add_db_option, add_output_options, console, print_csv, print_json
from simulator.history import TEAM_SORTS

STATUSES = ("complete", "incomplete", "in_progress")


def _anonymize_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--anonymize", action="store_true", help="导出时用固定的化名代替姓名 (如 学员-3F2A)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="通话记录; history show CALL_ID 查看整通电话")
    p.add_argument("--trainee", metavar="NAME", help="只看这位学员")
    p.add_argument("--scenario", metavar="ID", help="只看这个场景")
    p.add_argument("--mentor", metavar="NAME", help="只看这位导师带的通话")
    p.add_argument("--since", metavar="DATE", help="从这天起 (YYYY-MM-DD, 本地时间; 或 ISO 时间)")
    p.add_argument("--until", metavar="DATE", help="到这天之前")
    p.add_argument("--status", choices=STATUSES, help="按状态: complete 完成, incomplete 未完成, in_progress 进行中")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="最多显示 N 通, 最新在前 (默认 50; 0 = 全部)")
    add_db_option(p)
    _anonymize_option(p)
    add_output_options(p, csv_too=True)
    p.set_defaults(handler=cmd_history)
    hsub = p.add_subparsers(dest="history_command", metavar="show")
    show = hsub.add_parser("show", help="一通电话的全部内容: 每轮的回复、反馈、改分和评语")
    show.add_argument("call_id", metavar="CALL_ID", help="通话编号 (可只写前几位, 至少 4 位)")
    add_db_option(show)
    _anonymize_option(show)
    add_output_options(show)
    show.set_defaults(handler=cmd_history_show)

    p = sub.add_parser("progress", help="一位学员的进步: 成绩走势、常漏类别、禁语、学习路径上的位置、接下来练什么")
    p.add_argument("trainee", metavar="NAME", help="学员姓名")
    p.add_argument("--curriculum", default="new-agent", metavar="ID",
                   help="学习路径 (curricula/ID.yaml, 默认 new-agent; none 不显示)")  # fmt: skip
    add_db_option(p)
    _anonymize_option(p)
    add_output_options(p)
    p.set_defaults(handler=cmd_progress)

    p = sub.add_parser("team", help="全部学员并排比较: 通话数、最新/最好成绩、趋势、通过率、最弱类别")
    p.add_argument("--sort", choices=TEAM_SORTS, default="name", metavar="COLUMN",
                   help=f"排序列: {', '.join(TEAM_SORTS)} (数字列从高到低, weakest 最弱在前)")  # fmt: skip
    p.add_argument("--reverse", action="store_true", help="倒过来排")
    add_db_option(p)
    _anonymize_option(p)
    add_output_options(p, csv_too=True)
    p.set_defaults(handler=cmd_team)

    p = sub.add_parser("review", help="导师点评: 给某一轮改分 (必须写理由, 原分保留) 或写评语")
    p.add_argument("call_id", metavar="CALL_ID", help="通话编号 (可只写前几位)")
    p.add_argument("--turn", type=int, metavar="N", help="第几轮 (history show 里的 #N)")
    p.add_argument("--score", type=float, metavar="S", help="新的分数 0-100 (需要 --turn 和 --reason)")
    p.add_argument("--reason", metavar="TEXT", help="改分理由")
    p.add_argument("--comment", metavar="TEXT", help="评语 (有 --turn 时记在那一轮, 否则记在整通电话)")
    p.add_argument("--mentor", default="", metavar="NAME", help="导师姓名")
    add_db_option(p)
    add_output_options(p)
    p.set_defaults(handler=cmd_review)

    p = sub.add_parser("report", help="生成独立的 HTML 报告 (无需服务器和网络): 成绩走势、类别热力图、禁语统计")
    p.add_argument("--html", type=Path, required=True, metavar="FILE", help="写到这个 HTML 文件")
    p.add_argument("--trainee", metavar="NAME", help="只做这位学员的报告 (默认全部学员)")
    p.add_argument("--force", action="store_true", help="覆盖一个不是本工具生成的已有文件")
    add_db_option(p)
    _anonymize_option(p)
    add_output_options(p)
    p.set_defaults(handler=cmd_report)


def _store(args: argparse.Namespace):
    from simulator.history.store import open_store

    return open_store(getattr(args, "db", None), create=False)  # reading and reviewing never make a database


def _names(store, args: argparse.Namespace):
    from simulator.history.reports import pseudonymizer

    return pseudonymizer(store, getattr(args, "anonymize", False))


def _check_date(value: str | None) -> None:
    if value:
        from simulator.history.rows import utc_iso

        utc_iso(value)  # raises a TrainerError that says which format to use


def cmd_history(args: argparse.Namespace) -> int:
    from simulator.history.reports import HISTORY_COLUMNS, history_rows

    _check_date(args.since)
    _check_date(args.until)
    if args.limit < 0:
        from core.errors import TrainerError

        raise TrainerError("--limit 不能是负数 - 用 0 表示全部")
    with _store(args) as store:
        rows = history_rows(
            store,
            _names(store, args),
            trainee=args.trainee,
            scenario=args.scenario,
            mentor=args.mentor,
            since=args.since,
            until=args.until,
            status=args.status,
            limit=args.limit or None,
        )
    if args.json:
        print_json(rows)
    elif args.csv:
        print_csv(HISTORY_COLUMNS, [[r[c] for c in HISTORY_COLUMNS] for r in rows])
    else:
        from simulator.history.terminal import render_history

        render_history(rows, console())
    return 0


def cmd_history_show(args: argparse.Namespace) -> int:
    from simulator.history.reports import call_detail

    with _store(args) as store:
        detail = call_detail(store, args.call_id, _names(store, args))
    if args.json:
        print_json(detail)
    else:
        from simulator.history.terminal import render_call

        render_call(detail, console())
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from simulator.history.reports import progress
    from simulator.history.terminal import TREND_POINTS

    library = _library()
    titles = {s.id: s.title for s in library} if library is not None else None
    curriculum = None
    if args.curriculum != "none":
        from simulator.curriculum import load_curriculum

        curriculum = load_curriculum(args.curriculum, known_scenarios=titles)
    categories = {s.id: tuple(sorted({c for t in s.turns.values() for c in t.expect})) for s in library or []}
    with _store(args) as store:
        result = progress(store, args.trainee, _names(store, args), library=titles, curriculum=curriculum,
                          scenario_categories=categories, points_last=None if args.json else TREND_POINTS)  # fmt: skip
    if args.json:
        print_json(result.to_json())
    else:
        from simulator.history.terminal import render_progress

        render_progress(result, console())
    return 0


def _library():
    """The scenario library, so scenarios never tried count as not passed yet; None if it cannot be read."""
    from core.errors import TrainerError

    try:
        from simulator.library import load_library

        return load_library()
    except (TrainerError, OSError, ImportError):
        return None  # progress still reports the scenarios tried and not passed


def _library_titles() -> dict[str, str] | None:
    library = _library()
    return {s.id: s.title for s in library} if library is not None else None


def cmd_team(args: argparse.Namespace) -> int:
    from simulator.history.reports import TEAM_COLUMNS, team

    with _store(args) as store:
        stats = team(store, args.sort, args.reverse, _names(store, args))
    if args.json:
        print_json([s.to_json() for s in stats])
    elif args.csv:
        print_csv(TEAM_COLUMNS, [[getattr(s, c) for c in TEAM_COLUMNS] for s in stats])
    else:
        from simulator.history.terminal import render_team

        render_team(stats, console(), args.sort)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from core.errors import TrainerError

    if args.score is not None and not (args.reason or "").strip():
        raise TrainerError("改分必须写明理由 - 请加上 --reason 理由 (原分会保留)")
    if args.score is not None and args.turn is None:
        raise TrainerError("改分要指明第几轮 - 请加上 --turn N (history show 里的 #N)")
    if args.reason and args.score is None:
        raise TrainerError("--reason 只用于改分 - 请同时给出 --turn N --score S, 或者用 --comment 写评语")
    if args.score is None and args.comment is None:
        raise TrainerError("没有要记录的内容 - 用 --turn N --score S --reason 理由 改分, 或 --comment 评语")
    with _store(args) as store:
        call_id = store.resolve_call_id(args.call_id)
        index = None
        if args.turn is not None:
            if args.turn < 1:
                raise TrainerError(f"没有第 {args.turn} 轮 - 轮次从 1 开始, 见 history show 里的 #N")
            index = args.turn - 1
        recorded = []
        if args.score is not None:
            recorded.append(store.add_override(call_id, index, args.score, args.reason, args.mentor))
        if args.comment is not None:
            recorded.append(store.add_comment(call_id, args.comment, args.mentor, index))
        row = store.get_call_row(call_id)
    if args.json:
        print_json(
            {
                "call_id": call_id,
                "score": row.score,
                "reviewed_score": row.reviewed_score,
                "reviews": [r.to_json() for r in recorded],
            }
        )
        return 0
    from rich.text import Text

    out = console()
    for r in recorded:
        if r.kind == "override":
            out.print(Text(f"已改分: 通话 {call_id} 第 {r.turn_index + 1} 轮 {r.original_score:g} → {r.new_score:g}"
                           f" (理由: {r.reason}; 原分保留)"))  # fmt: skip
        else:
            where = f"第 {r.turn_index + 1} 轮" if r.turn_index is not None else "整通电话"
            out.print(Text(f"已记录评语: 通话 {call_id} {where}: {r.text}"))
    if row.reviewed_score is not None:
        out.print(Text(f"通话总分: 原 {row.score:g}, 改分后 {row.reviewed_score:g}"))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from simulator.history.html_report import write_report

    with _store(args) as store:
        library = _library_titles() if args.trainee else None
        summary = write_report(
            store, args.html, trainee=args.trainee, names=_names(store, args), library=library, force=args.force
        )
    if args.json:
        print_json(summary)
    else:
        console().print(f"已写入报告 {args.html} ({summary['bytes'] // 1024} KB, {summary['trainees']} 位学员)")
    return 0
