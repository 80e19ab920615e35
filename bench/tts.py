"""Caller-voice speed: time per rendered line, first render vs cached, per persona variant.

    .venv/bin/python bench/tts.py [--speaker espeak|auto|neural] [--repeat N]

Renders ~20 scenario-like lines for each variant into a fresh temporary cache, then renders them again (cache hits),
and prints one table. Real-time factor = synthesis seconds / audio seconds (below 1 is faster than speech).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import wave
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.engines.audio_cache import AudioCache  # noqa: E402
from simulator.engines.speakers import choose_speaker  # noqa: E402
from simulator.scenario import Voice  # noqa: E402

LINES = [
    "喂？",
    "您好，是12368热线吗？",
    "我想问一下我的案子现在到哪一步了。",
    "案号是（2024）沪0101民初12345号。",
    "我上个月就交了材料，到现在一点消息都没有。",
    "法官的电话一直打不通，我都打了七八次了。",
    "那我到底应该找谁？你们能不能给个准话？",
    "我是被告，传票上写的是下周三上午九点开庭。",
    "我走错法庭了，第三法庭在几楼？",
    "对方一直不给钱，判决书都生效两个月了。",
    "申请强制执行需要带什么材料？要交费吗？",
    "我年纪大了，不会用手机，网上立案我弄不来。",
    "好的，我记下了，谢谢你。",
    "你们就是在踢皮球，我要投诉！",
    "我家里人被宣告死亡了，可是他现在回来了，这个怎么撤销？",
    "被骗的钱什么时候能退回来？法院判了要退赔的。",
    "电话是021-12368吗？还是直接打12368？",
    "麻烦您再说慢一点，我没听清楚。",
    "我想查一下这个案子是哪个法官在办，承办法官叫什么名字，联系方式能不能告诉我，我有新的证据要交给他。",
    "行，那我明天上午带着身份证和判决书原件过来，到一楼的诉讼服务中心找窗口办理，对吧？",
]
VARIANTS: dict[str, Voice] = {
    "default": Voice(),
    "f2": Voice(variant="f2", rate=140, pitch=55, volume=0.85),
    "f3": Voice(variant="f3", rate=190, pitch=60),
    "m3": Voice(variant="m3", rate=175, pitch=45),
}


def audio_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speaker", default="espeak", choices=["auto", "neural", "espeak", "pyttsx3"])
    parser.add_argument("--repeat", type=int, default=3, help="cached renders per line (default 3)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tts-bench-") as folder:
        cache = AudioCache(Path(folder))
        startup_s, speaker = timed(lambda: choose_speaker(args.speaker, cache=cache))
        name = getattr(speaker, "driver", type(speaker).__name__)
        print(f"speaker: {type(speaker).__name__} ({name}); engine start {startup_s * 1000:.0f} ms; {len(LINES)} lines")
        header = f"{'variant':<8} {'lines':>5} {'first ms (median/p90/max)':>27} {'cached ms':>10} "
        header += f"{'audio s/line':>12} {'chars/s':>8} {'RTF':>7}"
        print(header)
        print("-" * len(header))
        all_first, all_audio = [], []
        for variant, voice in VARIANTS.items():
            first, cached, audio = [], [], []
            for line in LINES:
                seconds, wav = timed(partial(speaker.render, line, voice))
                first.append(seconds)
                audio.append(audio_seconds(wav))
                for _ in range(args.repeat):
                    cached.append(timed(partial(speaker.render, line, voice))[0])
            all_first += first
            all_audio += audio
            p90 = statistics.quantiles(first, n=10)[-1]
            chars = sum(len(line) for line in LINES)
            print(
                f"{variant:<8} {len(LINES):>5} "
                f"{f'{statistics.median(first) * 1000:.1f} / {p90 * 1000:.1f} / {max(first) * 1000:.1f}':>27} "
                f"{statistics.median(cached) * 1000:>10.2f} {statistics.mean(audio):>12.2f} "
                f"{chars / sum(audio):>8.2f} {sum(first) / sum(audio):>7.4f}"
            )
        print("-" * len(header))
        print(
            f"all: {len(all_first)} first renders in {sum(all_first):.2f} s for {sum(all_audio):.1f} s of audio "
            f"(RTF {sum(all_first) / sum(all_audio):.4f}); "
            f"retries {getattr(getattr(speaker, '_engine', None), 'retries', 'n/a')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
