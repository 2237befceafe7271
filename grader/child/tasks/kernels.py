"""Builtins of assignment 11 (``builtin:kernels.<name>``), the kernel lab in Triton. Loaded by path in the child,
like ``torch_support.py``; never imports the rest of ``grader``.
"""

from __future__ import annotations

import functools
import time


def _timed_by_the_cpu_clock(kernel_call, quantiles) -> list[float]:
    """A benchmarker as Triton's autotuner calls one: ``kernel_call`` run once, its milliseconds for each quantile."""
    start = time.perf_counter()
    kernel_call()
    return [(time.perf_counter() - start) * 1e3] * len(quantiles)


def autotune_on_the_cpu() -> None:
    """Before the submission is imported, in CPU mode (``Limits.cpu_setup``): ``@triton.autotune`` with several
    configurations times each with the active GPU driver's benchmarker, and Triton's interpreter has no driver
    ("0 active drivers"), so a correct autotuned kernel would fail every case without a GPU. Here the
    configurations are timed by the CPU clock instead; which one wins changes no result, since each is correct or
    wrong on its own. A benchmarker the student gives (``do_bench=``) is used as given. Left alone where Triton's
    autotuner is not built as this expects (a later Triton may time its interpreted kernels itself)."""
    from triton.runtime.autotuner import Autotuner

    if not isinstance(Autotuner.__dict__.get("do_bench"), functools.cached_property):
        return

    def do_bench(autotuner):
        return getattr(autotuner, "_do_bench", None) or _timed_by_the_cpu_clock

    Autotuner.do_bench = property(do_bench)


BUILTINS = {"autotune_on_the_cpu": autotune_on_the_cpu}
