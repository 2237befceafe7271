"""One harness for every timed check, on CPU or GPU.

CUDA runs asynchronously: a host clock read right after launching work measures
the launch, not the work. So the harness synchronises before and after, times
kernels with CUDA events (device-side timestamps), excludes warm-up runs, and
reports the median of repeats. Scores use ratios against a reference timed in
the same run, never absolute times.

torch.utils.benchmark.Timer synchronises but reads the host clock around whole
Python statements; CUDA events are needed to time the kernels themselves, so
this small harness is written here.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch


@dataclass(frozen=True)
class Timing:
    seconds: tuple[float, ...]  # one per timed repeat, warm-up excluded
    device: str

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def synchronize(device: torch.device | str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_repeats(fn: Callable[[], Any], device: torch.device | str = "cpu", warmup: int = 3,
                 repeats: int = 10) -> Timing:
    """Time ``fn()`` ``repeats`` times after ``warmup`` untimed calls."""
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    synchronize(device)
    seconds = []
    for _ in range(repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            seconds.append(start.elapsed_time(end) / 1000.0)
        else:
            started = time.perf_counter()
            fn()
            seconds.append(time.perf_counter() - started)
    return Timing(tuple(seconds), str(device))


def wall_time(fn: Callable[[], Any], device: torch.device | str = "cpu") -> tuple[Any, float]:
    """``(fn(), seconds)`` for one run of a whole job (a training run), with
    the device drained before the clock starts and before it stops."""
    synchronize(device)
    started = time.perf_counter()
    result = fn()
    synchronize(device)
    return result, time.perf_counter() - started
