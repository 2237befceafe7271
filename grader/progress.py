"""The progress line a long command shows on a terminal."""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time

PROGRESS_AFTER = 3.0  # seconds of silence on a terminal before a progress line appears


@contextlib.contextmanager
def progress_line(label: str, after: float = PROGRESS_AFTER):
    """On a terminal (stderr), once ``after`` seconds have gone by, one line
    saying what runs and for how long, redrawn every second and cleared at
    the end. Nothing where stderr is a file or a CI log: they get the result."""
    if not sys.stderr.isatty():
        yield
        return
    done = threading.Event()
    started = time.monotonic()

    def draw() -> None:
        if done.wait(after):
            return
        while True:
            sys.stderr.write(f"\r{label}: {math.floor(time.monotonic() - started)} s (Ctrl-C stops)")
            sys.stderr.flush()
            if done.wait(1.0):
                break
        sys.stderr.write("\r\033[K")  # the line cleared: what follows starts at the margin
        sys.stderr.flush()

    thread = threading.Thread(target=draw, name="progress line", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
