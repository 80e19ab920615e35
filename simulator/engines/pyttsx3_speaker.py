"""The caller's voice through pyttsx3: espeak-ng's Mandarin on Linux, a zh-CN SAPI5 / NSSpeech voice elsewhere.

pyttsx3 2.99 needs wrapping before it can be trusted to write files (see docs/voice-caller.md):

- With espeak, ``runAndWait()`` returns as soon as synthesis has *started* (espeak-ng runs it on its own thread), so
  the file may not exist yet. We wait for the ``finished-utterance`` event, with a timeout, and then check the file.
- Starting the next save while espeak-ng still reports "playing" makes pyttsx3 cancel the new synthesis and write an
  empty WAV. We wait until espeak-ng is idle before each save.
- Errors such as EE_INTERNAL_ERROR from an unknown voice id are swallowed (only the ``error`` event sees them), and an
  unknown variant (``+zz``) silently keeps the plain voice. We collect errors and compare the voice in use with the
  one we asked for after every render.
- Only one ``save_to_file`` per ``runAndWait`` (queued saves write only the last file), never ``say()`` (it would
  write to the last saved file), one engine per process (espeak-ng initializes once), and its "Audio saved to ..."
  print is filtered out of stdout.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import EngineMissing, TrainerError
from simulator.engines.audio_cache import AudioCache, wav_is_complete
from simulator.engines.playback import play_wav
from simulator.engines.speakable import speakable_text
from simulator.scenario import Voice

ESPEAK_MANDARIN_ID = "cmn-latn-pinyin"  # `cmn` and `zh` read pinyin tone digits as English ("请" -> "king three")
RENDER_ATTEMPTS = 2


class SpeechRenderError(TrainerError):
    """The engine produced no usable audio for a line."""


def espeak_missing() -> EngineMissing:
    return EngineMissing("语音合成 (espeak-ng)", "apt-get install espeak-ng libespeak-ng1")


def _last_sounding_position(text: str) -> int:
    """1-based position of the last letter or digit: the last word espeak-ng must have reached."""
    for index in range(len(text) - 1, -1, -1):
        if unicodedata.category(text[index])[0] in "LN":
            return index + 1
    return 0


# ---------------------------------------------------------------------------------------------------------------------
# Choosing a Chinese voice among whatever the platform's engine offers.


def _voice_text(voice) -> tuple[list[str], str]:
    languages = []
    for language in getattr(voice, "languages", None) or []:
        if isinstance(language, bytes):
            language = language.decode("utf-8", errors="ignore")
        languages.append(str(language).lower().replace("_", "-"))
    described = " ".join([*languages, str(getattr(voice, "id", "")), str(getattr(voice, "name", "") or "")]).lower()
    return languages, described.replace("_", "-")


def chinese_voice_rank(voice) -> int | None:
    """Lower is better; None for voices that are not Mandarin or that misread Chinese text."""
    languages, described = _voice_text(voice)
    voice_id = str(getattr(voice, "id", "")).lower()
    if ESPEAK_MANDARIN_ID in described:
        return 0
    if voice_id.startswith("mb/") or voice_id in {"sit/cmn", "cmn"}:
        return None  # mbrola voices need data Debian does not ship; plain `cmn` reads tone digits as English
    if any(word in described for word in ("yue", "cantonese", "zh-hk", "粤")):
        return None
    if any(lang.startswith(("zh-cn", "zh-hans", "cmn-hans", "zh-sg")) for lang in languages) or "zh-cn" in described:
        return 1
    if any(lang.startswith(("zh-tw", "zh-hant")) for lang in languages) or "zh-tw" in described:
        return 3
    if any(lang.split("-")[0] in {"zh", "cmn"} for lang in languages) or any(
        word in described for word in ("chinese", "mandarin", "中文", "普通话")
    ):
        return 2
    return None


def pick_chinese_voice(voices, prefer_gender: str | None = None):
    """The best Mandarin voice (mainland first), preferring ``prefer_gender`` ("Male"/"Female") among equals."""
    ranked = [(rank, voice) for voice in voices if (rank := chinese_voice_rank(voice)) is not None]
    if not ranked:
        return None

    def order(item):
        rank, voice = item
        gender_mismatch = prefer_gender is not None and (getattr(voice, "gender", None) or "") != prefer_gender
        return (rank, gender_mismatch)

    return min(ranked, key=order)[1]


# ---------------------------------------------------------------------------------------------------------------------
# The one pyttsx3 engine of this process.


class _DropSavedNotices(io.TextIOBase):
    """Passes stdout through except pyttsx3's "Audio saved to ..." line, printed from espeak-ng's thread."""

    def __init__(self, target):
        self._target = target
        self._drop_next_newline = False

    def write(self, text: str) -> int:
        if text.startswith("Audio saved to "):
            self._drop_next_newline = True
            return len(text)
        if self._drop_next_newline and text == "\n":
            self._drop_next_newline = False
            return len(text)
        self._drop_next_newline = False
        return self._target.write(text)

    def flush(self) -> None:
        self._target.flush()


@dataclass
class _RenderWatch:
    """What pyttsx3 reported during one save."""

    finished: threading.Event = field(default_factory=threading.Event)
    completed: list[bool] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    furthest_word_end: int = 0


class _ProcessEngine:
    """Owns the process's pyttsx3 engine; every use goes through ``lock`` (espeak-ng is a process-wide singleton)."""

    def __init__(self, driver_name: str | None):
        try:
            import pyttsx3

            self.engine = pyttsx3.init(driver_name)
        except ImportError as error:  # pyttsx3 itself, or a platform driver's module (comtypes, pyobjc)
            raise EngineMissing("语音合成 (pyttsx3)", "pip install pyttsx3==2.99") from error
        except (OSError, RuntimeError) as error:  # libespeak-ng missing, or espeak-ng failed to initialize
            raise espeak_missing() from error
        self.driver = str(self.engine)  # "espeak" | "sapi5" | "nsss" | ...
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.retries = 0  # saves that had to be repeated (cancelled or unfinished): should stay 0
        self.voices = list(self.engine.getProperty("voices"))
        self._watch = _RenderWatch()
        self.engine.connect("finished-utterance", self._on_finished)
        self.engine.connect("error", self._on_error)
        self.engine.connect("started-word", self._on_word)

    # pyttsx3 calls these from its own threads and swallows anything they raise.
    def _on_finished(self, name=None, completed=True, **_):
        self._watch.completed.append(bool(completed))
        self._watch.finished.set()

    def _on_error(self, name=None, exception=None, **_):
        self._watch.errors.append(exception or RuntimeError("unknown pyttsx3 error"))

    def _on_word(self, name=None, location=0, length=0, **_):
        self._watch.furthest_word_end = max(self._watch.furthest_word_end, int(location or 0) + int(length or 0) - 1)

    def _wait_until_espeak_idle(self, timeout_s: float) -> None:
        if self.driver != "espeak":
            return
        from pyttsx3.drivers import _espeak

        deadline = time.monotonic() + timeout_s
        while _espeak.IsPlaying() and time.monotonic() < deadline:
            time.sleep(0.002)

    def save(self, spoken: str, voice_id: str, voice: Voice, target: Path, timeout_s: float) -> None:
        """Write ``spoken`` to ``target`` as a complete WAV (or the engine's own format on macOS), or raise."""
        if os.getpid() != self.pid:
            raise SpeechRenderError("语音引擎不能在 fork 出的子进程中复用 - 请用 multiprocessing 的 spawn 方式启动进程")
        problem = ""
        for attempt in range(RENDER_ATTEMPTS):
            if attempt:
                self.retries += 1
            target.unlink(missing_ok=True)
            self._wait_until_espeak_idle(timeout_s)
            self._watch = watch = _RenderWatch()
            # pyttsx3 leaves its command queue marked busy after some loops, which would defer these settings into
            # runAndWait, right next to the save. Applying them now lets espeak-ng finish them first (below).
            self.engine.proxy.setBusy(False)
            self.engine.setProperty("voice", voice_id)  # the voice first: changing it may reset the others
            self.engine.setProperty("rate", int(voice.rate))
            self.engine.setProperty("volume", float(voice.volume))
            if self.driver == "espeak":
                self.engine.setProperty("pitch", int(voice.pitch))  # the other drivers print "not supported"
            # espeak-ng applies parameters on its own thread and counts as "playing" meanwhile; runAndWait's stop()
            # would then cancel our save and pyttsx3 would write an empty file.
            self._wait_until_espeak_idle(timeout_s)
            self.engine.save_to_file(spoken, str(target))
            self.engine.runAndWait()
            problem, worth_retrying = self._finished_problem(watch, spoken, voice_id, target, timeout_s)
            if not problem:
                return
            if not worth_retrying:
                break  # a setting the engine refused: trying again would fail the same way
        target.unlink(missing_ok=True)
        raise SpeechRenderError(f"语音合成失败 ({self.driver}, {voice_id}): {problem}")

    def _finished_problem(
        self, watch: _RenderWatch, spoken: str, voice_id: str, target: Path, timeout_s: float
    ) -> tuple[str, bool]:
        """("", _) when the render is complete; otherwise what went wrong and whether another attempt may help."""
        if not self._wait_for_file(watch, target, timeout_s):
            return f"{timeout_s:.0f} 秒内没有写完音频文件", True
        if watch.errors:
            return f"引擎拒绝了设置: {watch.errors[0]}", False
        in_use = str(self.engine.getProperty("voice") or "").lower()
        if in_use != voice_id.lower():
            hint = ""
            if self.driver == "espeak":
                hint = " - 变体名应为 espeak-ng 的变体 (f1-f5, m1-m7 等, 见 espeak-ng --voices=variant)"
            return f"引擎在用的声音是 {in_use or '?'}, 不是所要的 {voice_id}{hint}", False
        if self.driver == "espeak":
            if False in watch.completed:
                return "合成被取消", True
            if watch.furthest_word_end < _last_sounding_position(spoken):
                return f"只合成到第 {watch.furthest_word_end} 个字 (共 {len(spoken)} 个)", True
        return "", False

    def _wait_for_file(self, watch: _RenderWatch, target: Path, timeout_s: float) -> bool:
        if self.driver == "sapi5":
            # SAPI5 saves synchronously inside runAndWait and closes the stream before returning
            return target.is_file() and target.stat().st_size > 0
        # espeak-ng writes the whole file from the callback that then sends finished-utterance; NSSpeech finishes
        # in its run loop and reports through its delegate, which pyttsx3 turns into the same event.
        return watch.finished.wait(timeout_s) and target.is_file()


