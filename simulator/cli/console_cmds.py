"""serve: the web console for mentors and supervisors (Starlette, loaded only when the command runs)."""

from __future__ import annotations

import argparse

from simulator.cli.output import add_db_option

DEFAULT_PORT = 8368


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="网页控制台: 团队、学员、通话回放、改分、布置作业 (默认只在本机 127.0.0.1 上)")
    p.add_argument("--host", default="127.0.0.1", help="监听地址 (默认 127.0.0.1 只有本机能打开; 0.0.0.0 让局域网访问)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"端口 (默认 {DEFAULT_PORT})")
    add_db_option(p)
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import sys

    import uvicorn

    from simulator.console.app import create_app
    from simulator.history.store import open_store

    store = open_store(getattr(args, "db", None), create=False)
    if not any(u.has_password for u in store.users()):
        print("提示: 还没有能登录的人 - 先运行 run_training.py users add 姓名 --role supervisor --password-stdin",
              file=sys.stderr)  # fmt: skip
    app = create_app(store=store)
    print(f"网页控制台: http://{args.host}:{args.port}/  (数据库 {store.location}; Ctrl-C 停止)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
