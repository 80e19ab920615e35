"""Spoken replies from the microphone, recognized phrase by phrase while the trainee speaks.

``open_mic_listener()`` returns a ``MicListener`` (the ``Listener`` interface) or raises
``EngineMissing`` with one line naming what is missing: PyAudio, an input device, or the speech
model. The simulator prints that line and falls back to typed replies.

How a reply is taken (``LiveReply``, which the bench also drives from WAV files):
- audio is read from SpeechRecognition's ``Microphone`` in small chunks and kept whole (saved as a
  WAV so a mentor can listen to what was actually said);
- a chunk is speech when its level is ``MARGIN_DB`` over the room's noise floor (the quiet end of
  the last seconds), clamped to ``SPEECH_DB_RANGE``;
- a pause of ``phrase_pause_s`` closes a phrase of at least ``min_phrase_s``, which a background
  thread recognizes at once (``WhisperRecognizer.transcribe_phrase``) while the trainee goes on
  speaking, so when the reply ends only its last phrase is still being recognized (a last phrase too
  short to stand alone is recognized again together with the one before it);
- the reply ends after ``end_pause_s`` of silence (voice-activity mode) or when the trainee presses
  Enter (push-to-talk).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import EngineMissing
from simulator.engines.base import Heard
from simulator.engines.whisper_listener import (
    LOW_CONFIDENCE,
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    Transcript,
    WhisperRecognizer,
    combine_confidence,
    get_recognizer,
    needs_repeat,
    resample,
)

if TYPE_CHECKING:
    import numpy as np
    import speech_recognition as sr

__all__ = ["LOW_CONFIDENCE", "ListenSettings", "LiveReply", "MicListener", "needs_repeat", "open_mic_listener"]

PYAUDIO_INSTALL = "pip install PyAudio (needs apt-get install portaudio19-dev)"
PUSH_TO_TALK_ENV = "HOTLINE_TRAINER_PUSH_TO_TALK"
NO_DEVICE_HINT = "连接麦克风并确认系统能识别 (Linux: arecord -l), 或改用键盘输入回复"

MARGIN_DB = 12.0  # speech is this much louder than the room's noise floor
SPEECH_DB_RANGE = (-50.0, -35.0)  # ...but the threshold stays within this range (dBFS)
FLOOR_WINDOW_S = 10.0  # the noise floor is the quiet end of this much recent audio
PHRASE_PREROLL_S = 0.2  # audio kept before the first loud chunk (soft consonants start quietly)
PHRASE_TAIL_S = 0.2  # and after the last one


@dataclass
class ListenSettings:
    push_to_talk: bool = False
    phrase_pause_s: float = 0.35  # a pause this long closes a phrase and sends it to the recognizer
    end_pause_s: float = 1.0  # voice-activity mode: a pause this long ends the reply
    start_timeout_s: float = 15.0  # nothing said for this long: an empty reply ("请再说一遍")
    max_reply_s: float = 120.0
    max_phrase_s: float = 12.0  # a phrase without pauses is cut here, so recognition keeps up
    min_phrase_s: float = 2.0  # shorter phrases wait for the next words: alone, "您好" came back as "你好"


@dataclass
class Reply:
    """What ``LiveReply.finish`` returns."""

    text: str
    confidence: float
    audio: sr.AudioData  # the whole reply, from the moment listening started
    phrases: list[Transcript] = field(default_factory=list)
    speech_end_at: float | None = None  # clock time of the last speech chunk
    text_ready_at: float | None = None  # clock time the last phrase's text was ready

    @property
    def feedback_delay_s(self) -> float | None:
        """From the end of speech to the full transcript (what the trainee waits for)."""
        if self.speech_end_at is None or self.text_ready_at is None:
            return None
        return max(0.0, self.text_ready_at - self.speech_end_at)


def chunk_level_db(chunk: bytes) -> float:
    import numpy as np

    samples = np.frombuffer(chunk, dtype="<i2").astype(np.float32)
    if samples.size == 0:
        return -100.0
    rms = float(np.sqrt(np.mean(samples**2))) / 32768.0
    return 20 * np.log10(max(rms, 1e-5))


class LiveReply:
    """Feeds on 16-bit mono chunks at ``rate``; cuts phrases at pauses and recognizes them in the background."""

    def __init__(
        self,
        recognizer: WhisperRecognizer,
        rate: int,
        settings: ListenSettings | None = None,
        *,
        on_phrase: Callable[[Transcript], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.recognizer = recognizer
        self.rate = rate
        self.settings = settings or ListenSettings()
        self.on_phrase = on_phrase
        self.clock = clock
        self._chunks: list[bytes] = []
        self._samples = 0  # total samples fed
        self._levels: deque[float] = deque()
        self._level_window = 0
        self._phrase_start: int | None = None  # sample index where the open phrase starts
        self._last_voiced_end = 0  # sample index after the last speech chunk
        self.heard_speech = False
        self.speech_end_at: float | None = None
        self._queue: queue.Queue[tuple[np.ndarray, bool] | None] = queue.Queue()
        self._results: list[Transcript] = []
        self._last_phrase_start: int | None = None  # where the last phrase sent to the recognizer started
        self._text_ready_at: float | None = None
        self._worker: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- feeding ------------------------------------------------------------------------------

    @property
    def elapsed_s(self) -> float:
        return self._samples / self.rate

    @property
    def silence_s(self) -> float:
        """Seconds since the last speech (since the start when nothing was said yet)."""
        return (self._samples - self._last_voiced_end) / self.rate

    @property
    def partial_text(self) -> str:
        return "".join(t.text for t in list(self._results))

    def threshold_db(self) -> float:
        import numpy as np

        floor = float(np.percentile(self._levels, 5)) if self._levels else -100.0
        low, high = SPEECH_DB_RANGE
        return min(max(floor + MARGIN_DB, low), high)

    def feed(self, chunk: bytes) -> float:
        """Add one chunk; returns its level in dBFS (for the meter)."""
        level = chunk_level_db(chunk)
        voiced = level > self.threshold_db()
        self._remember_level(level, len(chunk) // SAMPLE_WIDTH)
        start = self._samples
        self._chunks.append(chunk)
        self._samples += len(chunk) // SAMPLE_WIDTH
        s = self.settings
        if voiced:
            self.heard_speech = True
            self.speech_end_at = self.clock()
            self._last_voiced_end = self._samples
            if self._phrase_start is None:
                self._phrase_start = max(0, start - int(PHRASE_PREROLL_S * self.rate))
            elif self._samples - self._phrase_start >= s.max_phrase_s * self.rate:
                self._close_phrase(self._samples)
                self._phrase_start = self._samples
        elif (
            self._phrase_start is not None
            and self.silence_s >= s.phrase_pause_s
            and self._last_voiced_end - self._phrase_start >= s.min_phrase_s * self.rate
        ):
            self._close_phrase(min(self._samples, self._last_voiced_end + int(PHRASE_TAIL_S * self.rate)))
        return level

    def _remember_level(self, level: float, samples: int) -> None:
        self._levels.append(level)
        self._level_window += samples
        while self._level_window > FLOOR_WINDOW_S * self.rate and len(self._levels) > 1:
            self._levels.popleft()
            self._level_window -= samples

    def reply_over(self) -> bool:
        """Voice-activity mode: the trainee stopped talking, never started, or talked too long."""
        s = self.settings
        if self.elapsed_s >= s.max_reply_s:
            return True
        if not self.heard_speech:
            return self.elapsed_s >= s.start_timeout_s
        return self.silence_s >= s.end_pause_s

    # -- recognition --------------------------------------------------------------------------

    def _close_phrase(self, end: int, *, with_previous: bool = False) -> None:
        """Send audio up to ``end`` to the recognizer; ``with_previous``: re-recognize it together with the
        previous phrase (a short last phrase needs the context) and replace that phrase's text."""
        import numpy as np

        assert self._phrase_start is not None
        start = self._last_phrase_start if with_previous and self._last_phrase_start is not None else self._phrase_start
        raw = b"".join(self._chunks)[start * SAMPLE_WIDTH : end * SAMPLE_WIDTH]
        self._last_phrase_start = start
        self._phrase_start = None
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        if self._worker is None:
            self._worker = threading.Thread(target=self._recognize_phrases, name="phrase-recognizer", daemon=True)
            self._worker.start()
        self._queue.put((resample(samples, self.rate, SAMPLE_RATE), with_previous))

    def _recognize_phrases(self) -> None:
        while (job := self._queue.get()) is not None:
            samples, replaces_previous = job
            try:
                transcript = self.recognizer.transcribe_phrase(samples)
            except BaseException as exc:  # reported by finish(), in the listening thread
                self._error = exc
                continue
            if replaces_previous and self._results:
                self._results[-1] = transcript
            else:
                self._results.append(transcript)
            self._text_ready_at = self.clock()
            if self.on_phrase:
                self.on_phrase(transcript)

    def finish(self) -> Reply:
        """Close the open phrase, wait for the recognizer, and return the whole reply."""
        import speech_recognition as sr

        if self._phrase_start is not None:
            short = self._last_voiced_end - self._phrase_start < self.settings.min_phrase_s * self.rate
            end = min(self._samples, self._last_voiced_end + int(PHRASE_TAIL_S * self.rate))
            self._close_phrase(end, with_previous=short and self._last_phrase_start is not None)
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join()
        if self._error is not None:
            raise self._error
        phrases = [t for t in self._results if t.text]
        segments = [seg for t in phrases for seg in t.segments]
        return Reply(
            text="".join(t.text for t in phrases),
            confidence=combine_confidence(segments),
            audio=sr.AudioData(b"".join(self._chunks), self.rate, SAMPLE_WIDTH),
            phrases=self._results,
            speech_end_at=self.speech_end_at,
            text_ready_at=self._text_ready_at if self._worker is not None else self.speech_end_at,
        )


