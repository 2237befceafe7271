"""One harness for every timed check, on CPU or GPU.

CUDA runs asynchronously: a host clock read right after launching work measures
the launch, not the work. So the harness synchronises before and after, times
kernels with CUDA events (device-side timestamps), excludes warm-up runs, and
reports the median of repeats. Scores use ratios against a reference timed in
the same run, never absolute times.

torch.utils.benchmark.Timer synchronises but reads the host clock around whole
Python statements; CUDA events are needed to time the kernels themselves, so
this small harness is written here. It lives with the child's code because the
child times GPU kernels in its own process (the grader and the benchmarks
import it as ``grader.child.timing``); torch is imported only when a GPU is involved,
so the child of a numpy assignment never loads it.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Timing:
    seconds: tuple[float, ...]  # one per timed repeat, warm-up excluded
    device: str

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _is_cuda(device) -> bool:
    return str(device).startswith("cuda")


def synchronize(device) -> None:
    if _is_cuda(device):
        sys.modules["torch"].cuda.synchronize(device)


def _time_once(fn: Callable[[], Any], device) -> float:
    if _is_cuda(device):
        import torch

        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def time_interleaved(fns: dict[str, Callable[[], Any]], device="cpu", warmup: int = 3,
                     repeats: int = 10) -> dict[str, Timing]:
    """Time each of ``fns`` ``repeats`` times, taking turns (so that drift in
    the machine's speed, clocks or temperature hits all alike), after
    ``warmup`` untimed calls each."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    synchronize(device)
    seconds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            seconds[name].append(_time_once(fn, device))
    return {name: Timing(tuple(s), str(device)) for name, s in seconds.items()}


def time_repeats(fn: Callable[[], Any], device="cpu", warmup: int = 3, repeats: int = 10) -> Timing:
    """Time ``fn()`` ``repeats`` times after ``warmup`` untimed calls."""
    return time_interleaved({"fn": fn}, device, warmup, repeats)["fn"]


def wall_time(fn: Callable[[], Any], device="cpu") -> tuple[Any, float]:
    """``(fn(), seconds)`` for one run of a whole job (a training run), with
    the device drained before the clock starts and before it stops."""
    synchronize(device)
    started = time.perf_counter()
    result = fn()
    synchronize(device)
    return result, time.perf_counter() - started
