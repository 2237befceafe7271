"""The grading engine: one submission through an assignment's hidden suite.

The trusted side makes every input and reference and does every comparison;
the student's functions run in a ``Sandbox`` that only ever sees inputs. A
``Session`` is one submission's grading: it owns the submission's sandboxes
(its own, and the reference solution's for a training task's throughput), the
deadline, the time-outs counted per function and the device; judging
(``judging.py``), bug recognition (``bugs.py``), speed (``speed.py``) and
training (``training.py``) are its steps, each in its own module.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

import torch

from grader import suites as suites_package
from grader.child.confine import Confinement
from grader.child.program import cut
from grader.child.protocol import DeviceName, ErrorKind, Request
from grader.course import Course, Secret
from grader.datasets import DatasetError
from grader.forbidden import scan
from grader.judging import judge_case
from grader.results import FunctionResult, GradeResult, SkippedPolicy, Status
from grader.sandbox import OUTPUT_MARKER, Outcome, Sandbox, SandboxError
from grader.spec import Case, GradedFunction, Suite
from grader.speed import grade_speed
from grader.submissions import SubmissionError, materialize
from grader.training import ReferenceThroughput, grade_training, shuffled

# References are small: torch's thread pool only makes them wait for a core
# that the student's process holds (batch norm: 60 ms a call instead of 0.1 ms),
# and batch workers run side by side.
torch.set_num_threads(1)

TIMEOUTS_PER_FUNCTION = 2  # after this many, the function's other cases are not run


def grade_submission(suite: Suite, path: Path, secret: Secret, course: Course | None = None,
                     hide: tuple[Path, ...] = (), skipped: SkippedPolicy = SkippedPolicy.EXCLUDE,
                     allow_unconfined: bool = False,
                     throughput: ReferenceThroughput | None = None) -> GradeResult:
    """``hide``: folders the student's code must not see besides the solutions
    and suites (a batch adds the class's submissions and results).
    ``skipped``: how checks that cannot run here (GPU-only ones on a machine
    without a GPU) count: EXCLUDE leaves their points out of the total, ZERO
    counts them as lost. Either way they are reported as skipped.
    ``throughput``: the reference solution's training throughput, measured
    once per process and kept by the caller across submissions (a batch worker)."""
    course = course or Course.locate()
    started = time.perf_counter()
    hide = (course.root / "solutions", Path(suites_package.__file__).parent, *hide)

    def result(functions: list[FunctionResult], status: Status, message: str, notices: list[str] | None = None,
               leaderboard: list[dict] | None = None, confinement: str = "") -> GradeResult:
        return GradeResult(suite.assignment, str(path), functions, notices or [], time.perf_counter() - started,
                           status, message, leaderboard or [], development_seed=secret.is_development,
                           confinement=confinement)

    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dlgrade-submission-")))
        status, message = Status.GRADED, ""
        source, digest = "", ""  # an invalid submission runs nothing: its inputs need not be its own
        student: _Bounded | _Unavailable
        device: DeviceName = gpu_device() if suite.gpu else "cpu"
        try:
            module_file = materialize(path, suite, scratch)
            source = module_file.read_text(errors="replace")
            digest = submission_digest(module_file, helpers=path.is_dir())
            student = _Bounded(stack.enter_context(Sandbox(module_file, suite.module, suite.limits, hide,
                                                           helpers=path.is_dir(), allow_unconfined=allow_unconfined,
                                                           device=device)))
        except SubmissionError as e:
            student = _Unavailable(str(e))
            status, message = Status.INVALID, str(e)
        except SandboxError as e:  # this machine's fault, never the student's: a rerun retries it
            return result([], Status.ERROR, f"not graded: {e}")
        session = Session(suite, secret, digest, source, student,
                          _LazySandbox(stack, course.solution_file(suite), suite.module, suite.limits, hide, device),
                          device, throughput or ReferenceThroughput())
        try:
            functions = [session.grade_function(fn) for fn in suite.functions]
        except SandboxError as e:
            return result([], Status.ERROR, f"not graded: {e}")
        if status is Status.GRADED and student.import_error:
            status, message = Status.INVALID, _import_failure(path, suite, student.import_error)
        if suite.training and status is Status.GRADED:
            try:
                functions.append(session.grade_training())
            except DatasetError as e:
                status, message = Status.ERROR, f"the grader's data for {suite.training.name} is missing: {e}"
        guarantees = getattr(student, "guarantees", {})
    if skipped == SkippedPolicy.EXCLUDE:
        for case in (c for f in functions for c in f.cases if c.skipped):
            case.max_score = 0.0
    return result(functions, status, message, leaderboard=session.leaderboard,
                  notices=_confinement_notices(guarantees), confinement=guarantees.get("confinement", ""))


class Session:
    """One submission's grading."""

    def __init__(self, suite: Suite, secret: Secret, digest: str, source: str, student: _Bounded | _Unavailable,
                 reference: _LazySandbox, device: DeviceName, throughput: ReferenceThroughput):
        self.suite, self.secret, self.digest, self.source = suite, secret, digest, source
        self.student, self.reference, self.device, self.throughput = student, reference, device, throughput
        self.deadline = time.monotonic() + suite.submission_time_limit
        self.timeouts: collections.Counter[str] = collections.Counter()  # per graded function
        self.leaderboard: list[dict] = []

    def rng(self, name: str, *labels: str):
        """The generator of one graded item's inputs for this submission (``labels``: another draw of it)."""
        return self.secret.rng(self.suite.assignment, name, self.digest, *labels)

    def cases(self, fn: GradedFunction, *labels: str) -> list[Case]:
        return submission_cases(self.suite, fn, self.secret, self.digest, *labels)

    def request(self, fn: GradedFunction) -> Request:
        return Request(fn.program, self.device, fn.forbidden)

    def grade_function(self, fn: GradedFunction) -> FunctionResult:
        limit = fn.time_limit or self.suite.case_time_limit
        request = self.request(fn)
        violations = scan(self.source, fn.name, fn.forbidden)
        results = []
        for case in self.cases(fn):
            if violations:
                outcome = Outcome(error=ErrorKind.FORBIDDEN, message="\n".join(v.message(fn.name) for v in violations))
            else:
                outcome = self._run_case(fn, request, case, limit)
            results.append(judge_case(fn, case, outcome))
        notes = []
        if (policy := fn.speed) is not None:
            def timed_case(*labels: str) -> Case:
                if policy.inputs:
                    return policy.inputs(self.rng(fn.name, "speed", *labels))
                return self.cases(fn, "speed", *labels)[policy.case]

            speed, note = grade_speed(fn, request, timed_case().name, lambda i: dict(timed_case(str(i)).inputs),
                                      self.student, limit, correct=all(r.passed for r in results))
            results.append(speed)
            notes.append(note)
        return FunctionResult(fn.name, results, notes)

    def _run_case(self, fn: GradedFunction, request: Request, case: Case, limit: float) -> Outcome:
        """The case's outcome, within what is left of the submission's time budget;
        not run once the function has timed out too often."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(error=ErrorKind.TIMEOUT, message=f"not run: the submission used up its time budget of "
                                                            f"{self.suite.submission_time_limit:g} s")
        if self.timeouts[fn.name] >= TIMEOUTS_PER_FUNCTION:
            return Outcome(error=ErrorKind.TIMEOUT,
                           message=f"not run: {fn.name} timed out on {self.timeouts[fn.name]} earlier cases")
        outcome = self.student.run(request, dict(case.inputs), min(limit, remaining))
        self.timeouts[fn.name] += outcome.error is ErrorKind.TIMEOUT
        return outcome

    def grade_training(self) -> FunctionResult:
        """The training task's result (raises DatasetError when the grader's data is missing)."""
        task = self.suite.training
        assert task is not None  # asked only of a suite with one
        mode = task.gpu if self.device == "cuda" else task.cpu
        rng = self.rng(task.name)
        data = shuffled(task.data(mode, rng), rng)
        result, self.leaderboard = grade_training(task, mode, data, self.student, self.reference,
                                                  seed=int(rng.integers(2**31 - 1)), throughput=self.throughput)
        return result


def gpu_device() -> DeviceName:
    """"cuda" where PyTorch sees a GPU, else "cpu"; ``DLGRADE_DEVICE=cpu``
    forces CPU mode (to try it on a GPU machine)."""
    if os.environ.get("DLGRADE_DEVICE", "").lower() == "cpu":
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


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


def _import_failure(path: Path, suite: Suite, import_error: str) -> str:
    """Why a submission that compiled did not import (an exception, sys.exit, a
    hang at import time): unusable as handed in, like a syntax error, rather
    than a grade of 0 on every function. The child names the module by the
    name it has in the sandbox; the message names the student's own file."""
    shown = f"{path.name}/{suite.module}.py" if path.is_dir() else path.name
    return re.sub(rf"^(importing )?{re.escape(suite.module)}\.py ", lambda m: f"{m[1] or ''}{shown} ", import_error,
                  count=1)


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

    def run(self, request: Request, inputs: dict, time_limit: float) -> Outcome:
        return Outcome(error=ErrorKind.IMPORT, message=self.message)


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

    def run(self, request: Request, inputs: dict, time_limit: float) -> Outcome:
        outcome = self._sandbox.run(request, inputs, time_limit)
        outcome.message = bounded(outcome.message)
        if outcome.error is ErrorKind.IMPORT:
            self.import_error = outcome.message
        return outcome


class _LazySandbox:
    """The reference solution's own sandbox, started on first use (only a
    training task's throughput is measured against it)."""

    def __init__(self, stack: contextlib.ExitStack, solution: Path | None, module: str, limits, hide,
                 device: DeviceName):
        self._stack, self._solution, self._module = stack, solution, module
        self._sandbox: Sandbox | None = None
        self._limits, self._hide, self._device = limits, hide, device

    def __bool__(self) -> bool:
        return self._solution is not None

    def get(self) -> Sandbox:
        if self._sandbox is None:
            assert self._solution is not None  # asked only where there is one (bool(self))
            # The reference solution is trusted: it runs wherever the machine allows.
            self._sandbox = self._stack.enter_context(Sandbox(self._solution, self._module, self._limits, self._hide,
                                                              allow_unconfined=True, device=self._device))
        return self._sandbox

