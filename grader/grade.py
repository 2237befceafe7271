"""``dlgrade grade``: run a submission through an assignment's hidden suite.

The trusted side makes every input and reference and does every comparison;
the student's functions run in a ``Sandbox`` that only ever sees inputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch

from grader import suites as suites_package
from grader.child.confine import Confinement
from grader.child.program import cut
from grader.compare import as_expected, compare, error_map, matches
from grader.course import Course, Secret, SecretError, infer_assignment
from grader.datasets import DatasetError
from grader.forbidden import scan
from grader.report import CaseResult, FunctionResult, GradeResult, Status, write_text_atomically
from grader.sandbox import OUTPUT_MARKER, Outcome, Sandbox, SandboxError
from grader.spec import Blocked, Bug, Case, GradedFunction, Property, Suite
from grader.submissions import SubmissionError, materialize
from grader.training import grade_training, shuffled

# References are small: torch's thread pool only makes them wait for a core
# that the student's process holds (batch norm: 60 ms a call instead of 0.1 ms),
# and batch workers run side by side.
torch.set_num_threads(1)


def grade_submission(suite: Suite, path: Path, secret: Secret, course: Course | None = None,
                     hide: tuple[Path, ...] = (), skipped: str = "exclude",
                     allow_unconfined: bool = False) -> GradeResult:
    """``hide``: folders the student's code must not see besides the solutions
    and suites (a batch adds the class's submissions and results).
    ``skipped``: how checks that cannot run here (GPU-only ones on a machine
    without a GPU) count: "exclude" leaves their points out of the total,
    "zero" counts them as lost. Either way they are reported as skipped."""
    course = course or Course.locate()
    started = time.perf_counter()
    notices: list[str] = []
    device = gpu_device() if suite.gpu else "cpu"
    solution = course.solution_file(suite)
    status, message = Status.GRADED, ""
    hide = (course.root / "solutions", Path(suites_package.__file__).parent, *hide)
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dlgrade-submission-")))
        source, digest = "", ""  # an invalid submission runs nothing: its inputs need not be its own
        student: _Bounded | _Unavailable
        try:
            module_file = materialize(path, suite, scratch)
            source = module_file.read_text(errors="replace")
            digest = submission_digest(module_file, helpers=path.is_dir())
            student = _Bounded(stack.enter_context(Sandbox(module_file, suite.module, suite.limits, hide,
                                                           helpers=path.is_dir(), allow_unconfined=allow_unconfined)))
        except SubmissionError as e:
            student = _Unavailable(str(e))
            status, message = Status.INVALID, str(e)
        except SandboxError as e:  # this machine's fault, never the student's: a rerun retries it
            return GradeResult(suite.assignment, str(path), [], notices, time.perf_counter() - started, Status.ERROR,
                               f"not graded: {e}", development_seed=secret.is_development)
        reference = _LazySandbox(stack, solution, suite.module, suite.limits, hide)
        deadline = time.monotonic() + suite.submission_time_limit
        try:
            functions = [_grade_function(suite, fn, secret, digest, student, deadline, device, source)
                         for fn in suite.functions]
        except SandboxError as e:
            return GradeResult(suite.assignment, str(path), [], notices, time.perf_counter() - started, Status.ERROR,
                               f"not graded: {e}", development_seed=secret.is_development)
        if status is Status.GRADED and student.import_error:
            # It compiled but did not import (an exception, sys.exit, a hang at import time): unusable as handed in,
            # like a syntax error, rather than a grade of 0 on every function. The child names the module by the
            # name it has in the sandbox; the message names the student's own file.
            shown = f"{path.name}/{suite.module}.py" if path.is_dir() else path.name
            status, message = Status.INVALID, re.sub(rf"^(importing )?{re.escape(suite.module)}\.py ",
                                                     lambda m: f"{m[1] or ''}{shown} ", student.import_error, count=1)
        leaderboard: list[dict] = []
        if suite.training and status is Status.GRADED:
            try:
                mode = suite.training.gpu if device == "cuda" else suite.training.cpu
                rng = secret.rng(suite.assignment, suite.training.name, digest)
                data = shuffled(suite.training.data(mode, rng), rng)
            except DatasetError as e:
                status, message = Status.ERROR, f"the grader's data for {suite.training.name} is missing: {e}"
            else:
                result, leaderboard = grade_training(suite.training, mode, data, student, reference,
                                                     seed=int(rng.integers(2**31 - 1)))
                functions.append(result)
        guarantees = getattr(student, "guarantees", {})
        notices += _confinement_notices(guarantees)
    if skipped == "exclude":
        for case in (c for f in functions for c in f.cases if c.skipped):
            case.max_score = 0.0
    return GradeResult(suite.assignment, str(path), functions, notices, time.perf_counter() - started, status, message,
                       leaderboard, development_seed=secret.is_development,
                       confinement=guarantees.get("confinement", ""))


def gpu_device() -> str:
    """"cuda" where PyTorch sees a GPU, else "cpu"; ``DLGRADE_DEVICE=cpu``
    forces CPU mode (to try it on a GPU machine)."""
    if os.environ.get("DLGRADE_DEVICE", "").lower() == "cpu":
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _confinement_notices(guarantees: dict[str, str]) -> list[str]:
    """What the report must say where the sandbox held less than its strongest
    level (see the README's Security model)."""
    notices = {
        ("confinement", Confinement.UID_ONLY.value):
            "confinement uid-only: no namespaces here; the submission ran as a uid of its own, whose processes "
            "were killed after it, and could read what file permissions let any user read",
        ("confinement", Confinement.UNCONFINED.value):
            "confinement unconfined (--allow-unconfined): only resource limits and in-process guards held",
        ("cgroup", "none"): "no cgroup could be made here: memory was limited by address space only",
    }
    return [text for (key, value), text in notices.items() if guarantees.get(key) == value]


class _Unavailable:
    """Stands in for the sandbox of a submission that could not be found."""

    import_error = ""  # not an import that failed: there was nothing to import

    def __init__(self, message: str):
        self.message = message

    def run(self, program, inputs, time_limit) -> Outcome:
        return Outcome(error="import", message=self.message)


# Characters of a message from the student's child, and of the printed output
# it ends with: enough for an exception's message cut to 300 characters in the
# child (describe_exception) with its type and line, but no room for the
# inputs, however the child (which the student's code controls) words it.
MESSAGE_CHARS = 800
OUTPUT_CHARS = 1000


def bounded(message: str) -> str:
    """A message from the student's child as it may reach the feedback: its
    start, and the end of the printed output it carries, each cut to length."""
    head, marker, output = message.partition(OUTPUT_MARKER)
    return cut(head, MESSAGE_CHARS) + (marker + cut(output, OUTPUT_CHARS, end=True) if marker else "")


class _Bounded:
    """The student's sandbox, its messages ``bounded``: text the student
    controls (an exception's message, printed output) could carry the inputs,
    or anything else computed from them, out through the feedback."""

    def __init__(self, sandbox: Sandbox):
        self._sandbox = sandbox
        self.import_error = ""  # why the submission did not import, once it has failed to (the grade's status)

    @property
    def guarantees(self) -> dict[str, str]:
        return self._sandbox.guarantees

    def run(self, program, inputs, time_limit) -> Outcome:
        outcome = self._sandbox.run(program, inputs, time_limit)
        outcome.message = bounded(outcome.message)
        if outcome.error == "import":
            self.import_error = outcome.message
        return outcome


class _LazySandbox:
    """The reference solution's own sandbox, started on first use (only a
    training task's throughput is measured against it)."""

    def __init__(self, stack: contextlib.ExitStack, solution: Path | None, module: str, limits, hide):
        self._stack, self._solution, self._module = stack, solution, module
        self._sandbox: Sandbox | None = None
        self._limits, self._hide = limits, hide

    def __bool__(self) -> bool:
        return self._solution is not None

    def get(self) -> Sandbox:
        if self._sandbox is None:
            assert self._solution is not None  # asked only where there is one (bool(self))
            # The reference solution is trusted: it runs wherever the machine allows.
            self._sandbox = self._stack.enter_context(Sandbox(self._solution, self._module, self._limits, self._hide,
                                                              allow_unconfined=True))
        return self._sandbox


TIMEOUTS_PER_FUNCTION = 2  # after this many, the function's other cases are not run


def _grade_function(suite: Suite, fn: GradedFunction, secret: Secret, digest: str, student, deadline: float,
                    device: str, source: str) -> FunctionResult:
    program = dict(fn.program.to_json(), device=device, forbidden=list(fn.forbidden))
    limit = fn.time_limit or suite.case_time_limit
    cases = submission_cases(suite, fn, secret, digest)
    results, timeouts = [], 0
    violations = scan(source, fn.name, fn.forbidden)
    for case in cases:
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
        results.append(_grade_case(fn, case, outcome))
    notes = []
    if (policy := fn.speed) is not None:
        def timed_case(*labels: str) -> Case:
            if policy.inputs:
                return policy.inputs(secret.rng(suite.assignment, fn.name, digest, "speed", *labels))
            return submission_cases(suite, fn, secret, digest, "speed", *labels)[policy.case]

        speed, note = _grade_speed(fn, program, timed_case().name, lambda i: dict(timed_case(str(i)).inputs), student,
                                   limit, correct=all(r.passed for r in results), device=device)
        results.append(speed)
        notes.append(note)
    return FunctionResult(fn.name, results, notes)


def submission_digest(module_file: Path, helpers: bool = False) -> str:
    """What a submission's inputs derive from besides the secret: the sha256
    of the module the sandbox runs and, from a folder (``helpers``), of every
    other ``.py`` file beside it by name (the helper modules the sandbox
    copies are among them). Grading the same files again draws the same
    inputs; any other submission, even one comment apart, draws its own, so
    that what one submission's feedback tells about its inputs is no use to
    another."""
    digest = hashlib.sha256(module_file.read_bytes())
    for other in sorted(module_file.parent.glob("*.py")) if helpers else ():
        if other != module_file:
            digest.update(other.name.encode() + b"\0" + hashlib.sha256(other.read_bytes()).digest())
    return digest.hexdigest()


def submission_cases(suite: Suite, fn: GradedFunction, secret: Secret, digest: str, *labels: str) -> list[Case]:
    """A function's cases for one submission (``digest``): its graded cases,
    or with ``labels`` another draw of the same kinds (the speed check's
    fresh inputs)."""
    return fn.cases(secret.rng(suite.assignment, fn.name, digest, *labels))


def _expected(fn: GradedFunction, inputs: Mapping) -> dict:
    """The references of a case's outputs. Computed per submission, as its
    inputs are; only for outcomes there is something to compare."""
    return {name: as_expected(value) for name, value in fn.reference(inputs).items()}


def _problems(fn: GradedFunction, expected: dict, outputs: dict[str, np.ndarray]) -> dict[str, str]:
    """What is wrong with each of the ``expected`` outputs that is wrong, by name."""
    problems = {}
    for name, exp in expected.items():
        actual = outputs.get(name)
        if actual is None:
            problems[name] = f"{name} was not returned"
        elif problem := (exp.check(actual, *(outputs.get(g) for g in exp.given)) if isinstance(exp, Property)
                         else compare(name, actual, exp, fn.tolerance).message):
            problems[name] = problem
    return problems


def _grade_case(fn: GradedFunction, case: Case, outcome: Outcome) -> CaseResult:
    if not outcome.ok:
        return CaseResult(case.name, 0.0, case.points, [outcome.message], blocked_by=outcome.blocked_by)
    expected = _expected(fn, case.inputs)
    problems = _problems(fn, expected, outcome.outputs)
    # The case's points are shared by its outputs; computed from the count so
    # that all outputs right is exactly full points (six shares of 1/6 are not).
    score = case.points * (len(expected) - len(problems)) / len(expected)
    returned = {n: outcome.outputs[n] for n in problems if n in outcome.outputs}
    bugs = _recognised_bugs(fn, case.inputs, returned)
    # For the HTML report only: where each failed array output is wrong.
    maps = [m for n, actual in returned.items() if (m := error_map(n, actual, expected[n], fn.tolerance)) is not None]
    return CaseResult(case.name, score, case.points, list(problems.values()), [f"{b.hint} [{b.name}]" for b in bugs],
                      [b.name for b in bugs], details={"error_maps": maps} if maps else {},
                      blocked_by=next((p.function for p in problems.values() if isinstance(p, Blocked)), None))


BASELINE_WARMUP = 3  # untimed calls each before a builtin baseline is timed in the child


def _grade_speed(fn: GradedFunction, program: dict, case_name: str, fresh: Callable[[int], dict], student,
                 limit: float, correct: bool, device: str) -> tuple[CaseResult, str]:
    """Against torch's own implementation of the program run here, in the
    grader, both timed by the grader (``time_against_torch``), or
    (``Speed.baseline``) against a trusted builtin such as torch's own kernel,
    timed in the student's child by the shared harness (CUDA events on a GPU).

    Every call, warm-up included, gets its own inputs, ``fresh(i)``: drawn as
    the case named is, with the shapes it has. Each result the student's
    function computed while timed is checked against the reference on its
    inputs: remembering an earlier answer, or answering fast and wrong once
    correctness is settled, loses the point."""
    policy = fn.speed
    assert policy is not None  # graded only for a function with a speed check
    against = (f"{policy.baseline} on the {'GPU' if device == 'cuda' else 'CPU'}" if policy.baseline
               else "torch")
    who = policy.baseline or "torch"
    name = f"speed (vs {against}, on '{case_name}')"
    if policy.gpu_only and device != "cuda":
        return (CaseResult(name, 0.0, policy.points, speed=True, skipped="GPU-only check: no CUDA GPU here"),
                "speed: skipped (no GPU)")
    if not correct:
        return (CaseResult(name, 0.0, policy.points, ["speed is graded once every case passes"], speed=True),
                "speed: not graded")
    checked = None  # which outputs of each timed call are checked: all of them
    if policy.baseline:
        sets = [fresh(i) for i in range(BASELINE_WARMUP + policy.repeats)]
        # Gradients are a step of the graded program after the call: what a timed call returns is the rest.
        checked = [n for n, ref in program["outputs"].items() if "gradient" not in ref]
        measured = _time_in_child(student, program, policy, sets, checked, limit)
        sets = sets[BASELINE_WARMUP:]
    else:
        sets = [fresh(i) for i in range(policy.repeats + 1)]
        measured = time_against_torch(student, policy.torch or fn.reference, program, sets, limit,
                                      give_up=HOPELESS * policy.max_ratio)
    if isinstance(measured, Outcome):
        return (CaseResult(name, 0.0, policy.points, [f"while timing: {measured.message}"], speed=True),
                "speed: timing failed")
    ratio, outputs = measured
    wrong = [problems for inputs, got in zip(sets, outputs)
             if (problems := _problems(fn, {n: e for n, e in _expected(fn, inputs).items()
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


def _time_in_child(student, program: dict, policy, sets: list[dict], checked: list[str],
                   limit: float) -> tuple[float, list[dict[str, np.ndarray]]] | Outcome:
    """The student's median time over the builtin baseline's, as the child's
    harness measured them on ``sets`` (the first BASELINE_WARMUP to warm up),
    and the ``checked`` outputs of each timed call."""
    timed = dict(program, timing={"baseline": policy.baseline, "warmup": BASELINE_WARMUP, "repeats": policy.repeats,
                                  "outputs": checked})
    # Only what the call takes: a gradient's cotangent (dout) would double what goes over the wire.
    taken = {a.get("input", a.get("tensor")) for c in program["calls"] for a in [*c["args"], *c["kwargs"].values()]}
    outcome = student.run(timed, {f"{k}@{i}": v for i, inputs in enumerate(sets) for k, v in inputs.items()
                                  if k in taken}, limit)
    if not outcome.ok:
        return outcome
    seconds = [outcome.outputs.get(side) for side in ("student", "baseline")]
    if any(s is None or s.size != policy.repeats or not np.all(s > 0) for s in seconds):
        return Outcome(error="protocol", message="the process running your code sent back no valid times")
    outputs = [{n: outcome.outputs.get(f"{n}@{i}") for n in checked} for i in range(BASELINE_WARMUP, len(sets))]
    return float(np.median(seconds[0]) / np.median(seconds[1])), outputs


# A function this many times over its speed limit on its first timed call is not timed again: a loop version
# would otherwise spend most of its grading in the speed check, for a point it cannot get.
HOPELESS = 3.0


def time_against_torch(student: Sandbox, torch_program: Callable[[Mapping], object], program: dict,
                       input_sets: list[dict], limit: float,
                       give_up: float) -> tuple[float, list[dict[str, np.ndarray]]] | Outcome:
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
        outcome = student.run(program, inputs, limit)
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


def _recognised_bugs(fn: GradedFunction, inputs: Mapping, failed: dict[str, np.ndarray]) -> list[Bug]:
    """The catalogued bugs whose output one of the student's failed outputs
    matches. Their torch descriptions run here, on every route alike: none
    needs the solution."""
    found = []
    for bug in fn.bugs if failed else ():
        with np.errstate(all="ignore"):
            try:
                buggy = {name: np.asarray(value) for name, value in bug.reference(inputs).items()}
            except (ArithmeticError, IndexError, RuntimeError, ValueError):  # the mistake cannot run on these inputs
                continue
        if any(name in buggy and matches(actual, buggy[name], fn.tolerance) for name, actual in failed.items()):
            found.append(bug)
    return found


def main(args) -> int:
    from grader.exits import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
    from grader.formats import render, unavailable
    from grader.progress import progress_line
    from grader.report import OutputError, check_output_file
    from grader.suites import SUITES, UnknownAssignment, get_suite

    path = Path(args.path)
    if not os.path.lexists(path):  # a mistake in the command, not a submission to record as invalid
        print(f"dlgrade grade: {path}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
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
        secret = Secret.resolve(args.seed, development=args.development)
    except SecretError as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    files = {fmt: target for fmt in ("json", "result", "markdown", "junit", "html") if (target := getattr(args, fmt))}
    try:  # said before grading, not after
        for fmt in {args.format, *files}:
            if problem := unavailable(fmt):
                raise OutputError(problem)
        for fmt, target in files.items():
            check_output_file(Path(target), f"--{fmt}")
    except OutputError as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    with progress_line(f"grading {path.name} ({suite.assignment})"):
        result = grade_submission(suite, path, secret, skipped=args.skipped, allow_unconfined=args.allow_unconfined)
    for fmt, target in files.items():
        try:
            write_text_atomically(Path(target), render(result, fmt))
        except OSError as e:  # it could be written to a moment ago: this machine's trouble (a full disk, say)
            print(f"dlgrade grade: cannot write the {fmt} report to {target}: {e.strerror or e}", file=sys.stderr)
            return EXIT_INTERNAL
    print(render(result, args.format).rstrip("\n"))
    if args.fail_under is not None and result.percent < args.fail_under:
        print(f"score {result.percent:.1f}% is below --fail-under {args.fail_under:g}%", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