_process_engines: dict[str, _ProcessEngine] = {}
_process_engines_lock = threading.Lock()


def _process_engine(driver_name: str | None) -> _ProcessEngine:
    # Kept for the life of the process on purpose: pyttsx3 caches engines in a WeakValueDictionary, and a second
    # espeak-ng engine would steal the first one's synthesis callback (espeak-ng has one per process). The key is the
    # resolved driver name, so None and "espeak" on Linux are the same engine.
    if not driver_name:
        try:
            from pyttsx3.engine import default_engine_by_sys_platform
        except ImportError as error:
            raise EngineMissing("语音合成 (pyttsx3)", "pip install pyttsx3==2.99") from error
        driver_name = default_engine_by_sys_platform()
    with _process_engines_lock:
        if driver_name not in _process_engines:
            _process_engines[driver_name] = _ProcessEngine(driver_name)
        return _process_engines[driver_name]


# ---------------------------------------------------------------------------------------------------------------------


def _to_pcm16_wav(source: Path, target: Path) -> None:
    """Re-encode another engine's output (AIFF on macOS, other WAV formats) as 16-bit mono PCM WAV."""
    try:
        import soundfile
    except (ImportError, OSError):
        soundfile = None
    if soundfile is not None:
        samples, sample_rate = soundfile.read(str(source), dtype="int16", always_2d=True)
        soundfile.write(str(target), samples.mean(axis=1).astype("int16"), sample_rate, subtype="PCM_16", format="WAV")
        return
    if shutil.which("afconvert"):  # always present on macOS
        subprocess.run(["afconvert", "-f", "WAVE", "-d", "LEI16", "-c", "1", str(source), str(target)], check=True)
        return
    raise EngineMissing("音频格式转换 (soundfile)", "pip install soundfile")


