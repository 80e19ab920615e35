"""Voice-activity detection for a spoken reply: where speech starts and pauses, where a phrase ends, when the reply is
over. ``LiveReply`` takes 16-bit mono chunks (from the microphone, or from WAV files on the bench) and keeps them
whole, so the reply can be saved as a WAV a mentor can listen to.

- the room is measured first: over the first ``CALIBRATE_S`` nothing counts as speech, and the noise floor is the
  quiet end of the last seconds from then on;
- a chunk is speech when its level is ``MARGIN_DB`` over that floor (clamped to ``THRESHOLD_DB_RANGE``, quiet rooms
  to loud ones), and a reply has started only after ``MIN_SPEECH_S`` of speech in one phrase: a cough, a door or a
  click is dropped, and the end pause never starts on room noise;
- a floor above ``TOO_NOISY_DB`` is a room the trainee cannot be heard over: ``too_noisy`` says so, and the
  listener suggests push-to-talk;
- a pause of ``phrase_pause_s`` closes a phrase of at least ``min_phrase_s``, which a background
  thread recognizes at once (``WhisperRecognizer.transcribe_phrase``) while the trainee goes on
  speaking, so when the reply ends only its last phrase is still being recognized (a last phrase too
  short to stand alone is recognized again together with the one before it);
- the reply ends after ``end_pause_s`` of silence (voice-activity mode) or when the trainee presses
  Enter (push-to-talk, which the microphone source handles).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simulator.engines.audio_in import SAMPLE_RATE, SAMPLE_WIDTH, pcm16_to_float, resample
from simulator.engines.whisper_recognizer import Transcript, WhisperRecognizer, combine_confidence

if TYPE_CHECKING:
    import numpy as np
    import speech_recognition as sr

MARGIN_DB = 12.0  # speech is this much louder than the room's noise floor
THRESHOLD_DB_RANGE = (-55.0, -20.0)  # ...but the threshold stays within this range (dBFS)
CALIBRATE_S = 0.3  # the room is measured over this much audio before anything counts as speech
MIN_SPEECH_S = 0.25  # speech within one phrase needed before a reply has started
TOO_NOISY_DB = -32.0  # a noise floor above this leaves no room for a voice at a normal distance
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
        self._phrase_voiced_s = 0.0  # speech in the open phrase, before the reply has started
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
        """Seconds since the last speech (or burst of sound; since the start when there was none)."""
        return (self._samples - self._last_voiced_end) / self.rate

    @property
    def partial_text(self) -> str:
        return "".join(t.text for t in list(self._results))

    def noise_floor_db(self) -> float:
        import numpy as np

        return float(np.percentile(self._levels, 5)) if self._levels else -100.0

    def threshold_db(self) -> float:
        low, high = THRESHOLD_DB_RANGE
        return min(max(self.noise_floor_db() + MARGIN_DB, low), high)

    @property
    def calibrated(self) -> bool:
        return self.elapsed_s >= CALIBRATE_S

    @property
    def too_noisy(self) -> bool:
        """The room is louder than a voice can be told from (measured once calibrated)."""
        return self.calibrated and self.noise_floor_db() > TOO_NOISY_DB

    def feed(self, chunk: bytes) -> float:
        """Add one chunk; returns its level in dBFS (for the meter)."""
        level = chunk_level_db(chunk)
        calibrated = self.calibrated
        self._remember_level(level, len(chunk) // SAMPLE_WIDTH)
        voiced = calibrated and level > self.threshold_db()
        start = self._samples
        self._chunks.append(chunk)
        self._samples += len(chunk) // SAMPLE_WIDTH
        s = self.settings
        if voiced:
            if self._phrase_start is None:
                # Speech right after the room was measured may have begun during it: keep it all.
                chunk_samples = self._samples - start
                first = not self.heard_speech and start <= CALIBRATE_S * self.rate + chunk_samples
                self._phrase_start = 0 if first else max(0, start - int(PHRASE_PREROLL_S * self.rate))
                self._phrase_voiced_s = 0.0
            self._phrase_voiced_s += (self._samples - start) / self.rate
            self._last_voiced_end = self._samples
            if not self.heard_speech and self._phrase_voiced_s < MIN_SPEECH_S:
                return level  # too little yet to be a voice: a cough, a click
            self.heard_speech = True
            self.speech_end_at = self.clock()
            if self._samples - self._phrase_start >= s.max_phrase_s * self.rate:
                self._close_phrase(self._samples)
                self._phrase_start = self._samples
        elif self._phrase_start is not None and not self.heard_speech and self.silence_s >= s.phrase_pause_s:
            self._phrase_start = None  # a burst too short to be speech, then quiet again: forget it
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
        assert self._phrase_start is not None
        start = self._last_phrase_start if with_previous and self._last_phrase_start is not None else self._phrase_start
        raw = b"".join(self._chunks)[start * SAMPLE_WIDTH : end * SAMPLE_WIDTH]
        self._last_phrase_start = start
        self._phrase_start = None
        samples = pcm16_to_float(raw)
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

        if self._phrase_start is not None and not self.heard_speech:
            self._phrase_start = None  # a burst too short to be a voice: Whisper would make words out of it
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
