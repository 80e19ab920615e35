"""Audio as the recognizer takes it: 16 kHz, 16-bit, mono.

Audio crosses the engine boundary as ``speech_recognition.AudioData`` (what ``Microphone`` produces); WAV files are
read with soundfile, which reads what ``sr.AudioFile`` cannot (float32 and WAVE_FORMAT_EXTENSIBLE files, as neural
voices and many recorders write), and resampled in plain numpy (no SciPy dependency).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import EngineMissing, NotFound, TrainerError

if TYPE_CHECKING:
    import numpy as np
    import speech_recognition as sr

SAMPLE_RATE = 16_000  # what Whisper expects
SAMPLE_WIDTH = 2  # 16-bit PCM, what SpeechRecognition's AudioData and AudioFile handle


class BadAudio(TrainerError):
    """A file that is not readable audio."""


def one_line(exc: BaseException) -> str:
    """A library's error message cut to fit a one-line CLI error."""
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def load_wav(path: str | Path) -> sr.AudioData:
    """Any WAV (16/24/32-bit PCM or float, any rate, mono or stereo) as 16 kHz 16-bit mono AudioData."""
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
        raise BadAudio(
            f"{path} 不是可读的 WAV 音频文件 ({one_line(exc)}) - 请提供 PCM 或 float 格式的 .wav 文件"
        ) from exc
    if samples.size == 0:
        raise BadAudio(f"{path} 不含任何音频 - 请重新录制")
    mono = samples.mean(axis=1)
    return float_to_audio_data(resample(mono, rate, SAMPLE_RATE), SAMPLE_RATE)


def float_to_audio_data(samples: np.ndarray, rate: int) -> sr.AudioData:
    import numpy as np
    import speech_recognition as sr

    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    return sr.AudioData(pcm.tobytes(), rate, SAMPLE_WIDTH)


def pcm16_to_float(raw: bytes) -> np.ndarray:
    """16-bit little-endian PCM bytes -> float32 samples in -1..1."""
    import numpy as np

    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def audio_to_float(audio: sr.AudioData) -> np.ndarray:
    """AudioData (any width/rate) -> float32 samples in -1..1 at 16 kHz, what Whisper takes."""
    return resample(pcm16_to_float(audio.get_raw_data(convert_width=SAMPLE_WIDTH)), audio.sample_rate, SAMPLE_RATE)


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
