"""The practice command: one call with a speaking caller and typed, scripted or spoken replies."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path

from simulator.cli.output import add_db_option, add_output_options, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("practice", help="练习一通电话 (带教模式默认; --exam 考试模式)")
    p.add_argument(
        "scenario", nargs="?", metavar="SCENARIO", help="场景 id 或 YAML 文件路径 (用 --assignment 时可省略)"
    )
    p.add_argument(
        "--assignment", type=int, metavar="ID", help="练习一项作业 (todo 里的编号): 场景、学员和考试模式都按作业"
    )
    p.add_argument("--replies", type=Path, metavar="FILE", help="脚本回答: 每行一句; 以 .wav 结尾的行会先做语音识别")
    p.add_argument("--input", choices=["text", "voice"], default="text", help="回答方式: 打字 (默认) 或麦克风")
    p.add_argument(
        "--push-to-talk", action="store_true", help="麦克风回答时按回车开始、再按回车结束 (默认: 停顿 1 秒自动结束)"
    )
    p.add_argument("--trainee", default="学员", metavar="NAME", help="学员姓名 (记入成绩)")
    p.add_argument("--mentor", default="", metavar="NAME", help="带教老师姓名: 每句之后可以写点评")
    p.add_argument("--exam", action="store_true", help="考试模式: 通话结束前不显示反馈")
    p.add_argument("--seed", type=int, help="随机种子: 同一种子抽到同样的案号、法官等")
    p.add_argument("--save-example", metavar="NAME", help="练完后把这通电话作为示例追加到场景文件 (供场景作者使用)")
    p.add_argument("--no-audio", action="store_true", help="不合成、不播放来电人语音, 只显示文字")
    p.add_argument("--no-subtitles", action="store_true", help="不显示来电人的文字 (听力练习)")
    p.add_argument("--voice", default="auto", choices=["auto", "espeak", "neural"], help="来电人语音引擎")
    add_db_option(p)
    p.add_argument("--no-save", action="store_true", help="不保存这次练习")
    p.add_argument(
        "--keep-audio",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="保存学员每句回答的录音 (带教模式默认保存)",
    )
    p.add_argument("--demo", action="store_true", help="演示: 没有终端时由内置的脚本学员回答")
    p.add_argument(
        "--work-order",
        type=Path,
        metavar="FILE.json",
        help="通话后的工单从这个 JSON 文件读取 (默认: 终端里逐项填写, 或回答文件的 [工单] 一节)",
    )
    add_output_options(p)
    p.set_defaults(handler=cmd_practice)


def _listener(args: argparse.Namespace, scenario, ui) -> object:
    from core.errors import EngineMissing
    from simulator.engines.scripted_listener import ScriptedListener
    from simulator.engines.typed_listener import TypedListener
    from simulator.library import LIBRARY_DIR

    if args.replies:
        return ScriptedListener.from_file(args.replies)
    if args.demo and not sys.stdin.isatty():
        demo = LIBRARY_DIR / "replies" / f"{scenario.id}.txt"
        if demo.is_file():
            ui.notice(f"没有终端: 由脚本学员按 {demo.relative_to(LIBRARY_DIR.parent)} 回答。")
            return ScriptedListener.from_file(demo)
    if args.input == "voice":
        try:
            from simulator.engines.mic_source import open_mic_listener
            from simulator.ui import RichListeningView

            keep = args.keep_audio if args.keep_audio is not None else not args.exam
            return open_mic_listener(
                view=RichListeningView(ui.console), keep_audio=keep, push_to_talk=args.push_to_talk or None
            )
        except EngineMissing as exc:
            ui.notice(f"{exc}; 改为打字回答。")
    return TypedListener(ui.console)


@contextlib.contextmanager
def _interrupt_on_hangup():
    """During the call, SIGTERM and SIGHUP (the terminal closed) end it as Ctrl-C does: saved as incomplete."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    saved = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                saved[name] = signal.signal(getattr(signal, name), interrupt)
            except ValueError:  # not the main thread (an embedding host): leave its handlers alone
                pass
    try:
        yield
    finally:
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)


def _work_order_source(args: argparse.Namespace, listener, ui, interactive: bool):
    """Where the work order comes from after the call: a JSON file, the replies file's [工单] section, or the form."""
    from simulator.work_order_form import load_json

    if args.work_order:
        order = load_json(args.work_order)  # read now: a bad file is refused before the call, not after it
        return lambda spec: order
    scripted = getattr(listener, "work_order", None)
    if scripted is not None:
        return lambda spec: scripted
    if interactive:
        return ui.work_order_form
    return None


def _sink(args: argparse.Namespace, ui):
    if args.no_save:
        from simulator.record import NullSink

        return NullSink()
    from core.paths import default_data_root
    from simulator.history.store import open_store
    from simulator.record import RecoveringSink

    return RecoveringSink(open_store(getattr(args, "db", None)), default_data_root() / "recovered", ui.notice)


