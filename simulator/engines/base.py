"""The interfaces the session engine talks to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from simulator.scenario import Voice


@dataclass
class Heard:
    """One reply from the trainee, typed or spoken."""

    text: str
    source: str  # "typed" | "scripted" | "voice" | "wav"
    confidence: float | None = None  # recognizer confidence 0..1; None for typed text
    audio_path: str | None = None  # kept recording of a spoken reply
    duration_s: float | None = None  # length of the spoken reply
    metrics: dict[str, float] = field(default_factory=dict)  # chars_per_min, silence_before_s, longest_pause_s
    hangup: bool = False  # the trainee ended the call


class Listener(Protocol):
    """Returns the trainee's next reply, or ``None`` when there are no more replies."""

    def listen(self, prompt: str) -> Heard | None: ...


class Speaker(Protocol):
    """Renders a caller line to a WAV file (cached) and plays it where an audio device exists."""

    def render(self, text: str, voice: Voice) -> Path: ...

    def play(self, wav: Path) -> bool:
        """Play the file; False when there is no audio output."""
        ...
