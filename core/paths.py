"""Where the tool keeps its files: data (the history database, recovered calls) and what it can rebuild (rendered
caller audio, the compiled scorer)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "HOTLINE_TRAINER_CACHE"  # the tool's cache root; caller audio goes in its tts/ folder


def default_cache_root() -> Path:
    """``$HOTLINE_TRAINER_CACHE``, else ``$XDG_CACHE_HOME/hotline-trainer``, else ``~/.cache/hotline-trainer``."""
    if override := os.environ.get(CACHE_ENV):
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "hotline-trainer"


def default_data_root() -> Path:
    """``$XDG_DATA_HOME/hotline-trainer``, else ``~/.local/share/hotline-trainer``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "hotline-trainer"