def cmd_practice(args: argparse.Namespace) -> int:
    from rich.console import Console

    from scoring.scorer import Scorer
    from simulator.library import find_scenario
    from simulator.record import INTERRUPTED
    from simulator.session import Session, SessionOptions
    from simulator.ui import RichUI

    assignment = _assignment(args)  # sets args.scenario, args.trainee and args.exam from the assignment
    scorer = Scorer.default()  # compiled once and cached (scoring.scorer.load_compiled); its guide checks the scenario
    scenario = find_scenario(args.scenario, guide=scorer.guide)
    if args.save_example:
        from simulator.save_example import check_example_name

        check_example_name(scenario, args.save_example)
    console = Console(stderr=args.json, highlight=False)
    interactive = sys.stdin.isatty() and not args.replies
    ui = RichUI(console, interactive=interactive, subtitles=not args.no_subtitles)
    listener = _listener(args, scenario, ui)
    speaker = None
    if not args.no_audio:
        from core.errors import EngineMissing
        from simulator.engines.playback import audio_output_available
        from simulator.engines.speakers import choose_speaker

        if not audio_output_available():  # rendering would be wasted (and the neural voice is slow to load)
            ui.notice("没有可用的音频输出设备: 来电人的话只以文字显示。")
        else:
            try:
                speaker = choose_speaker(args.voice)
            except EngineMissing as exc:
                ui.notice(f"{exc}; 来电人的话只以文字显示。")
    if speaker is None and args.no_subtitles:  # no voice and no text would leave the trainee with nothing
        ui.subtitles = True
        ui.notice("没有来电人语音: 字幕照常显示 (--no-subtitles 只在能播放语音时生效)。")
    sink = _sink(args, ui)
    work_order = _work_order_source(args, listener, ui, interactive)
    session = Session(
        scenario,
        scorer,
        listener,
        speaker=speaker,
        ui=ui,
        sink=sink,
        options=SessionOptions(
            trainee=args.trainee,
            mentor=args.mentor,
            exam=args.exam,
            seed=_seed(args),
            assignment_id=assignment.id if assignment else None,
        ),  # fmt: skip
        work_order=work_order,
    )
    with _interrupt_on_hangup():
        call = session.run()
    recovered = getattr(sink, "recovered", None)
    if recovered is not None:
        console.print(f"[yellow]成绩数据库不可用: 本通电话已存到 {recovered}[/]")
    elif not args.no_save:
        console.print(f"[dim]已保存: 通话 {call.call_id} (run_training.py history show {call.call_id})[/]")
    if assignment is not None and not args.no_save and recovered is None:
        _report_assignment(args, assignment.id, console)
    if args.save_example:
        from simulator.save_example import append_example

        path = append_example(scenario, call, args.save_example)
        console.print(f"已把这通电话作为示例「{args.save_example}」追加到 {path}")
    if args.json:
        print_json(call_json(call))
    return 130 if call.end_reason == INTERRUPTED else 0


def _assignment(args: argparse.Namespace):
    """The assignment practised (``--assignment ID``), its scenario, trainee and mode put into ``args``; None
    without the option. A scenario, trainee or mode that contradicts it is an error."""
    from core.errors import TrainerError

    if args.assignment is None:
        if not args.scenario:
            raise TrainerError("没有指定场景 - 写场景 id (run_training.py list 查看), 或用 --assignment 作业编号")
        return None
    from simulator.history.store import open_store

    with open_store(getattr(args, "db", None), create=False) as store:
        assignment = store.assignment(args.assignment)
    if args.scenario and args.scenario != assignment.scenario_id:
        raise TrainerError(
            f"作业 #{assignment.id} 练的是 {assignment.scenario_id}, 不是 {args.scenario} - 去掉场景 id 即可"
        )
    if args.trainee not in ("学员", assignment.trainee):
        raise TrainerError(
            f"作业 #{assignment.id} 是布置给 {assignment.trainee} 的 - 用 todo {args.trainee} 查看自己的作业"
        )
    args.scenario, args.trainee = assignment.scenario_id, assignment.trainee
    args.exam = args.exam or assignment.exam
    return assignment


def _report_assignment(args: argparse.Namespace, assignment_id: int, console) -> None:
    """The assignment's state after the call, in one line."""
    from core.errors import TrainerError
    from core.text import fmt_score
    from simulator.history.store import open_store
    from simulator.people import assignment_state

    try:
        with open_store(getattr(args, "db", None), create=False) as store:
            status = next(a for a in store.assignment_statuses(args.trainee) if a.id == assignment_id)
    except (TrainerError, StopIteration):
        return  # the call itself is saved; the summary line is a courtesy
    state = assignment_state(status.due, status.done_at)
    console.print(
        f"作业 #{status.id} ({status.scenario_id}): {state.title}; 最好成绩 {fmt_score(status.best)}, "
        f"最低 {fmt_score(status.min_score)} 分, 截止 {status.due}"
    )


def _seed(args: argparse.Namespace) -> int | None:
    """The seed to draw with: the given one; for a call saved as an example, a fixed one so it can be replayed."""
    if args.seed is None and args.save_example:
        import random

        return random.randrange(1, 10_000)
    return args.seed


def call_json(call) -> dict:
    """The ``practice --json`` object: the fixed fields first, then the full scorecard."""
    card = call.scorecard
    return {
        "call_id": call.call_id,
        "scenario": call.scenario_id,
        "trainee": call.trainee,
        "mode": call.mode,
        "score": card.get("score"),
        "passed": card.get("passed"),
        "completed": call.completed,
        "status": call.status,
        "end_reason": call.end_reason,
        "variables": call.variables,
        "call_s": call.call_s,
        "time_limit_s": call.time_limit_s,
        "work_order": card.get("work_order"),  # None when the scenario asks for no work order
        # The turn's one shape (as history show prints it), and the names practice --json has always had.
        "turns": [{**t.shown(), "points": t.points_hit, "next": t.next_turn} for t in call.turns],
        "scorecard": card,
    }
