"""The timing harness: warm-up excluded, medians, synchronised GPU timing."""

from __future__ import annotations

import time

import pytest
import torch

from grader.child.timing import time_repeats, wall_time


def test_warmup_runs_are_not_timed():
    calls = []

    def slow_first():
        calls.append(None)
        time.sleep(0.2 if len(calls) == 1 else 0.001)

    timing = time_repeats(slow_first, warmup=1, repeats=5)
    assert len(calls) == 6 and len(timing.seconds) == 5
    assert timing.median < 0.1


def test_wall_time_returns_the_result():
    result, seconds = wall_time(lambda: 42)
    assert result == 42 and seconds >= 0


@pytest.mark.gpu
def test_unsynchronised_timing_is_wrong_and_the_harness_is_not():
    x = torch.randn(4096, 4096, device="cuda")

    def work():
        for _ in range(20):
            x @ x

    work()
    torch.cuda.synchronize()
    started = time.perf_counter()
    work()  # returns once the kernels are queued
    naive = time.perf_counter() - started
    torch.cuda.synchronize()
    timed = time_repeats(work, "cuda", warmup=1, repeats=3).median
    _, synced = wall_time(work, "cuda")
    # 20 products of 4096^2 matrices take milliseconds of GPU time; queuing them takes far less.
    assert naive < timed / 3
    assert synced == pytest.approx(timed, rel=0.5)
