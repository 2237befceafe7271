"""Efficiency points (``spec.Speed``), given only to a function that passed
every case, by one of two strategies:

* against torch's own implementation of the program, run here in the grader
  on the same inputs, both sides timed by the grader (``time_against_torch``);
* (``Speed.baseline``) against a trusted builtin of the child such as torch's
  own kernel, timed in the student's child by the shared harness
  (``grader/child/timing.py``: warm-up excluded, synchronised, CUDA events on
  a GPU) — ``time_in_child``.

Every call, warm-up included, gets its own inputs, drawn as the case named
is, with the shapes it has; each result the student's function computed while
timed is checked against the reference on its inputs: remembering an earlier
answer, or answering fast and wrong once correctness is settled, loses the point.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, Mapping, Protocol

import numpy as np

from grader.child.protocol import ErrorKind, Gradient, Request, Timing
from grader.judging import expectations, problems
from grader.results import CaseResult
from grader.sandbox import Outcome
from grader.spec import GradedFunction, Speed

BASELINE_WARMUP = 3  # untimed calls each before a builtin baseline is timed in the child
# A function this many times over its speed limit on its first timed call is not timed again: a loop version
# would otherwise spend most of its grading in the speed check, for a point it cannot get.
HOPELESS = 3.0

Measured = tuple[float, list[dict[str, np.ndarray]]]  # the time ratio, and the outputs of every timed call


class Runner(Protocol):
    def run(self, request: Request, inputs: dict, time_limit: float) -> Outcome: ...


def grade_speed(fn: GradedFunction, request: Request, case_name: str, fresh: Callable[[int], dict], student: Runner,
                limit: float, correct: bool) -> tuple[CaseResult, str]:
    """The speed check's result and the note on it. ``fresh(i)``: the inputs of
    the ``i``-th call, drawn as case ``case_name``'s are."""
    policy = fn.speed
    assert policy is not None  # graded only for a function with a speed check
    on = "GPU" if request.device == "cuda" else "CPU"
    who = policy.baseline or "torch"
    name = f"speed (vs {f'{policy.baseline} on the {on}' if policy.baseline else 'torch'}, on '{case_name}')"
    if policy.gpu_only and request.device != "cuda":
        return (CaseResult(name, 0.0, policy.points, speed=True, skipped="GPU-only check: no CUDA GPU here"),
                "speed: skipped (no GPU)")
    if not correct:
        return (CaseResult(name, 0.0, policy.points, ["speed is graded once every case passes"], speed=True),
                "speed: not graded")
    checked: tuple[str, ...] | None = None  # which outputs of each timed call are checked: all of them
    if policy.baseline:
        sets = [fresh(i) for i in range(BASELINE_WARMUP + policy.repeats)]
        # Gradients are a step of the graded program after the call: what a timed call returns is the rest.
        checked = tuple(n for n, part in request.program.outputs.items() if not isinstance(part, Gradient))
        measured = time_in_child(student, request, policy, sets, checked, limit)
        sets = sets[BASELINE_WARMUP:]
    else:
        sets = [fresh(i) for i in range(policy.repeats + 1)]
        measured = time_against_torch(student, policy.torch or fn.reference, request, sets, limit,
                                      give_up=HOPELESS * policy.max_ratio)
    if isinstance(measured, Outcome):
        return (CaseResult(name, 0.0, policy.points, [f"while timing: {measured.message}"], speed=True),
                "speed: timing failed")
    ratio, outputs = measured
    wrong = [found for inputs, got in zip(sets, outputs)
             if (found := problems(fn, {n: e for n, e in expectations(fn, inputs).items()
                                        if checked is None or n in checked}, got))]
    if wrong:
        first = next(iter(wrong[0].values()))
        return CaseResult(name, 0.0, policy.points, [
            f"a result computed while timing was wrong (on {len(wrong)} of {len(outputs)} fresh inputs of this "
            f"case's shapes), so speed is not graded:\n{first}"], speed=True), "speed: a timed result was wrong"
    note = f"speed: {ratio:.2f}x {who}'s time (full points up to {policy.max_ratio:g}x)"
    if ratio <= policy.max_ratio:
        return CaseResult(name, policy.points, policy.points, speed=True), note
    return CaseResult(name, 0.0, policy.points, [f"{ratio:.1f}x slower than {who} (limit {policy.max_ratio:g}x): "
                                                 f"vectorise the loops"], speed=True), note


def time_in_child(student: Runner, request: Request, policy: Speed, sets: list[dict], checked: tuple[str, ...],
                  limit: float) -> Measured | Outcome:
    """The student's median time over the builtin baseline's, as the child's
    harness measured them on ``sets`` (the first BASELINE_WARMUP to warm up),
    and the ``checked`` outputs of each timed call."""
    assert policy.baseline is not None  # the in-child strategy times against a builtin
    timed = Request(request.program, request.device, request.forbidden,
                    Timing(policy.baseline, BASELINE_WARMUP, policy.repeats, checked))
    # Only what the call takes: a gradient's cotangent (dout) would double what goes over the wire.
    taken = request.program.taken
    outcome = student.run(timed, {f"{k}@{i}": v for i, inputs in enumerate(sets) for k, v in inputs.items()
                                  if k in taken}, limit)
    if not outcome.ok:
        return outcome
    seconds = [outcome.outputs.get(side, np.zeros(0)) for side in ("student", "baseline")]
    if any(s.size != policy.repeats or not np.all(s > 0) for s in seconds):
        return Outcome(error=ErrorKind.PROTOCOL, message="the process running your code sent back no valid times")
    outputs = [{n: outcome.outputs[f"{n}@{i}"] for n in checked if f"{n}@{i}" in outcome.outputs}
               for i in range(BASELINE_WARMUP, len(sets))]
    return float(np.median(seconds[0]) / np.median(seconds[1])), outputs


def time_against_torch(student: Runner, torch_program: Callable[[Mapping], object], request: Request,
                       input_sets: list[dict], limit: float, give_up: float) -> Measured | Outcome:
    """Median student time over the median time of ``torch_program`` (torch's
    implementation of the same program, run here on one thread, as the child
    runs on one), one call each in turn on each of ``input_sets`` (so that
    drift in the machine's speed hits both), the first round a warm-up; and
    the student's outputs on every set, for the caller to check. Both are
    timed here, the student's around the round trip, so the student's code
    cannot misreport its time; the round trip's own cost (sending the arrays)
    is small next to the timed shapes' work. A student over ``give_up``
    times torch's time on the first timed round is not timed further."""
    times: dict[str, list[float]] = {"student": [], "torch": []}
    outputs = []
    for i, inputs in enumerate(input_sets):
        started = time.perf_counter()
        outcome = student.run(request, inputs, limit)
        elapsed = time.perf_counter() - started
        if not outcome.ok:
            return outcome
        outputs.append(outcome.outputs)
        started = time.perf_counter()
        torch_program(inputs)
        if i:
            times["student"].append(elapsed)
            times["torch"].append(time.perf_counter() - started)
            if elapsed > give_up * times["torch"][-1]:
                break
    return statistics.median(times["student"]) / statistics.median(times["torch"]), outputs
