"""The interfaces the session engine talks to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from simulator.scenario import Voice


class Source(StrEnum):
    """Where a reply came from. The values are stored with each turn in the history and printed by ``--json``."""

    TYPED = "typed"
    SCRIPTED = "scripted"  # a line of a replies file (mentors, tests, demos)
    VOICE = "voice"  # the microphone
    WAV = "wav"  # a recording named in a replies file

    @property
    def spoken(self) -> bool:
        """The reply went through the recognizer, so its text may differ from what was said."""
        return self in (Source.VOICE, Source.WAV)


@dataclass
class Heard:
    """One reply from the trainee, typed or spoken."""

    text: str
    source: Source
    confidence: float | None = None  # recognizer confidence 0..1; None for typed text
    audio_path: str | None = None  # kept recording of a spoken reply
    duration_s: float | None = None  # length of the spoken reply
    metrics: dict[str, float] = field(default_factory=dict)  # chars_per_min, silence_before_s, longest_pause_s
    hangup: bool = False  # the trainee ended the call

    def __post_init__(self) -> None:
        self.source = Source(self.source)  # a plain "typed" is accepted; an unknown name fails here, not in the history

    @property
    def spoken(self) -> bool:
        return self.source.spoken

    @property
    def scripted(self) -> bool:
        return self.source is Source.SCRIPTED


class Listener(Protocol):
    """Returns the trainee's next reply, or ``None`` when there are no more replies."""

    def listen(self, prompt: str) -> Heard | None: ...


class Speaker(Protocol):
    """Renders a caller line to a WAV file (cached) and plays it where an audio device exists."""

    def render(self, text: str, voice: Voice) -> Path: ...

    def play(self, wav: Path) -> bool:
        """Play the file; False when there is no audio output."""
        ...
