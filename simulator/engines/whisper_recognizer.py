"""Offline Mandarin recognition with faster-whisper: one loaded model per process, text in Simplified Chinese.

Audio comes in as ``speech_recognition.AudioData``, a WAV path or 16 kHz float samples (``audio_in``); it leaves as a
``Transcript``.

Why not ``Recognizer.recognize_faster_whisper``: it loads the model again on every call (about 2 s
each here). One ``WhisperModel`` is kept per process instead (``get_recognizer``), behind a lock so
the microphone's background thread and the main thread can share it.

Settings (see docs/voice.md): int8 on 2 CPU threads; ``temperature=0.0`` because the default
temperature fallback stalled for 20 s on unclear audio; ``condition_on_previous_text=False`` and
``no_repeat_ngram_size=3`` against repetition loops; ``language="zh"``. Whisper writes Traditional
characters about half the time, so every text goes through ``simplified.to_simplified``.

Confidence (0..1), per segment ``exp(avg_logprob) * (1 - no_speech_prob)``: the mean per-token
probability of the decoded text, discounted by Whisper's own estimate that the window held no
speech. The reply's confidence is the mean over segments weighted by their number of characters;
an empty transcript has confidence 0. The recognizer only reports it: the session decides which
confidence is too low to score (``simulator.session.LOW_CONFIDENCE``).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import EngineMissing
from simulator.engines.audio_in import SAMPLE_RATE, audio_to_float, load_wav, one_line
from simulator.engines.base import Heard, Source
from simulator.engines.simplified import to_simplified
from simulator.engines.whisper_model import FASTER_WHISPER_INSTALL, resolve_model

if TYPE_CHECKING:
    import numpy as np
    import speech_recognition as sr

DECODE_OPTIONS: dict[str, Any] = {
    "language": "zh",
    "beam_size": 5,
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "no_repeat_ngram_size": 3,
}


PHRASE_PADDING_S = 2.0  # silence appended to a phrase for the short-window encoder
PHRASE_MAX_S = 25.0  # longer audio uses the normal 30 s window


@dataclass
class Segment:
    start: float
    end: float
    text: str
    confidence: float


@dataclass
class Transcript:
    text: str  # Simplified Chinese
    confidence: float  # 0..1, see the module docstring
    duration_s: float  # length of the audio
    segments: list[Segment] = field(default_factory=list)
    seconds_to_recognize: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "duration_s": round(self.duration_s, 3),
            "segments": [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text} for s in self.segments],
        }


def segment_confidence(avg_logprob: float, no_speech_prob: float) -> float:
    return max(0.0, min(1.0, math.exp(avg_logprob) * (1.0 - no_speech_prob)))


def combine_confidence(segments: list[Segment]) -> float:
    """Character-weighted mean, so a long clear segment outweighs a short unclear one; 0 when empty."""
    weights = [len(s.text) for s in segments]
    if not sum(weights):
        return 0.0
    return sum(s.confidence * w for s, w in zip(segments, weights, strict=True)) / sum(weights)


class WhisperRecognizer:
    """One loaded faster-whisper model; ``transcribe`` accepts AudioData, a WAV path or float samples."""

    def __init__(self, model: str | None = None, *, cpu_threads: int = 2, show_progress: bool = True):
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise EngineMissing("faster-whisper 语音识别", FASTER_WHISPER_INSTALL) from exc
        self.model_path = resolve_model(model, show_progress=show_progress)
        started = time.perf_counter()
        try:
            self._model = WhisperModel(self.model_path, device="cpu", compute_type="int8", cpu_threads=cpu_threads)
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineMissing(
                f"语音识别模型 {self.model_path} 无法加载 ({one_line(exc)})", "run_training.py setup-model"
            ) from exc
        self.load_seconds = time.perf_counter() - started
        self._lock = threading.Lock()
        self._phrase_setup: tuple[Any, list[int], list[int]] | None = None

    def transcribe(
        self, audio: sr.AudioData | str | Path | np.ndarray, *, vad_filter: bool = True, beam_size: int | None = None
    ) -> Transcript:
        """Recognize one reply (float samples must be 16 kHz mono). ``vad_filter`` drops silences first
        (Silero VAD): without it Whisper invents text in long silences."""
        import numpy as np

        if isinstance(audio, str | Path):
            samples = audio_to_float(load_wav(audio))
        elif isinstance(audio, np.ndarray):
            samples = audio.astype(np.float32, copy=False)
        else:
            samples = audio_to_float(audio)
        duration = samples.size / SAMPLE_RATE
        if samples.size < SAMPLE_RATE // 10:  # under 0.1 s: nothing to hear
            return Transcript("", 0.0, duration)
        options = dict(DECODE_OPTIONS)
        if beam_size:
            options["beam_size"] = beam_size
        started = time.perf_counter()
        with self._lock:
            segments_iter, _info = self._model.transcribe(samples, vad_filter=vad_filter, **options)
            raw_segments = list(segments_iter)  # decoding happens while iterating: keep it under the lock
        segments = [
            Segment(
                min(s.start, duration),
                min(s.end, duration),  # the last timestamp can fall in Whisper's padding
                to_simplified(s.text.strip()),
                segment_confidence(s.avg_logprob, s.no_speech_prob),
            )
            for s in raw_segments
            if s.text.strip()
        ]
        text = "".join(s.text for s in segments)
        return Transcript(text, combine_confidence(segments), duration, segments, time.perf_counter() - started)

    def transcribe_phrase(self, audio: sr.AudioData | np.ndarray) -> Transcript:
        """Recognize one short phrase (cut at a pause while the trainee speaks), about 4x faster.

        faster-whisper always pads the input to Whisper's 30 s window, so the encoder costs the same
        for a 1 s phrase as for 30 s of speech (~0.6 s of the ~0.8 s per call here). CTranslate2
        accepts a shorter window: the phrase plus ``PHRASE_PADDING_S`` of silence. On the bench's
        hotline sentences that is ~4x faster for a character error rate of 0.13 instead of 0.11
        (less padding lost more accuracy). Longer phrases take the normal path.
        """
        import numpy as np

        samples = audio.astype(np.float32, copy=False) if isinstance(audio, np.ndarray) else audio_to_float(audio)
        duration = samples.size / SAMPLE_RATE
        if duration > PHRASE_MAX_S:
            return self.transcribe(samples, vad_filter=False)
        if samples.size < SAMPLE_RATE // 10:
            return Transcript("", 0.0, duration)
        import ctranslate2

        started = time.perf_counter()
        padded = np.concatenate([samples, np.zeros(int(PHRASE_PADDING_S * SAMPLE_RATE), dtype=np.float32)])
        with self._lock:
            tokenizer, prompt, suppress = self._phrase_decoding()
            features = self._model.feature_extractor(padded)
            frames = features.shape[-1] - features.shape[-1] % 2  # the encoder halves the frame count
            batch = np.ascontiguousarray(features[np.newaxis, :, :frames], dtype=np.float32)
            result = self._model.model.generate(
                ctranslate2.StorageView.from_array(batch),
                [prompt],
                beam_size=DECODE_OPTIONS["beam_size"],
                no_repeat_ngram_size=DECODE_OPTIONS["no_repeat_ngram_size"],
                max_length=self._model.max_length // 2,
                return_scores=True,
                return_no_speech_prob=True,
                suppress_blank=True,
                suppress_tokens=suppress,
            )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        # The same normalisation as faster-whisper, so both paths share one confidence scale.
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = to_simplified(tokenizer.decode(tokens).strip())
        if result.no_speech_prob > 0.6 and avg_logprob < -1.0:  # faster-whisper's "this was not speech" rule
            text = ""
        segments = (
            [Segment(0.0, duration, text, segment_confidence(avg_logprob, result.no_speech_prob))] if text else []
        )
        return Transcript(text, combine_confidence(segments), duration, segments, time.perf_counter() - started)

    def _phrase_decoding(self) -> tuple[Any, list[int], list[int]]:
        if self._phrase_setup is None:
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens

            tokenizer = Tokenizer(
                self._model.hf_tokenizer,
                self._model.model.is_multilingual,
                task="transcribe",
                language=DECODE_OPTIONS["language"],
            )
            prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
            self._phrase_setup = (tokenizer, prompt, list(get_suppressed_tokens(tokenizer, [-1])))
        return self._phrase_setup


_recognizers: dict[str | None, WhisperRecognizer] = {}
_recognizers_lock = threading.Lock()


def get_recognizer(model: str | None = None, *, show_progress: bool = True) -> WhisperRecognizer:
    """The process's recognizer for ``model`` (None: the configured default), loaded on first call."""
    with _recognizers_lock:
        if model not in _recognizers:
            _recognizers[model] = WhisperRecognizer(model, show_progress=show_progress)
        return _recognizers[model]


def recognize_file(path: str | Path, *, model: str | None = None) -> Heard:
    """A scripted reply given as a .wav file: its transcript, confidence and speech metrics."""
    from simulator.engines.speech_metrics import measure

    audio = load_wav(path)
    transcript = get_recognizer(model).transcribe(audio)
    metrics = measure(audio_to_float(audio), SAMPLE_RATE, transcript.text)
    return Heard(
        text=transcript.text,
        source=Source.WAV,
        confidence=transcript.confidence,
        audio_path=str(path),
        duration_s=transcript.duration_s,
        metrics=metrics.as_dict(),
    )
