"""Offline Mandarin recognition with faster-whisper, behind SpeechRecognition's audio types.

Audio comes in as ``speech_recognition.AudioData`` (what ``Microphone``/``Recognizer.listen``
produce) or as a WAV path; it leaves as a ``Transcript`` in Simplified Chinese.

Why not ``Recognizer.recognize_faster_whisper``: it loads the model again on every call (about 2 s
each here). One ``WhisperModel`` is kept per process instead (``get_recognizer``), behind a lock so
the microphone's background thread and the main thread can share it.

Settings (see docs/voice.md): int8 on 2 CPU threads; ``temperature=0.0`` because the default
temperature fallback stalled for 20 s on unclear audio; ``condition_on_previous_text=False`` and
``no_repeat_ngram_size=3`` against repetition loops; ``language="zh"``. Whisper writes Traditional
characters about half the time, so every text goes through OpenCC ``t2s``.

Confidence (0..1), per segment ``exp(avg_logprob) * (1 - no_speech_prob)``: the mean per-token
probability of the decoded text, discounted by Whisper's own estimate that the window held no
speech. The reply's confidence is the mean over segments weighted by their number of characters;
an empty transcript has confidence 0. See ``LOW_CONFIDENCE`` in mic_listener.py for the threshold
below which the trainee is asked to repeat.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import EngineMissing, NotFound, TrainerError
from simulator.engines.base import Heard
from simulator.engines.whisper_model import FASTER_WHISPER_INSTALL, resolve_model

if TYPE_CHECKING:
    import numpy as np
    import speech_recognition as sr

SAMPLE_RATE = 16_000  # what Whisper expects
SAMPLE_WIDTH = 2  # 16-bit PCM, what SpeechRecognition's AudioData and AudioFile handle

DECODE_OPTIONS: dict[str, Any] = {
    "language": "zh",
    "beam_size": 5,
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "no_repeat_ngram_size": 3,
}


PHRASE_PADDING_S = 2.0  # silence appended to a phrase for the short-window encoder
PHRASE_MAX_S = 25.0  # longer audio uses the normal 30 s window

# Below this recognizer confidence (or with an empty transcript) the trainee is asked "请再说一遍"
# instead of being scored. On the bench, clear neural-voice speech scored 0.63-0.81 and robotic
# espeak-ng speech the recognizer garbled scored 0.00-0.48; silence and noise give 0.
LOW_CONFIDENCE = 0.5


def needs_repeat(heard: Heard) -> bool:
    """A spoken reply too unclear to score fairly: empty, or recognized with low confidence."""
    if heard.confidence is None:  # typed
        return not heard.text.strip()
    return not heard.text.strip() or heard.confidence < LOW_CONFIDENCE


class BadAudio(TrainerError):
    """A file that is not readable audio."""


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


_t2s = None

# OpenCC keeps 著 (it is also a Simplified character), but Whisper writes the Traditional 著 for 着 as
# in 著急 -> 着急, which the guide's empathy phrases need. Simplified keeps 著 only in these words.
_ZHU_WORDS = re.compile(r"著(?=名|作|称|述|录|书|者)|(?<=[显土卓昭论名专原巨编译遗合撰拙新大])著")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified with OpenCC's t2s table (Whisper often writes Traditional)."""
    global _t2s
    if _t2s is None:
        try:
            from opencc import OpenCC
        except ImportError as exc:
            raise EngineMissing("繁简转换 (OpenCC)", "pip install opencc-python-reimplemented") from exc
        _t2s = OpenCC("t2s")
    simplified = _t2s.convert(text)
    if "著" not in simplified:
        return simplified
    keep = {m.start() for m in _ZHU_WORDS.finditer(simplified)}
    return "".join("着" if ch == "著" and i not in keep else ch for i, ch in enumerate(simplified))


# --- audio in -------------------------------------------------------------------------------


def load_wav(path: str | Path) -> sr.AudioData:
    """Any WAV (16/24/32-bit PCM or float, any rate, mono or stereo) as 16 kHz 16-bit mono AudioData.

    soundfile reads what ``sr.AudioFile`` cannot (float32 and WAVE_FORMAT_EXTENSIBLE files, as
    neural voices and many recorders write); the result is SpeechRecognition's own type.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"找不到音频文件 {path}")
    try:
        import soundfile
    except ImportError as exc:
        raise EngineMissing("音频读取 (soundfile)", "pip install soundfile") from exc
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError, ValueError) as exc:
        raise BadAudio(f"{path} 不是可读的 WAV 音频文件 ({_short(exc)}) - 请提供 PCM 或 float 格式的 .wav 文件") from exc
    if samples.size == 0:
        raise BadAudio(f"{path} 不含任何音频 - 请重新录制")
    mono = samples.mean(axis=1)
    return float_to_audio_data(resample(mono, rate, SAMPLE_RATE), SAMPLE_RATE)


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def float_to_audio_data(samples: np.ndarray, rate: int) -> sr.AudioData:
    import numpy as np
    import speech_recognition as sr

    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    return sr.AudioData(pcm.tobytes(), rate, SAMPLE_WIDTH)


def audio_to_float(audio: sr.AudioData) -> np.ndarray:
    """AudioData (any width/rate) -> float32 samples in -1..1 at 16 kHz, what Whisper takes."""
    import numpy as np

    raw = audio.get_raw_data(convert_width=SAMPLE_WIDTH)
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return resample(samples, audio.sample_rate, SAMPLE_RATE)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling in plain numpy: a windowed-sinc low-pass, then linear interpolation.

    Good enough for speech (the low-pass sits at 90% of the lower Nyquist frequency, so no aliasing
    into the band Whisper listens to) and avoids a SciPy dependency.
    """
    import numpy as np

    samples = np.asarray(samples, dtype=np.float32)
    if rate == target or samples.size == 0:
        return samples
    if target < rate:
        cutoff = 0.9 * (target / 2) / rate  # cycles per input sample
        taps = np.arange(-32, 33)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(taps.size)
        samples = np.convolve(samples, (kernel / kernel.sum()).astype(np.float32), mode="same")
    n_out = int(round(samples.size * target / rate))
    positions = np.arange(n_out, dtype=np.float64) * (rate / target)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


# --- the recognizer -------------------------------------------------------------------------


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
                f"语音识别模型 {self.model_path} 无法加载 ({_short(exc)})", "run_training.py setup-model"
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
        segments = [Segment(0.0, duration, text, segment_confidence(avg_logprob, result.no_speech_prob))] if text else []
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


def transcribe_file(path: str | Path, *, model: str | None = None) -> Transcript:
    return get_recognizer(model).transcribe(path)


def recognize_file(path: str | Path, *, model: str | None = None) -> Heard:
    """A scripted reply given as a .wav file: its transcript, confidence and speech metrics."""
    from simulator.engines.speech_metrics import measure

    audio = load_wav(path)
    transcript = get_recognizer(model).transcribe(audio)
    metrics = measure(audio_to_float(audio), SAMPLE_RATE, transcript.text)
    return Heard(
        text=transcript.text,
        source="wav",
        confidence=transcript.confidence,
        audio_path=str(path),
        duration_s=transcript.duration_s,
        metrics=metrics.as_dict(),
    )
