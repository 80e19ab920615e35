"""Microphone practice without a microphone: one clear line saying what is missing; the listening display."""

from __future__ import annotations

import io
import os
import sys

import pytest

from simulator.engines import mic_listener
from simulator.engines.mic_listener import (
    ListenSettings,
    LiveReply,
    MicListener,
    chunk_level_db,
    default_recordings_dir,
    level_bar,
    listening_panel,
    open_mic_listener,
    probe_input_device,
    quiet_stderr,
)
from simulator.errors import EngineMissing

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
        open_mic_listener()
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
            open_mic_listener(tmp_path)
        assert str(caught.value) == NO_DEVICE
    else:
        listener = open_mic_listener(tmp_path)
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
    monkeypatch.setattr(mic_listener, "probe_input_device", lambda device_index=None: {"maxInputChannels": 1})
    monkeypatch.setattr(mic_listener, "get_recognizer", lambda model=None: object())
    monkeypatch.setenv("HOTLINE_TRAINER_PUSH_TO_TALK", "1")
    listener = open_mic_listener(keep_audio=False, console=None)
    assert listener.settings.push_to_talk and listener.recordings_dir is None
    monkeypatch.delenv("HOTLINE_TRAINER_PUSH_TO_TALK")
    assert not open_mic_listener(keep_audio=False).settings.push_to_talk
    assert open_mic_listener(keep_audio=False, push_to_talk=True).settings.push_to_talk


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
    Console(file=out, width=60, color_system=None).print(listening_panel(-60.0, reply, ListenSettings(push_to_talk=True)))
    assert out.getvalue() == "● 正在聆听… ░░░░░░░░░░░░░░░░░░░░   1.6 秒  (说完请按回车)\n"
