"""How a reply was spoken, beyond its words: speaking rate, silence before answering, long pauses.

Plain numpy on the audio's energy plus the transcript's character count:

- frames of 30 ms; a frame is *voiced* when its RMS level is above an adaptive threshold: 12 dB over
  the recording's noise floor (its 10th-percentile frame level) and never under -55 dBFS, so both
  digital silence and a steady room noise work;
- ``silence_before_s``: from the start of the recording (the moment the system started listening,
  plus ``lead_in_s`` for time that was not recorded) to the first voiced frame;
- ``longest_pause_s``: the longest unvoiced stretch between the first and the last voiced frame;
- ``chars_per_min``: spoken characters (Han characters, digits and letters, not punctuation) per
  minute of speaking time: from the first to the last voiced frame, not counting pauses of
  ``LONG_PAUSE_S`` or more (one hesitation should not make the pace look slow; it is reported as a
  pause instead). Hotline guidance asks for about ``TARGET_CHARS_PER_MIN``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Measured while speaking (pauses of 2 s or more left out), clear conversational Mandarin runs at about 200-260
# characters a minute; the neural caller voice reads at 225-316. The earlier 100-160 called every natural reply too
# fast. Slower than 140 drags on the phone; faster than 280 is hard to follow for an elderly or upset caller.
TARGET_CHARS_PER_MIN = 200
PACE_RANGE = (140, 280)  # characters per minute judged "about right" on the phone
LONG_PAUSE_S = 2.0  # a pause this long inside a reply is reported
SLOW_START_S = 3.0  # answering after this much silence is reported

FRAME_S = 0.03
FLOOR_MARGIN_DB = 12.0
MIN_THRESHOLD_DB = -55.0

_SPOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9A-Za-z]")


@dataclass(frozen=True)
class SpeechMetrics:
    chars_per_min: float  # 0 when nothing was said
    silence_before_s: float
    longest_pause_s: float
    speech_s: float  # first to last voiced frame

    def as_dict(self) -> dict[str, float]:
        return {
            "chars_per_min": round(self.chars_per_min, 1),
            "silence_before_s": round(self.silence_before_s, 2),
            "longest_pause_s": round(self.longest_pause_s, 2),
            "speech_s": round(self.speech_s, 2),
        }


def spoken_chars(text: str) -> int:
    return len(_SPOKEN.findall(text))


def frame_levels_db(samples: np.ndarray, rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS level of each frame in dBFS (samples in -1..1)."""
    import numpy as np

    size = max(1, int(rate * frame_s))
    count = len(samples) // size
    if count == 0:
        return np.zeros(0)
    frames = np.asarray(samples[: count * size], dtype=np.float64).reshape(count, size)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-5))


def voiced_frames(samples: np.ndarray, rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    import numpy as np

    levels = frame_levels_db(samples, rate, frame_s)
    if levels.size == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(levels, 10))
    return levels > max(floor + FLOOR_MARGIN_DB, MIN_THRESHOLD_DB)


def measure(samples: np.ndarray, rate: int, text: str, *, lead_in_s: float = 0.0) -> SpeechMetrics:
    """Metrics of one reply: ``samples`` float in -1..1 from the moment listening started."""
    import numpy as np

    voiced = voiced_frames(samples, rate)
    total_s = len(samples) / rate if rate else 0.0
    if not voiced.any():
        return SpeechMetrics(0.0, lead_in_s + total_s, 0.0, 0.0)
    idx = np.flatnonzero(voiced)
    first, last = int(idx[0]), int(idx[-1])
    gaps_s = (np.diff(idx) - 1) * FRAME_S  # unvoiced frames between consecutive voiced ones
    speech_s = (last - first + 1) * FRAME_S
    long_pauses_s = float(gaps_s[gaps_s >= LONG_PAUSE_S].sum())
    speaking_s = max(speech_s - long_pauses_s, FRAME_S)
    chars = spoken_chars(text)
    return SpeechMetrics(
        chars_per_min=chars / speaking_s * 60 if chars else 0.0,
        silence_before_s=lead_in_s + first * FRAME_S,
        longest_pause_s=float(gaps_s.max()) if gaps_s.size else 0.0,
        speech_s=speech_s,
    )


def notes(metrics: dict[str, float]) -> list[str]:
    """Plain-language remarks for the feedback, in the UI's language; empty when all is fine."""
    remarks = []
    cpm = metrics.get("chars_per_min", 0.0)
    if cpm and cpm > PACE_RANGE[1]:
        remarks.append(f"语速偏快 (每分钟约 {cpm:.0f} 字, 建议约 {TARGET_CHARS_PER_MIN} 字)")
    elif cpm and cpm < PACE_RANGE[0]:
        remarks.append(f"语速偏慢 (每分钟约 {cpm:.0f} 字, 建议约 {TARGET_CHARS_PER_MIN} 字)")
    if metrics.get("silence_before_s", 0.0) >= SLOW_START_S:
        remarks.append(f"开口前停顿了 {metrics['silence_before_s']:.1f} 秒, 请及时回应来电人")
    if metrics.get("longest_pause_s", 0.0) >= LONG_PAUSE_S:
        remarks.append(f"回答中有 {metrics['longest_pause_s']:.1f} 秒的停顿, 可先说\u201c请您稍等\u201d")
    return remarks
