"""End of a spoken reply in rooms from quiet to loud: the listener measures the room, waits for a voice, and ends
the reply after the pause that follows it; a cough does not start a reply, and a room too loud to hear a voice over
says so. Fed chunk by chunk at the microphone's size, with a recognizer stand-in (the recognizer has its own tests)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.engines.vad import TOO_NOISY_DB, ListenSettings, LiveReply, chunk_level_db
from simulator.engines.whisper_recognizer import Transcript

RATE, CHUNK = 16_000, 1024


class CountingRecognizer:
    """Stands in for Whisper: returns a word per phrase, so the test sees how many phrases were cut."""

    def __init__(self):
        self.phrases = 0

    def transcribe_phrase(self, samples) -> Transcript:
        self.phrases += 1
        return Transcript(text="话", confidence=0.9, duration_s=len(samples) / RATE)


def noise(seconds: float, level_db: float, rng) -> np.ndarray:
    return rng.normal(0.0, 10 ** (level_db / 20), int(seconds * RATE))


def voice(seconds: float, level_db: float = -20.0) -> np.ndarray:
    """Speech-like sound: a voiced tone in syllables of about 0.2 s, with short gaps between them."""
    t = np.arange(int(seconds * RATE)) / RATE
    syllables = (np.sin(2 * np.pi * 4.5 * t) > -0.3).astype(float)
    tone = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)
    return tone * syllables * 10 ** (level_db / 20) * np.sqrt(2 / 1.25)


def listen(signal: np.ndarray, settings: ListenSettings | None = None) -> tuple[LiveReply, float | None]:
    """Feed ``signal`` as the microphone would; returns the reply and the second at which it ended (None: never)."""
    reply = LiveReply(CountingRecognizer(), RATE, settings or ListenSettings())  # type: ignore[arg-type]
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    for start in range(0, len(pcm), CHUNK * 2):
        reply.feed(pcm[start : start + CHUNK * 2])
        if reply.reply_over():
            return reply, reply.elapsed_s
    return reply, None


@pytest.mark.parametrize("floor_db", [-65, -55, -50, -45, -40, -35])
def test_the_reply_ends_after_the_voice_in_quiet_and_noisy_rooms(floor_db):
    rng = np.random.default_rng(int(-floor_db))
    before, spoken, after = 1.0, 2.5, 6.0
    room = noise(before + spoken + after, floor_db, rng)
    speech = np.concatenate([np.zeros(int(before * RATE)), voice(spoken), np.zeros(int(after * RATE))])
    reply, ended = listen(room + speech)
    assert chunk_level_db((noise(1, floor_db, rng) * 32767).astype("<i2").tobytes()) == pytest.approx(floor_db, abs=1)
    assert ended is not None, "the reply never ended"
    assert reply.heard_speech and not reply.too_noisy
    speech_end = before + spoken
    assert speech_end + 0.9 <= ended <= speech_end + 1.4, ended  # the 1 s end pause, never before the voice


def test_a_cough_before_the_reply_does_not_start_it():
    rng = np.random.default_rng(7)
    parts = [noise(1.0, -50, rng), voice(0.12) + noise(0.12, -50, rng), noise(2.0, -50, rng),
             voice(2.0) + noise(2.0, -50, rng), noise(4.0, -50, rng)]  # fmt: skip
    reply, ended = listen(np.concatenate(parts))
    assert ended is not None and ended >= 1.0 + 0.12 + 2.0 + 2.0 + 0.9  # ended after the voice, not the cough


def test_silence_until_the_start_timeout_is_an_empty_reply():
    rng = np.random.default_rng(3)
    reply, ended = listen(noise(20, -45, rng), ListenSettings(start_timeout_s=5))
    assert not reply.heard_speech and ended == pytest.approx(5, abs=0.1)


def test_a_room_too_loud_for_a_voice_says_so():
    rng = np.random.default_rng(5)
    floor = TOO_NOISY_DB + 4
    reply, _ = listen(noise(3, floor, rng) + np.concatenate([np.zeros(RATE), voice(1.5), np.zeros(int(0.5 * RATE))]))
    assert reply.too_noisy


def test_a_burst_that_never_became_a_voice_is_not_sent_to_the_recognizer():
    rng = np.random.default_rng(11)
    signal = np.concatenate([noise(1.0, -50, rng), voice(0.15) + noise(0.15, -50, rng), noise(0.1, -50, rng)])
    reply, _ = listen(signal)
    done = reply.finish()
    assert done.text == "" and reply.recognizer.phrases == 0  # nothing for Whisper to invent words from


def test_a_voice_that_starts_while_the_room_is_measured_is_kept_whole():
    rng = np.random.default_rng(13)
    signal = np.concatenate([noise(0.1, -50, rng), voice(2.5) + noise(2.5, -50, rng), noise(3.0, -50, rng)])
    reply, ended = listen(signal)
    assert reply.heard_speech and ended is not None
    assert reply._last_phrase_start == 0  # the phrase sent to the recognizer starts at the very beginning
