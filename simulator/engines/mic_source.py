"""Spoken replies from the microphone (PyAudio through SpeechRecognition's ``Microphone``), recognized phrase by phrase
while the trainee speaks.

``open_mic_listener()`` returns a ``MicListener`` (the ``Listener`` interface) or raises ``EngineMissing`` with one
line naming what is missing: PyAudio, an input device, or the speech model. The simulator prints that line and falls
back to typed replies.

Each reply is read in small chunks and fed to ``vad.LiveReply``, which finds the phrases and the end of the reply
(after ``end_pause_s`` of silence, or when the trainee presses Enter in push-to-talk mode). What the trainee sees
meanwhile is a ``ListeningView``'s business (``simulator.ui.RichListeningView`` in a terminal).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import EngineMissing
from core.paths import default_data_root
from simulator.engines.audio_in import SAMPLE_RATE, SAMPLE_WIDTH, audio_to_float
from simulator.engines.base import Heard, Source
from simulator.engines.quiet import quiet_stderr
from simulator.engines.scripted_listener import HANGUP_WORDS
from simulator.engines.vad import ListenSettings, LiveReply, Reply
from simulator.engines.whisper_recognizer import WhisperRecognizer, get_recognizer

if TYPE_CHECKING:
    import speech_recognition as sr

PYAUDIO_INSTALL = "pip install PyAudio (needs apt-get install portaudio19-dev)"
PUSH_TO_TALK_ENV = "HOTLINE_TRAINER_PUSH_TO_TALK"
NO_DEVICE_HINT = "连接麦克风并确认系统能识别 (Linux: arecord -l), 或改用键盘输入回复"


class ListeningView(Protocol):
    """What the trainee sees and types while a spoken reply is taken."""

    def ready(self, push_to_talk: bool) -> str:
        """Invite the reply. Push-to-talk: wait for Enter and return what was typed (a hang-up word ends the call);
        EOFError at the end of input. Otherwise return at once."""
        ...

    def recording(self, reply: LiveReply, settings: ListenSettings) -> AbstractContextManager[Callable[[float], None]]:
        """Shown while the microphone records; the callable is given each chunk's level in dBFS."""
        ...

    def recording_full(self) -> None:
        """Push-to-talk reached ``max_reply_s``: the trainee still has to press Enter."""
        ...

    def recognizing(self) -> None:
        """Recording is over; the last phrase is being recognized."""
        ...


INPUT_DEVICE_ENV = "HOTLINE_TRAINER_INPUT_DEVICE"  # a PyAudio device index, or "none" (typing only)


def input_device_from_env() -> int | None:
    """``$HOTLINE_TRAINER_INPUT_DEVICE``: an index picks that device; ``none`` means no microphone at all."""
    value = os.environ.get(INPUT_DEVICE_ENV, "").strip().lower()
    if value == "none":
        raise EngineMissing("麦克风 (已设置为不用麦克风)", f"去掉环境变量 {INPUT_DEVICE_ENV}=none")
    return int(value) if value.isdigit() else None


def probe_input_device(device_index: int | None = None) -> dict[str, Any]:
    """The input device's PyAudio info; EngineMissing when PyAudio or a recording device is missing."""
    if device_index is None:
        device_index = input_device_from_env()
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
    return default_data_root() / "recordings"


def open_mic_listener(
    recordings_dir: str | Path | None = None,
    *,
    view: ListeningView,
    keep_audio: bool = True,
    push_to_talk: bool | None = None,
    model: str | None = None,
    device_index: int | None = None,
    settings: ListenSettings | None = None,
) -> MicListener:
    """A ready microphone listener, or EngineMissing naming what is missing (PyAudio, device, model).

    Each reply's audio is kept as a WAV in ``recordings_dir`` (default ``default_recordings_dir()``)
    unless ``keep_audio`` is False. ``push_to_talk`` None: ``$HOTLINE_TRAINER_PUSH_TO_TALK`` (1/true),
    else voice-activity detection.
    """
    if device_index is None:
        device_index = input_device_from_env()
    probe_input_device(device_index)
    recognizer = get_recognizer(model)
    settings = settings or ListenSettings()
    if push_to_talk is None:
        push_to_talk = os.environ.get(PUSH_TO_TALK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
    settings.push_to_talk = push_to_talk
    folder = (Path(recordings_dir) if recordings_dir else default_recordings_dir()) if keep_audio else None
    return MicListener(recognizer, folder, view=view, settings=settings, device_index=device_index)


class MicListener:
    """``Listener`` that records the trainee's spoken reply and returns its transcript."""

    def __init__(
        self,
        recognizer: WhisperRecognizer,
        recordings_dir: str | Path | None = None,
        *,
        view: ListeningView,
        settings: ListenSettings | None = None,
        device_index: int | None = None,
    ):
        self.recognizer = recognizer
        self.recordings_dir = Path(recordings_dir) if recordings_dir else None
        self.view = view
        self.settings = settings or ListenSettings()
        self.device_index = device_index
        self._count = 0

    def listen(self, prompt: str) -> Heard | None:
        """Record and recognize one reply. ``prompt`` (the caller's line) is already on screen."""
        import speech_recognition as sr

        s = self.settings
        asked = time.perf_counter()
        try:
            typed = self.view.ready(s.push_to_talk)
        except EOFError:
            return None
        if s.push_to_talk and typed.strip() in HANGUP_WORDS:
            return Heard("", Source.VOICE, hangup=True)
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
        s = self.settings
        reply = LiveReply(self.recognizer, source.SAMPLE_RATE, s)
        enter_pressed = threading.Event()
        if s.push_to_talk:
            threading.Thread(target=lambda: (sys.stdin.readline(), enter_pressed.set()), daemon=True).start()
        with self.view.recording(reply, s) as show_level:
            while True:
                show_level(reply.feed(source.stream.read(source.CHUNK)))
                if enter_pressed.is_set() or reply.elapsed_s >= s.max_reply_s:
                    break
                if not s.push_to_talk and reply.reply_over():
                    break
        if s.push_to_talk and not enter_pressed.is_set():
            self.view.recording_full()
            enter_pressed.wait()
        self.view.recognizing()
        return reply.finish()

    def _to_heard(self, reply: Reply, lead_in_s: float) -> Heard:
        from simulator.engines.speech_metrics import measure

        audio_path = self._save(reply.audio)
        metrics = measure(audio_to_float(reply.audio), SAMPLE_RATE, reply.text, lead_in_s=lead_in_s)
        duration = len(reply.audio.frame_data) / SAMPLE_WIDTH / reply.audio.sample_rate
        return Heard(
            text=reply.text,
            source=Source.VOICE,
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
