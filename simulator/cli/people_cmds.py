"""People and work: users add/list/passwd, assign, todo, audit.

A supervisor registers the centre's people (``users add 小王 --role trainee --mentor 李老师 --group 2026春``), sets
work (``assign wrong-courtroom --to 小王,小李 --due 2026-12-10``); a trainee sees it with ``todo 小王`` and practises
it with ``practice --assignment ID``. Every change is in the audit trail (``audit``).
"""

from __future__ import annotations

import argparse
import sys

from simulator.cli.output import add_db_option, add_output_options, console, print_csv, print_json

ROLE_CHOICES = ("trainee", "mentor", "supervisor")


def _by_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", metavar="NAME", help="操作人 (记入审计; 默认 $HOTLINE_TRAINER_USER 或登录名)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="培训中心的人员: 学员、导师、主管 (users add / list / passwd)")
    usub = p.add_subparsers(dest="users_command", metavar="add|list|passwd")
    a = usub.add_parser("add", help="添加一个人: 姓名唯一, 角色 trainee 学员 / mentor 导师 / supervisor 主管")
    a.add_argument("name", metavar="NAME", help="姓名 (唯一)")
    a.add_argument("--role", required=True, choices=ROLE_CHOICES, help="角色")
    a.add_argument("--mentor", default="", metavar="NAME", help="学员的带教导师 (导师可以看到自己学员的通话)")
    a.add_argument("--group", default="", metavar="GROUP", help="学员所在的批次, 如 2026春 (assign --group 用)")
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读密码 (网页控制台登录用)")
    _by_option(a)
    add_db_option(a)
    add_output_options(a)
    a.set_defaults(handler=cmd_users_add)
    lst = usub.add_parser("list", help="列出人员")
    lst.add_argument("--role", choices=ROLE_CHOICES, help="只列这个角色")
    add_db_option(lst)
    add_output_options(lst, csv_too=True)
    lst.set_defaults(handler=cmd_users_list)
    pw = usub.add_parser("passwd", help="设置或更换密码 (从标准输入读)")
    pw.add_argument("name", metavar="NAME")
    _by_option(pw)
    add_db_option(pw)
    add_output_options(pw)
    pw.set_defaults(handler=cmd_users_passwd)
    p.set_defaults(handler=lambda args: p.print_help() or 0)

    p = sub.add_parser("assign", help="布置作业: 场景、学员、截止日期, 练习或考试, 最低分")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="场景 id (可以几个)")
    p.add_argument("--to", default="", metavar="NAMES", help="学员姓名, 用逗号分隔: 小王,小李")
    p.add_argument("--group", default="", metavar="GROUP", help="布置给这个批次的全部学员 (users add --group)")
    p.add_argument("--due", required=True, metavar="YYYY-MM-DD", help="截止日期 (当天结束前)")
    p.add_argument("--exam", action="store_true", help="考试: 只有考试模式的通话才算")
    p.add_argument("--min-score", type=float, metavar="N", help="达到多少分才算完成 (默认及格线)")
    _by_option(p)
    add_db_option(p)
    add_output_options(p)
    p.set_defaults(handler=cmd_assign)

    p = sub.add_parser("todo", help="一位学员的作业: 截止日期、已完成、已逾期、最好成绩")
    p.add_argument("trainee", metavar="NAME", help="学员姓名")
    add_db_option(p)
    add_output_options(p, csv_too=True)
    p.set_defaults(handler=cmd_todo)

    p = sub.add_parser("audit", help="审计记录: 谁在什么时候添加了人员、布置了作业、改了分、写了评语、导入了记录")
    p.add_argument("--actor", metavar="NAME", help="只看这个人做的")
    p.add_argument("--since", metavar="DATE", help="从这天起 (YYYY-MM-DD)")
    p.add_argument("--limit", type=int, default=200, metavar="N", help="最多 N 条, 最新在前 (默认 200)")
    add_db_option(p)
    add_output_options(p, csv_too=True)
    p.set_defaults(handler=cmd_audit)


def _store(args: argparse.Namespace, *, create: bool = True):
    from simulator.history.store import open_store

    return open_store(getattr(args, "db", None), create=create)


