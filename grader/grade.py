"""``dlgrade grade``: run a submission through an assignment's hidden suite.

The trusted side makes every input and reference and does every comparison;
the student's functions run in a ``Sandbox`` that only ever sees inputs.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from grader.compare import as_expected, compare, error_map, matches
from grader.course import Course, Secret, SecretError, infer_assignment
from grader.datasets import DatasetError
from grader.forbidden import scan
from grader.submissions import SubmissionError, materialize
from grader.mutants import mutant_outputs
from grader.report import CaseResult, FunctionResult, GradeResult, write_text_atomically
from grader.sandbox import Outcome, Sandbox
from grader import suites as suites_package
from grader.spec import Bug, Case, GradedFunction, Property, Suite
from grader.training import grade_training

# References are small: torch's thread pool only makes them wait for a core
# that the student's process holds (batch norm: 60 ms a call instead of 0.1 ms),
# and batch workers run side by side.
torch.set_num_threads(1)


def grade_submission(suite: Suite, path: Path, secret: Secret, course: Course | None = None,
                     hide: tuple[Path, ...] = (), skipped: str = "exclude") -> GradeResult:
    """``hide``: folders the student's code must not see besides the solutions
    and suites (a batch adds the class's submissions and results).
    ``skipped``: how checks that cannot run here (GPU-only ones on a machine
    without a GPU) count: "exclude" leaves their points out of the total,
    "zero" counts them as lost. Either way they are reported as skipped."""
    course = course or Course.locate()
    started = time.perf_counter()
    notices = []
    device = gpu_device() if suite.gpu else "cpu"
    if secret.is_development:
        notices.append("graded with the development seed: set DLGRADE_SEED for real grading")
    solution = course.solution_file(suite)
    if solution is None and any(fn.speed for fn in suite.functions):
        notices.append("no reference solution here: speed is not graded")
    status, message = "graded", ""
    hide = (course.root / "solutions", Path(suites_package.__file__).parent, *hide)
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dlgrade-submission-")))
        source = ""
        try:
            module_file = materialize(path, suite, scratch)
            source = module_file.read_text(errors="replace")
            student = stack.enter_context(Sandbox(module_file, suite.module, suite.limits, hide, helpers=path.is_dir()))
        except SubmissionError as e:
            student = _Unavailable(str(e))
            status, message = "invalid", str(e)
        reference = _LazySandbox(stack, solution, suite.module, suite.limits, hide)
        deadline = time.monotonic() + suite.submission_time_limit
        functions = [_grade_function(suite, fn, secret, student, reference, solution, deadline, device, source)
                     for fn in suite.functions]
        leaderboard = []
        if suite.training and status == "graded":
            try:
                mode = suite.training.gpu if device == "cuda" else suite.training.cpu
                data = suite.training.data(mode, secret.rng(suite.assignment, suite.training.name))
            except DatasetError as e:
                status, message = "error", f"the grader's data for {suite.training.name} is missing: {e}"
            else:
                result, leaderboard = grade_training(suite.training, mode, data, student, reference)
                functions.append(result)
        notices += _confinement_notices(getattr(student, "guarantees", {}))
    if skipped == "exclude":
        for case in (c for f in functions for c in f.cases if c.skipped):
            case.max_score = 0.0
    return GradeResult(suite.assignment, str(path), functions, notices, time.perf_counter() - started, status, message,
                       leaderboard)


def gpu_device() -> str:
    """"cuda" where PyTorch sees a GPU, else "cpu"; ``DLGRADE_DEVICE=cpu``
    forces CPU mode (to try it on a GPU machine)."""
    if os.environ.get("DLGRADE_DEVICE", "").lower() == "cpu":
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _confinement_notices(guarantees: dict[str, str]) -> list[str]:
    """What the report must say about the sandbox's weaker guarantees."""
    notices = {
        ("user", "root"): "the submission ran as root: no unprivileged user can run this Python installation",
        ("network", "audit hook"): "no network namespace could be made here: sockets were refused by an audit hook only",
        ("hidden", "permissions only"): "no mount namespace could be made here: hidden folders were protected by "
                                        "permissions only",
    }
    return [text for (key, value), text in notices.items() if guarantees.get(key) == value]


class _Unavailable:
    """Stands in for the sandbox of a submission that could not be found."""

    def __init__(self, message: str):
        self.message = message

    def run(self, program, inputs, time_limit) -> Outcome:
        return Outcome(error="import", message=self.message)


class _LazySandbox:
    """The reference solution's own sandbox, started on first use (only speed
    grading needs it)."""

    def __init__(self, stack: contextlib.ExitStack, solution: Path | None, module: str, limits, hide):
        self._stack, self._solution, self._module, self._sandbox = stack, solution, module, None
        self._limits, self._hide = limits, hide

    def __bool__(self) -> bool:
        return self._solution is not None

    def get(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self._stack.enter_context(Sandbox(self._solution, self._module, self._limits, self._hide))
        return self._sandbox


TIMEOUTS_PER_FUNCTION = 2  # after this many, the function's other cases are not run


def _grade_function(suite: Suite, fn: GradedFunction, secret: Secret, student, reference: _LazySandbox,
                    solution: Path | None, deadline: float, device: str, source: str) -> FunctionResult:
    program = dict(fn.program.to_json(), device=device, forbidden=list(fn.forbidden))
    limit = fn.time_limit or suite.case_time_limit
    prepared = _prepared_cases(suite, fn, secret)
    cases = [case for case, _ in prepared]
    results, timeouts = [], 0
    violations = scan(source, fn.name, fn.forbidden)
    for case, expected in prepared:
        remaining = deadline - time.monotonic()
        if violations:
            outcome = Outcome(error="forbidden", message="\n".join(v.message(fn.name) for v in violations))
        elif remaining <= 0:
            outcome = Outcome(error="timeout", message=f"not run: the submission used up its time budget of "
                                                       f"{suite.submission_time_limit:g} s")
        elif timeouts >= TIMEOUTS_PER_FUNCTION:
            outcome = Outcome(error="timeout", message=f"not run: {fn.name} timed out on {timeouts} earlier cases")
        else:
            outcome = student.run(program, dict(case.inputs), min(limit, remaining))
            timeouts += outcome.error == "timeout"
        results.append(_grade_case(fn, program, case, expected, outcome, solution))
    notes = []
    if fn.speed:
        speed, note = _grade_speed(fn, program, cases[fn.speed.case], student, reference, limit,
                                   correct=all(r.passed for r in results), device=device)
        results.append(speed)
        notes.append(note)
    return FunctionResult(fn.name, results, notes)


_PREPARED: dict[tuple, tuple[GradedFunction, list]] = {}


def _prepared_cases(suite: Suite, fn: GradedFunction, secret: Secret) -> list[tuple[Case, dict]]:
    """A function's cases with their references. The same for every student
    under one seed, so a batch worker computes them once. Keyed by the
    declaration itself (kept alive in the value, so its id stays its own)."""
    key = (id(fn), suite.assignment, secret.value)
    if key not in _PREPARED:
        cases = fn.cases(secret.rng(suite.assignment, fn.name))
        _PREPARED[key] = (fn, [(c, {n: as_expected(v) for n, v in fn.reference(c.inputs).items()}) for c in cases])
    return _PREPARED[key][1]


def _grade_case(fn: GradedFunction, program: dict, case: Case, expected: dict, outcome: Outcome,
                solution: Path | None) -> CaseResult:
    if not outcome.ok:
        return CaseResult(case.name, 0.0, case.points, [outcome.message])
    messages, failed = [], []
    for name, exp in expected.items():
        actual = outcome.outputs.get(name)
        if actual is None:
            messages.append(f"{name} was not returned")
            failed.append(name)
            continue
        problem = exp.check(actual) if isinstance(exp, Property) else compare(name, actual, exp, fn.tolerance).message
        if problem:
            messages.append(problem)
            failed.append(name)
    # The case's points are shared by its outputs; computed from the count so
    # that all outputs right is exactly full points (six shares of 1/6 are not).
    score = case.points * (len(expected) - len(failed)) / len(expected)
    bugs = _recognised_bugs(fn, program, case.inputs, {n: outcome.outputs[n] for n in failed if n in outcome.outputs},
                            solution)
    # For the HTML report only: where each failed array output is wrong.
    maps = [m for n in failed if n in outcome.outputs
            and (m := error_map(n, outcome.outputs[n], expected[n], fn.tolerance)) is not None]
    return CaseResult(case.name, score, case.points, messages, [f"{b.hint} [{b.name}]" for b in bugs],
                      [b.name for b in bugs], details={"error_maps": maps} if maps else {})


def _grade_speed(fn: GradedFunction, program: dict, case: Case, student, reference: _LazySandbox, limit: float,
                 correct: bool, device: str) -> tuple[CaseResult, str]:
    """Against the reference solution in its own child, timed by the grader, or
    (``Speed.baseline``) against a trusted builtin such as torch's own kernel,
    timed in the student's child by the shared harness (CUDA events on a GPU)."""
    policy = fn.speed
    against = (f"{policy.baseline} on the {'GPU' if device == 'cuda' else 'CPU'}" if policy.baseline
               else "the reference")
    who = policy.baseline or "the reference solution"
    name = f"speed (vs {against}, on '{case.name}')"
    if policy.gpu_only and device != "cuda":
        return (CaseResult(name, 0.0, policy.points, speed=True, skipped="GPU-only check: no CUDA GPU here"),
                "speed: skipped (no GPU)")
    if not correct:
        return CaseResult(name, 0.0, policy.points, ["speed is graded once every case passes"], speed=True), "speed: not graded"
    if policy.baseline:
        timed = dict(program, timing={"baseline": policy.baseline, "warmup": 3, "repeats": policy.repeats})
        outcome = student.run(timed, dict(case.inputs), limit)
        ratio = (float(np.median(outcome.outputs["student"]) / np.median(outcome.outputs["baseline"]))
                 if outcome.ok else outcome)
    elif not reference:
        return CaseResult(name, policy.points, policy.points, speed=True), "speed: not measured (no reference solution here)"
    else:
        ratio = time_ratio(student, reference.get(), program, dict(case.inputs), policy.repeats, limit)
    if isinstance(ratio, Outcome):
        return CaseResult(name, 0.0, policy.points, [f"while timing: {ratio.message}"], speed=True), "speed: timing failed"
    note = f"speed: {ratio:.2f}x {who}'s time (full points up to {policy.max_ratio:g}x)"
    if ratio <= policy.max_ratio:
        return CaseResult(name, policy.points, policy.points, speed=True), note
    return CaseResult(name, 0.0, policy.points, [f"{ratio:.1f}x slower than {who} (limit {policy.max_ratio:g}x): "
                                                 f"vectorise the loops"], speed=True), note


def time_ratio(student: Sandbox, reference: Sandbox, program: dict, inputs: dict, repeats: int,
               limit: float) -> float | Outcome:
    """Median student time over median reference time, one call each in turn
    (so that drift in the machine's speed hits both), after one warm-up call
    each. Times are taken here, around the round trip: the student's code
    cannot misreport them."""
    times = {"student": [], "reference": []}
    for i in range(repeats + 1):
        for side, box in (("student", student), ("reference", reference)):
            started = time.perf_counter()
            outcome = box.run(program, inputs, limit)
            elapsed = time.perf_counter() - started
            if not outcome.ok:
                return outcome
            if i:
                times[side].append(elapsed)
    return statistics.median(times["student"]) / statistics.median(times["reference"])


def _recognised_bugs(fn: GradedFunction, program: dict, inputs: Mapping, failed: dict[str, np.ndarray],
                     solution: Path | None) -> list[Bug]:
    """The catalogued bugs whose output one of the student's failed outputs matches."""
    if not failed or solution is None:
        return []
    found = []
    # Mutants run here, in the grader's process: on the CPU, unguarded (solutions are trusted).
    program = dict(program, device="cpu", forbidden=[])
    for bug in fn.bugs:
        buggy = mutant_outputs(solution, bug, program, dict(inputs))
        if buggy and any(name in buggy and matches(actual, buggy[name], fn.tolerance) for name, actual in failed.items()):
            found.append(bug)
    return found


def main(args) -> int:
    from grader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
    from grader.formats import render, unavailable
    from grader.suites import SUITES, UnknownAssignment, get_suite

    path = Path(args.path)
    try:
        suite = get_suite(args.assignment) if args.assignment else infer_assignment(path, SUITES)
    except UnknownAssignment as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    if suite is None:
        print(f"dlgrade grade: cannot tell the assignment from '{path}'; name it with -a "
              f"({', '.join(SUITES)})", file=sys.stderr)
        return EXIT_USAGE
    try:
        secret = Secret.resolve(args.seed)
    except SecretError as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    files = {fmt: target for fmt in ("json", "markdown", "junit", "html") if (target := getattr(args, fmt))}
    for fmt in {args.format, *files}:
        if problem := unavailable(fmt):  # said before grading, not after
            print(f"dlgrade grade: {problem}", file=sys.stderr)
            return EXIT_USAGE
    result = grade_submission(suite, path, secret, skipped=args.skipped)
    for fmt, target in files.items():
        try:
            write_text_atomically(Path(target), render(result, fmt))
        except OSError as e:
            print(f"dlgrade grade: cannot write the {fmt} report to {target}: {e.strerror or e}", file=sys.stderr)
            return EXIT_USAGE
    print(render(result, args.format).rstrip("\n"))
    if args.fail_under is not None and result.percent < args.fail_under:
        print(f"score {result.percent:.1f}% is below --fail-under {args.fail_under:g}%", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
