"""Store commands: db migrate, db import, db info.

A training centre points every seat at one PostgreSQL server (``--db postgresql://…`` or ``$HOTLINE_DB``);
``db import`` brings a laptop's SQLite history into it. Nothing heavy at module level.
"""

from __future__ import annotations

import argparse

from simulator.cli.output import add_db_option, add_output_options, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="成绩数据库: 建表/升级 (migrate)、导入笔记本上的记录 (import)、查看 (info)")
    dsub = p.add_subparsers(dest="db_command", metavar="migrate|import|info")

    m = dsub.add_parser("migrate", help="建表或升级到本程序的结构版本 (培训中心的新库先运行一次)")
    add_db_option(m)
    add_output_options(m)
    m.set_defaults(handler=cmd_migrate)

    i = dsub.add_parser("import", help="把一个 SQLite 成绩文件 (离线练习的笔记本) 并入 --db; 重复导入不会重复添加")
    i.add_argument("source", metavar="FILE.sqlite", help="要导入的 SQLite 成绩文件 (它不会被改动)")
    add_db_option(i)
    add_output_options(i)
    i.set_defaults(handler=cmd_import)

    n = dsub.add_parser("info", help="数据库的位置、类型、结构版本和通话数")
    add_db_option(n)
    add_output_options(n)
    n.set_defaults(handler=cmd_info)
    p.set_defaults(handler=lambda args: p.print_help() or 0)


def cmd_migrate(args: argparse.Namespace) -> int:
    from simulator.history.schema import LATEST_VERSION
    from simulator.history.store import open_store

    with open_store(getattr(args, "db", None)) as store:
        applied = store.migrated_now
        where = str(store.location)
    if args.json:
        print_json({"db": where, "applied": applied, "version": LATEST_VERSION})
    elif applied:
        print(f"{where}: 已应用迁移 {', '.join(map(str, applied))}, 结构版本 {LATEST_VERSION}")
    else:
        print(f"{where}: 已是最新, 结构版本 {LATEST_VERSION}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from simulator.history.store import open_store, read_only_copy
    from simulator.people import current_actor

    with read_only_copy(args.source) as source, open_store(getattr(args, "db", None)) as target:
        if target.path is not None and source.original.resolve() == target.path.resolve():
            from core.errors import TrainerError

            raise TrainerError(f"{args.source} 就是 --db 本身 - 用 --db 指定要导入到的数据库")
        summary = target.merge_from(source.store, actor=current_actor(), source_name=str(source.original))
        where = str(target.location)
    if args.json:
        print_json({"source": args.source, "db": where, **summary.to_json()})
        return 0
    print(
        f"从 {args.source} 导入到 {where}: 新增 {summary.calls_added} 通电话 ({summary.turns_added} 轮), "
        f"补全 {summary.calls_updated} 通, 点评 {summary.reviews_added} 条; 已有且相同 {summary.calls_unchanged} 通"
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from simulator.history.store import open_store

    with open_store(getattr(args, "db", None), create=False) as store:
        info = {
            "db": str(store.location),
            "backend": store.location.kind,
            "version": max(store.schema_versions()),
            "calls": store.count_calls(),
            "trainees": len(store.trainees()),
        }
    if args.json:
        print_json(info)
    else:
        print(
            f"{info['db']} ({info['backend']}): 结构版本 {info['version']}, "
            f"{info['calls']} 通电话, {info['trainees']} 位学员"
        )
    return 0
