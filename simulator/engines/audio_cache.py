"""A folder of rendered caller lines, so each line is synthesized once per engine and voice.

Files are named by the sha256 of (engine, voice settings, spoken text) and written atomically (a temporary file in the
same folder, then ``os.replace``), so two trainer processes rendering the same line never leave a half-written WAV.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

from core.paths import default_cache_root
from simulator.scenario import Voice

WAV_HEADER_BYTES = 44


def default_tts_dir() -> Path:
    return default_cache_root() / "tts"


def cache_key(engine: str, voice: Voice, text: str) -> str:
    """Stable across runs and platforms: JSON with sorted keys, not ``hash()``."""
    material = json.dumps(
        {"engine": engine, "voice": dataclasses.asdict(voice), "text": text},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def wav_is_complete(path: Path) -> bool:
    """A readable PCM WAV with at least one frame whose data chunk is all on disk.

    The header's frame count is written when the writer closes the file, so a file still being written (or cut
    short) fails this check.
    """
    try:
        with wave.open(str(path), "rb") as wav:
            frames = wav.getnframes()
            frame_bytes = wav.getsampwidth() * wav.getnchannels()
    except (OSError, EOFError, wave.Error):
        return False
    return frames > 0 and path.stat().st_size >= WAV_HEADER_BYTES + frames * frame_bytes


class AudioCache:
    """Maps (engine, voice, text) to a WAV file, rendering it on a miss."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory is not None else default_tts_dir()

    def path_for(self, engine: str, voice: Voice, text: str) -> Path:
        return self.directory / f"{cache_key(engine, voice, text)}.wav"

    def lookup(self, engine: str, voice: Voice, text: str) -> Path | None:
        path = self.path_for(engine, voice, text)
        return path if wav_is_complete(path) else None

    def fetch(self, engine: str, voice: Voice, text: str, render_into: Callable[[Path], None]) -> Path:
        """The cached file, or a new one written by ``render_into(temporary_path)`` and then moved into place.

        ``render_into`` must leave a complete WAV at the path it is given, or raise. A corrupt cached file (e.g. from
        a disk that filled up) is rendered again rather than played.
        """
        if hit := self.lookup(engine, voice, text):
            return hit
        final = self.path_for(engine, voice, text)
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(prefix=f".{final.stem[:16]}.", suffix=".tmp.wav", dir=self.directory)
        os.close(handle)
        temporary = Path(temporary_name)
        try:
            render_into(temporary)
            # Another process may have finished the same line meanwhile; replacing it with an identical render is
            # harmless, and os.replace is atomic on POSIX and Windows.
            try:
                os.replace(temporary, final)
            except PermissionError:
                # Windows refuses to replace a file that is open (being played): the other copy is just as good.
                if not wav_is_complete(final):
                    raise
        finally:
            temporary.unlink(missing_ok=True)
        return final

    def clear(self) -> int:
        """Delete every cached WAV; returns how many were removed."""
        removed = 0
        if self.directory.is_dir():
            for path in self.directory.glob("*.wav"):
                if path.name.startswith("."):
                    continue  # another process's render in progress
                path.unlink(missing_ok=True)
                removed += 1
        return removed