# --- the microphone ---------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what C libraries write to file descriptor 2 (ALSA/JACK print ~100 lines while probing)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def probe_input_device(device_index: int | None = None) -> dict[str, Any]:
    """The input device's PyAudio info; EngineMissing when PyAudio or a recording device is missing."""
    try:
        import pyaudio
    except ImportError as exc:
        raise EngineMissing("麦克风输入 (PyAudio 未安装)", PYAUDIO_INSTALL) from exc
    with quiet_stderr():
        audio = pyaudio.PyAudio()
        try:
            if device_index is None:
                info = audio.get_default_input_device_info()
            else:
                info = audio.get_device_info_by_index(device_index)
        except (OSError, ValueError) as exc:
            raise EngineMissing("麦克风 (没有可用的录音设备)", NO_DEVICE_HINT) from exc
        finally:
            audio.terminate()
    if int(info.get("maxInputChannels", 0)) < 1:
        raise EngineMissing(f"麦克风 ({info.get('name', device_index)} 不能录音)", NO_DEVICE_HINT)
    return dict(info)


def default_recordings_dir() -> Path:
    """``$XDG_DATA_HOME/hotline-trainer/recordings`` (else ``~/.local/share/...``)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "hotline-trainer" / "recordings"


def open_mic_listener(
    recordings_dir: str | Path | None = None,
    *,
    keep_audio: bool = True,
    push_to_talk: bool | None = None,
    model: str | None = None,
    device_index: int | None = None,
    console: Any = None,
    settings: ListenSettings | None = None,
) -> MicListener:
    """A ready microphone listener, or EngineMissing naming what is missing (PyAudio, device, model).

    Each reply's audio is kept as a WAV in ``recordings_dir`` (default ``default_recordings_dir()``)
    unless ``keep_audio`` is False. ``push_to_talk`` None: ``$HOTLINE_TRAINER_PUSH_TO_TALK`` (1/true),
    else voice-activity detection.
    """
    probe_input_device(device_index)
    recognizer = get_recognizer(model)
    settings = settings or ListenSettings()
    if push_to_talk is None:
        push_to_talk = os.environ.get(PUSH_TO_TALK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
    settings.push_to_talk = push_to_talk
    folder = (Path(recordings_dir) if recordings_dir else default_recordings_dir()) if keep_audio else None
    return MicListener(recognizer, folder, settings=settings, device_index=device_index, console=console)


class MicListener:
    """``Listener`` that records the trainee's spoken reply and returns its transcript."""

    def __init__(
        self,
        recognizer: WhisperRecognizer,
        recordings_dir: str | Path | None = None,
        *,
        settings: ListenSettings | None = None,
        device_index: int | None = None,
        console: Any = None,
    ):
        self.recognizer = recognizer
        self.recordings_dir = Path(recordings_dir) if recordings_dir else None
        self.settings = settings or ListenSettings()
        self.device_index = device_index
        if console is None:
            from rich.console import Console

            console = Console(highlight=False)
        self.console = console
        self._count = 0

    def listen(self, prompt: str) -> Heard | None:
        """Record and recognize one reply. ``prompt`` (the caller's line) is already on screen."""
        import speech_recognition as sr

        from simulator.engines.scripted_listener import HANGUP_WORDS

        s = self.settings
        asked = time.perf_counter()
        if s.push_to_talk:
            try:
                typed = self.console.input("[bold green]您的回答[/]: 按回车开始说话 (输入 /挂断 结束通话) ")
            except EOFError:
                return None
            if typed.strip() in HANGUP_WORDS:
                return Heard("", "voice", hangup=True)
        else:
            self.console.print("[bold green]您的回答[/]: 请对着麦克风说话, 说完稍停即可 (Ctrl-C 结束练习)")
        lead_in_s = time.perf_counter() - asked if s.push_to_talk else 0.0
        with quiet_stderr():
            microphone = sr.Microphone(device_index=self.device_index)
            source = microphone.__enter__()
        if source.stream is None:  # SpeechRecognition swallows the open error and leaves no stream
            raise EngineMissing("麦克风 (无法打开录音设备)", NO_DEVICE_HINT)
        try:
            reply = self._record(source)
        finally:
            microphone.__exit__(None, None, None)
        return self._to_heard(reply, lead_in_s)

    def _record(self, source: Any) -> Reply:
        from rich.live import Live

        s = self.settings
        reply = LiveReply(self.recognizer, source.SAMPLE_RATE, s)
        enter_pressed = threading.Event()
        if s.push_to_talk:
            threading.Thread(target=lambda: (sys.stdin.readline(), enter_pressed.set()), daemon=True).start()
        level = -100.0
        with Live(listening_panel(level, reply, s), console=self.console, refresh_per_second=12, transient=True) as live:
            while True:
                level = reply.feed(source.stream.read(source.CHUNK))
                live.update(listening_panel(level, reply, s))
                if enter_pressed.is_set() or reply.elapsed_s >= s.max_reply_s:
                    break
                if not s.push_to_talk and reply.reply_over():
                    break
        if s.push_to_talk and not enter_pressed.is_set():
            self.console.print("已达到最长录音时间, 请按回车继续。")
            enter_pressed.wait()
        self.console.print("[dim]识别中…[/]")
        return reply.finish()

    def _to_heard(self, reply: Reply, lead_in_s: float) -> Heard:
        from simulator.engines.speech_metrics import measure
        from simulator.engines.whisper_listener import audio_to_float

        audio_path = self._save(reply.audio)
        metrics = measure(audio_to_float(reply.audio), SAMPLE_RATE, reply.text, lead_in_s=lead_in_s)
        duration = len(reply.audio.frame_data) / SAMPLE_WIDTH / reply.audio.sample_rate
        return Heard(
            text=reply.text,
            source="voice",
            confidence=reply.confidence,
            audio_path=audio_path,
            duration_s=duration,
            metrics=metrics.as_dict(),
        )

    def _save(self, audio: sr.AudioData) -> str | None:
        if self.recordings_dir is None:
            return None
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        self._count += 1
        path = self.recordings_dir / f"reply-{datetime.now():%Y%m%d-%H%M%S}-{self._count:02d}.wav"
        path.write_bytes(audio.get_wav_data())
        return str(path)


def level_bar(level_db: float, width: int = 20) -> str:
    """A level meter: -60 dBFS (empty) to 0 dBFS (full)."""
    filled = round((min(max(level_db, -60.0), 0.0) + 60.0) / 60.0 * width)
    return "█" * filled + "░" * (width - filled)


def listening_panel(level_db: float, reply: LiveReply, settings: ListenSettings) -> Any:
    """What the trainee sees while speaking: a clear listening sign, the level, what was heard so far."""
    from rich.text import Text

    hint = "说完请按回车" if settings.push_to_talk else "说完稍停即可"
    lines = Text()
    lines.append("● 正在聆听… ", style="bold red")
    lines.append(level_bar(level_db), style="green" if level_db > reply.threshold_db() else "dim")
    lines.append(f"  {reply.elapsed_s:4.1f} 秒  ({hint})", style="dim")
    if reply.partial_text:
        lines.append(f"\n已识别: {reply.partial_text}")
    return lines
