"""The timing harness (see ``grader/child/timing.py``, where it lives so that
the child process can time GPU kernels with it too)."""

from grader.child.timing import Timing, synchronize, time_interleaved, time_repeats, wall_time

__all__ = ["Timing", "synchronize", "time_interleaved", "time_repeats", "wall_time"]