def _is_pcm16_mono_wav(path: Path) -> bool:
    import wave

    if not wav_is_complete(path):
        return False
    with wave.open(str(path), "rb") as wav:
        return wav.getsampwidth() == 2 and wav.getnchannels() == 1


class Pyttsx3Speaker:
    """Speaker for caller lines: renders through pyttsx3 into the WAV cache and plays through ``playback``."""

    def __init__(self, cache: AudioCache | None = None, *, driver: str | None = None, timeout_s: float = 30.0):
        self._engine = _process_engine(driver)
        self.cache = cache if cache is not None else AudioCache()
        self.timeout_s = timeout_s
        self.synthesized = 0  # lines actually rendered by this speaker (cache misses)
        self._base_voice = pick_chinese_voice(self._engine.voices)
        if self._base_voice is None:
            raise EngineMissing("中文语音", _install_chinese_voice_hint(self._engine.driver))

    @property
    def driver(self) -> str:
        return self._engine.driver

    def voice_id(self, voice: Voice) -> str:
        """The engine voice id for a persona: espeak-ng's Mandarin plus its variant, or a platform zh-CN voice."""
        variant = (voice.variant or "").lstrip("+")
        if self.driver == "espeak":
            return f"{self._base_voice.id}+{variant}" if variant else str(self._base_voice.id)
        # SAPI5 / NSSpeech have no variants; a variant's gender letter picks a male or female Chinese voice if any.
        gender = {"m": "Male", "f": "Female"}.get(variant[:1].lower()) if variant else None
        return str(pick_chinese_voice(self._engine.voices, prefer_gender=gender).id)

    def engine_label(self, voice: Voice) -> str:
        """Identifies the sound of a render; part of the cache key."""
        return f"pyttsx3/{self.driver}/{self.voice_id(voice)}"

    def render(self, text: str, voice: Voice) -> Path:
        """The WAV file (16-bit mono PCM) of ``text`` in ``voice``, synthesized once and then taken from the cache."""
        if not text.strip():
            raise ValueError("render() needs a non-empty line")
        spoken = speakable_text(text)
        voice_id = self.voice_id(voice)
        return self.cache.fetch(
            self.engine_label(voice), voice, spoken, lambda target: self._synthesize(spoken, voice_id, voice, target)
        )

    def _synthesize(self, spoken: str, voice_id: str, voice: Voice, target: Path) -> None:
        engine = self._engine
        raw = target if engine.driver in {"espeak", "sapi5"} else target.with_suffix(".aiff")  # NSSpeech writes AIFF
        with engine.lock, contextlib.redirect_stdout(_DropSavedNotices(sys.stdout)):
            engine.save(spoken, voice_id, voice, raw, self.timeout_s)
            self.synthesized += 1
        if raw != target or not _is_pcm16_mono_wav(target):
            converted = target.with_suffix(".pcm16.wav")
            try:
                _to_pcm16_wav(raw, converted)
                os.replace(converted, target)
            finally:
                converted.unlink(missing_ok=True)
                if raw != target:
                    raw.unlink(missing_ok=True)
        if not wav_is_complete(target):
            raise SpeechRenderError(f"语音合成失败 ({engine.driver}, {voice_id}): 输出文件不完整")

    def play(self, wav: Path) -> bool:
        """Play a rendered line; False (no exception) when the machine has no audio output."""
        return play_wav(wav)


def _install_chinese_voice_hint(driver: str) -> str:
    if driver == "sapi5":
        return "Windows 设置 > 时间和语言 > 语音 > 添加语音: 中文(简体, 中国), 如 Huihui"
    if driver in {"nsss", "avspeech"}:
        return "macOS 系统设置 > 辅助功能 > 朗读内容 > 系统声音 > 管理声音: 下载 中文(中国大陆), 如 Tingting"
    return "apt-get install espeak-ng espeak-ng-data (需要 cmn-latn-pinyin 声音)"