def _read_password(name: str) -> str:
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass(f"{name} 的密码: ")
        if getpass.getpass("再输入一遍: ") != first:
            from core.errors import TrainerError

            raise TrainerError("两次输入的密码不一样 - 请重新运行")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users_add(args: argparse.Namespace) -> int:
    from core.errors import TrainerError
    from simulator.people import check_name, current_actor, hash_password

    name = check_name(args.name)
    password_hash = hash_password(_read_password(name)) if args.password_stdin else None
    with _store(args) as store:
        mentor = check_name(args.mentor) if args.mentor else ""
        if mentor:
            known = store.user(mentor)
            if known is None or known.role == "trainee":
                raise TrainerError(f"{mentor} 不是已登记的导师或主管 - 先 users add {mentor} --role mentor")
        user = store.add_user(
            name, args.role, mentor=mentor, cohort=args.group.strip(), password_hash=password_hash,
            actor=current_actor(args.by),
        )  # fmt: skip
    if args.json:
        print_json(user.to_json())
    else:
        from simulator.people import ROLES

        extra = "".join(f", {k} {v}" for k, v in (("导师", user.mentor), ("批次", user.cohort)) if v)
        print(f"已添加{ROLES[user.role]} {user.name}{extra}{', 可登录网页控制台' if user.has_password else ''}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from simulator.people import ROLES

    with _store(args, create=False) as store:
        users = store.users(args.role)
    rows = [u.to_json() for u in users]
    columns = ("name", "role", "mentor", "cohort", "has_password", "created_at")
    if args.json:
        print_json(rows)
    elif args.csv:
        print_csv(columns, [[r[c] for c in columns] for r in rows])
    else:
        from rich.markup import escape
        from rich.table import Table

        from core.text import printable

        table = Table(title=f"人员 ({len(rows)})")
        for title in ("姓名", "角色", "导师", "批次", "可登录"):
            table.add_column(title, no_wrap=True)
        for u in users:
            cells = (u.name, ROLES[u.role], u.mentor, u.cohort, "是" if u.has_password else "")
            table.add_row(*(escape(printable(c)) for c in cells))
        console().print(table)
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    from simulator.people import check_name, current_actor, hash_password

    name = check_name(args.name)
    password_hash = hash_password(_read_password(name))
    with _store(args, create=False) as store:
        store.set_password(name, password_hash, actor=current_actor(args.by))
    if args.json:
        print_json({"name": name, "has_password": True})
    else:
        print(f"已设置 {name} 的密码")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    from core.errors import TrainerError
    from scoring.scorecard import PASS_SCORE
    from simulator.library import check_scenario_ids
    from simulator.people import check_min_score, check_name, current_actor, parse_due

    due = parse_due(args.due)
    min_score = check_min_score(args.min_score if args.min_score is not None else PASS_SCORE)
    scenarios = check_scenario_ids(args.scenarios)
    named = [check_name(n) for n in args.to.replace("，", ",").split(",") if n.strip()]
    if not named and not args.group:
        raise TrainerError("没有指定学员 - 用 --to 小王,小李 或 --group 批次")
    with _store(args) as store:
        trainees = {u.name: u for u in store.users("trainee")}
        unknown = [n for n in named if n not in trainees]
        if unknown:
            raise TrainerError(
                f"{', '.join(unknown)} 不是已登记的学员 - 先 users add {unknown[0]} --role trainee (users list 查看)"
            )
        chosen = list(dict.fromkeys(named))
        if args.group:
            in_group = [u.name for u in trainees.values() if u.cohort == args.group.strip()]
            if not in_group:
                raise TrainerError(
                    f"批次 {args.group} 里没有学员 - 用 users add 姓名 --role trainee --group {args.group}"
                )
            chosen += [n for n in in_group if n not in chosen]
        made = store.add_assignments(
            scenarios, chosen, due=due, exam=args.exam, min_score=min_score, cohort=args.group.strip(),
            actor=current_actor(args.by),
        )  # fmt: skip
    if args.json:
        from dataclasses import asdict

        print_json([asdict(a) for a in made])
    else:
        kind = "考试" if args.exam else "练习"
        print(
            f"已布置 {len(made)} 项{kind} ({len(scenarios)} 个场景 x {len(chosen)} 位学员), 截止 {due}, 最低 {min_score:g} 分"
        )
        for a in made:
            print(f"  #{a.id} {a.trainee} {a.scenario_id}")
    return 0


def cmd_todo(args: argparse.Namespace) -> int:
    from simulator.people import todo_rows

    with _store(args, create=False) as store:
        rows = todo_rows(store, args.trainee)
    columns = ("id", "scenario_id", "due", "exam", "min_score", "attempts", "best", "state", "done_at")
    if args.json:
        print_json(rows)
        return 0
    if args.csv:
        print_csv(columns, [[r[c] for c in columns] for r in rows])
        return 0
    from rich.markup import escape
    from rich.table import Table

    from core.text import fmt_score, printable

    if not rows:
        print(f"{printable(args.trainee)} 没有作业")
        return 0
    colours = {"done": "green", "late": "yellow", "open": "", "overdue": "red"}
    table = Table(title=f"{escape(printable(args.trainee))} 的作业")
    for title in ("#", "场景", "截止", "类型", "最低", "次数", "最好", "状态"):
        table.add_column(title, no_wrap=title != "场景", overflow="fold")
    for r in rows:
        state = f"[{colours[r['state']]}]{r['state_title']}[/]" if colours[r["state"]] else r["state_title"]
        table.add_row(str(r["id"]), escape(r["scenario_id"]), r["due"], "考试" if r["exam"] else "练习",
                      fmt_score(r["min_score"]), str(r["attempts"]), fmt_score(r["best"]), state)  # fmt: skip
    console().print(table)
    open_ids = [r["id"] for r in rows if r["state"] in ("open", "overdue")]
    if open_ids:
        console().print(f"[dim]练习一项作业: run_training.py practice --assignment {open_ids[0]}[/]")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from simulator.cli.history_cmds import _check_date

    _check_date(args.since)
    with _store(args, create=False) as store:
        entries = store.audit_log(actor=args.actor, since=args.since, limit=max(1, args.limit))
    rows = [e.to_json() for e in entries]
    if args.json:
        print_json(rows)
        return 0
    columns = ("at", "actor", "action", "subject", "detail")
    if args.csv:
        import json

        print_csv(columns, [[json.dumps(r[c], ensure_ascii=False) if c == "detail" else r[c] for c in columns]
                            for r in rows])  # fmt: skip
        return 0
    from rich.markup import escape
    from rich.table import Table

    from core.text import printable
    from simulator.history.terminal import local_time

    table = Table(title=f"审计记录 ({len(rows)})")
    for title in ("时间", "操作人", "操作", "对象", "内容"):
        table.add_column(title, no_wrap=title != "内容")
    for r in rows:
        detail = ", ".join(f"{k}={v}" for k, v in r["detail"].items())
        table.add_row(local_time(r["at"]), *(escape(printable(str(c))) for c in (r["actor"], r["action"],
                      r["subject"], detail)))  # fmt: skip
    console().print(table)
    return 0
