"""Play a WAV file where the machine has an audio output; report False (never raise) where it has none.

Order: sounddevice + soundfile (PortAudio), then ``aplay`` (ALSA), then give up. The caller of ``play_wav`` prints
the one-line "no audio device" notice; this module stays silent so it can be called once per line.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

APLAY_TIMEOUT_S = 120  # longer than any caller line; a hung ALSA device must not hang the call


def _sounddevice_output():
    """The sounddevice module when PortAudio has a default output device, else None."""
    try:
        import sounddevice
    except (ImportError, OSError):  # OSError: the PortAudio library itself is missing
        return None
    try:
        device = sounddevice.query_devices(kind="output")
    except (sounddevice.PortAudioError, OSError, ValueError):
        return None
    if not device or device.get("max_output_channels", 0) < 1:
        return None
    return sounddevice


def _aplay_has_card() -> bool:
    aplay = shutil.which("aplay")
    if aplay is None:
        return False
    try:
        listing = subprocess.run([aplay, "-l"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return listing.returncode == 0 and "card " in listing.stdout


def audio_output_available() -> bool:
    """True when ``play_wav`` has a device to play on (PortAudio's default output, or an ALSA card)."""
    return _sounddevice_output() is not None or _aplay_has_card()


def _play_with_sounddevice(sounddevice, wav: Path) -> bool:
    try:
        import soundfile
    except (ImportError, OSError):
        return False
    try:
        samples, sample_rate = soundfile.read(str(wav), dtype="int16", always_2d=False)
        sounddevice.play(samples, sample_rate)
        try:
            sounddevice.wait()
        except KeyboardInterrupt:
            sounddevice.stop()  # Ctrl-C ends the line at once; the session decides what Ctrl-C means
            raise
    except (sounddevice.PortAudioError, OSError, ValueError, RuntimeError):
        return False
    return True


def _play_with_aplay(wav: Path) -> bool:
    aplay = shutil.which("aplay")
    if aplay is None:
        return False
    try:
        # aplay exits 1 when there is no device; its complaint goes to our captured stderr, not the trainee's screen
        done = subprocess.run([aplay, "-q", str(wav)], capture_output=True, timeout=APLAY_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def play_wav(wav: Path) -> bool:
    """Play the file to the end (blocking). False when nothing could play it; never raises for a missing device."""
    wav = Path(wav)
    if not wav.is_file():
        return False
    sounddevice = _sounddevice_output()
    if sounddevice is not None and _play_with_sounddevice(sounddevice, wav):
        return True
    return _play_with_aplay(wav)
