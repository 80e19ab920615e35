"""Speaking rate, silence before answering and pauses, measured on signals whose timing is known."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.engines.speech_metrics import measure, notes, spoken_chars, voiced_frames

RATE = 16_000


def _tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _silence(seconds: float, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (noise * rng.standard_normal(int(seconds * RATE))).astype(np.float32)


def _speechlike(seconds: float) -> np.ndarray:
    """Syllables of 0.2 s with 0.05 s dips, as speech has between characters."""
    parts = []
    while sum(len(p) for p in parts) < seconds * RATE:
        parts += [_tone(0.2), _silence(0.05)]
    return np.concatenate(parts)[: int(seconds * RATE)]


def test_silence_before_longest_pause_and_rate():
    audio = np.concatenate([_silence(1.5), _speechlike(3.0), _silence(2.4), _speechlike(3.0), _silence(0.5)])
    m = measure(audio, RATE, "您" * 12)
    assert m.silence_before_s == pytest.approx(1.5, abs=0.03)
    assert m.longest_pause_s == pytest.approx(2.4 + 0.05, abs=0.06)
    assert m.speech_s == pytest.approx(3.0 + 2.4 + 3.0 - 0.05, abs=0.1)
    # 12 characters over 6 s of speaking (the 2.4 s pause is reported, not counted): 120 per minute
    assert m.chars_per_min == pytest.approx(120, rel=0.03)
    assert m.as_dict() == {
        "chars_per_min": round(m.chars_per_min, 1),
        "silence_before_s": round(m.silence_before_s, 2),
        "longest_pause_s": round(m.longest_pause_s, 2),
        "speech_s": round(m.speech_s, 2),
    }


def test_room_noise_is_not_speech():
    audio = np.concatenate([_silence(2.0, noise=0.01), _speechlike(2.0), _silence(1.0, noise=0.01, seed=1)])
    voiced = voiced_frames(audio, RATE)
    assert not voiced[: int(1.9 / 0.03)].any()
    m = measure(audio, RATE, "请您稍等")
    assert m.silence_before_s == pytest.approx(2.0, abs=0.05)
    assert m.chars_per_min == pytest.approx(4 / 2.0 * 60, rel=0.05)


def test_nothing_said():
    m = measure(_silence(3.0), RATE, "", lead_in_s=1.0)
    assert (m.chars_per_min, m.longest_pause_s, m.speech_s) == (0.0, 0.0, 0.0)
    assert m.silence_before_s == pytest.approx(4.0)


def test_lead_in_counts_as_silence_before():
    m = measure(np.concatenate([_silence(0.3), _speechlike(1.0)]), RATE, "您好", lead_in_s=2.0)
    assert m.silence_before_s == pytest.approx(2.3, abs=0.03)


def test_spoken_characters_exclude_punctuation():
    assert spoken_chars("您好，这里是12368热线！OK?") == 7 + 5 + 2
    assert spoken_chars("，。？ ") == 0


def test_notes_for_the_feedback():
    assert notes({"chars_per_min": 230, "silence_before_s": 0.5, "longest_pause_s": 0.4}) == []  # natural speech
    assert notes({"chars_per_min": 320, "silence_before_s": 4.2, "longest_pause_s": 2.5}) == [
        "语速偏快 (每分钟约 320 字, 建议约 200 字)",
        "开口前停顿了 4.2 秒, 请及时回应来电人",
        "回答中有 2.5 秒的停顿, 可先说\u201c请您稍等\u201d",
    ]
    assert notes({"chars_per_min": 100}) == ["语速偏慢 (每分钟约 100 字, 建议约 200 字)"]
