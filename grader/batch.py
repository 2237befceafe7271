"""Grading a whole class (``dlgrade grade-batch DIR -a NAME -o OUT``).

DIR holds one entry per student: a folder, a ``.py``, a ``.zip`` or a
``.ipynb`` (the student's name is the entry's name without its suffix). For
each student, ``OUT/students/<name>/`` gets ``report.txt``, ``report.html``,
``results.json`` (Gradescope's rendering) and last ``result.json``, the native
result (``dlgrade-result/1``) that marks the student finished, each written
atomically as soon as that student is graded. ``OUT/gradebook.csv`` is made
from the result files at the end, so it is complete after any rerun: a rerun
grades only the students without a final result (all of them with
``--regrade``), and a batch killed halfway loses nothing that was finished.
A grader-side failure (a full disk, an unwritable folder, a worker that died)
records no result for that student: the gradebook says ``error`` and a rerun
grades them again.

Two engines grade, and share everything else (which students to grade, how one
is graded and rendered, how their files are written, the gradebook, stopping):
the local pool (``LocalPool``, ``--jobs N`` processes of this machine, whose
workers write each student's files) and a Dask cluster (``--scheduler``,
``grader/cluster.py``: a task per student, whose results this process writes).
The command (``grader/commands/grade_batch.py``) chooses one and hands it to
``grade_class``; nothing here knows the cluster.

Stopping. Ctrl-C or SIGTERM stops the batch at once: the queued students are
cancelled, each worker closes its sandboxes (which kills the student's
processes) and exits, a worker writing a student's files finishes them first,
and the gradebook is written for every finished student (exit 130; running the
same command again carries on). Nothing outlives the batch, even when it is
killed with SIGKILL: the kernel sends each worker SIGTERM when the batch's
process dies (``PR_SET_PDEATHSIG``), and a zygote ends, killing its children,
at the end of file on its worker's socket.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import csv
import ctypes
import enum
import functools
import io
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grader
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from grader.render import unavailable
from grader.render.gradescope import to_gradescope
from grader.render.html import to_html
from grader.render.text import to_text
from grader.results import (
    GRADEBOOK_AFTER,
    GRADEBOOK_BEFORE,
    RESULT_FILE,
    GradeResult,
    ResultFormatError,
    SkippedPolicy,
    Status,
    read_result,
    result_path,
    student_folder,
    write_text_atomically,
)
from grader.spec import Suite
from grader.suites import SUITES

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WORKER_STOP_SECONDS = 1.0  # after SIGTERM, a worker still running (stuck in a system call) is killed
PR_SET_PDEATHSIG = 1


def discover(folder: Path) -> dict[str, Path]:
    """Student name -> submission, for every entry not hidden (``.``/``_``): an
    entry of an unusable kind is graded ``invalid`` with a message. Two entries
    for one name is an error."""
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        name = entry.name if entry.is_dir() else entry.stem
        if name in found:
            raise ValueError(f"{folder}: two submissions for '{name}' ({found[name].name}, {entry.name})")
        found[name] = entry
    return found


def is_finished(out: Path, student: str, development: bool) -> bool:
    """A final result graded the way this batch grades: one made with the
    development seed does not stand in a batch with a secret, nor the reverse."""
    try:
        result = read_result(result_path(out, student))
    except (OSError, ResultFormatError):
        return False
    return result.status.final and result.development_seed == development


# --- in each worker -------------------------------------------------------------

class _Stopped(BaseException):
    """Raised in a worker by SIGTERM while it grades. Not an Exception, so
    that no handler on the way catches it; every sandbox on the way out is
    closed, which kills the student's processes."""


class _Phase(enum.Enum):
    IDLE = "idle"  # waiting for a student: a stop exits at once
    GRADING = "grading"  # a stop raises _Stopped: nothing of this student is written
    WRITING = "writing"  # a stop waits until the student's files are written (milliseconds)


_phase = _Phase.IDLE
_stop_pending = False


def _start_worker(batch: int) -> None:
    """Each worker's initializer. It starts with the stop signals blocked
    (see ``_signals_held``), so nothing interrupts its imports."""
    # Ctrl-C reaches the whole process group: the batch's own process decides, and stops the workers with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    if sys.platform.startswith("linux"):  # SIGTERM when the batch's process dies, however it dies
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != batch:  # it died before the line above could see it
        os._exit(EXIT_INTERRUPTED)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _stop_worker(signum, frame) -> None:
    global _stop_pending
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second SIGTERM must not cut the way out short
    if _phase is _Phase.GRADING:
        raise _Stopped
    if _phase is _Phase.WRITING:
        _stop_pending = True
        return
    os._exit(EXIT_INTERRUPTED)


def grade_one(assignment: str, student: str, path: str, out: str, seed: str, hide: tuple[Path, ...], html: bool,
              skipped: SkippedPolicy = SkippedPolicy.EXCLUDE,
              allow_unconfined: bool = False) -> tuple[str, Status, str]:
    """Grade one student and write their files; runs in a worker process.
    Returns (student, status, message); status ERROR with no result recorded
    when the files could not be written."""
    global _phase
    try:
        _phase = _Phase.GRADING
        result = grade(SUITES[assignment], Path(path), seed, hide, skipped, allow_unconfined)
        files = renderings(result, html, student)
        _phase = _Phase.WRITING  # inside the try: _Stopped can only come before this line
    except _Stopped:
        os._exit(EXIT_INTERRUPTED)  # its sandboxes were closed on the way here; nothing of this student written
    try:
        return write_student(Path(out), student, files, result.status, result.message)
    finally:
        _phase = _Phase.IDLE
        if _stop_pending:
            os._exit(EXIT_INTERRUPTED)


# --- wherever a student is graded: a local worker, or a cluster's (grader/cluster.py) -------------------------------

def grade(suite, path: Path, seed: str, hide: tuple[Path, ...], skipped: SkippedPolicy,
          allow_unconfined: bool) -> GradeResult:
    """One student's result: ERROR with the reason when the grader itself fails."""
    try:
        # The class's submissions and results are hidden from each student's code.
        return grade_submission(suite, path, Secret(seed), Course.locate(), hide=hide, skipped=skipped,
                                allow_unconfined=allow_unconfined)
    except Exception as e:  # noqa: BLE001 - one student's failure must not stop the class
        return GradeResult(suite.assignment, str(path), [], status=Status.ERROR,
                           message=f"the grader failed on this submission: {type(e).__name__}: {e}")


def renderings(result: GradeResult, html: bool, student: str) -> dict[str, str]:
    """A student's files, by name, in the order they are written: the native
    result last, as it marks the student finished."""
    files = {"report.txt": to_text(result) + "\n"}
    if html:
        try:
            files["report.html"] = to_html(result)
        except Exception as e:  # noqa: BLE001 - the grade stands without its page
            print(f"{student}: report.html not written: {type(e).__name__}: {e}", file=sys.stderr)
    files["results.json"] = json.dumps(to_gradescope(result), indent=2)
    files[RESULT_FILE] = json.dumps(result.to_dict(), indent=2)
    return files


def write_student(out: Path, student: str, files: dict[str, str], status: Status,
                  message: str) -> tuple[str, Status, str]:
    """Each of ``files`` written atomically, in order. Returns (student,
    status, message): ERROR, and no result recorded, when a file could not be
    written."""
    folder = student_folder(out, student)
    try:
        for name, text in files.items():
            write_text_atomically(folder / name, text)
    except OSError as e:
        # The grader's disk, not the student: no result is recorded, so that a rerun grades them again (a result
        # of an earlier run must not stand in for this one).
        with contextlib.suppress(OSError):
            result_path(out, student).unlink(missing_ok=True)
        return student, Status.ERROR, f"the grader could not write this student's results ({describe(e)}); run " \
                                      f"the same command again"
    return student, status, message


# --- in the batch's own process -------------------------------------------------------------

def describe(error: OSError) -> str:
    return f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error)


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (a gradebook cell), cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def write_gradebook(out: Path, suite, students: dict[str, Path],
                    errors: dict[str, str] | None = None) -> tuple[Path, collections.Counter]:
    """One row per student, from their result file; a student without one is
    ERROR with the message in ``errors`` (this run failed to record them),
    else NOT_GRADED. Returns the gradebook's path and its rows per status."""
    functions = [name for name, _ in suite.graded]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*GRADEBOOK_BEFORE, *functions, *GRADEBOOK_AFTER])
    blank = [""] * (len(functions) + len(GRADEBOOK_AFTER) - 1)  # every column but the message
    statuses: collections.Counter = collections.Counter()
    for student in students:
        try:
            result = read_result(result_path(out, student))
        except (OSError, ResultFormatError) as e:
            status = Status.ERROR if student in (errors or {}) else Status.NOT_GRADED
            why = "the batch stopped before this student" if isinstance(e, FileNotFoundError) else \
                f"its result file cannot be read ({e})"
            writer.writerow([student, status, *blank, (errors or {}).get(student, f"no result: {why}; run it again")])
            statuses[status] += 1
            continue
        points = {f.name: f.score for f in result.functions}
        writer.writerow([student, result.status, *[round(points.get(f, 0.0), 4) for f in functions],
                         round(result.score, 4), round(result.max_score, 4), round(result.percent, 2),
                         "yes" if result.development_seed else "no", result.confinement, one_line(result.message)])
        statuses[result.status] += 1
    path = out / "gradebook.csv"
    write_text_atomically(path, buffer.getvalue())
    return path, statuses


@contextlib.contextmanager
def _workers_start_clean(course: Course):
    """Spawned workers start in this process's current folder with a copy of
    its sys.path (multiprocessing's spawn passes both), and the interpreter of
    each looks its first imports (multiprocessing itself, struct, pickle...) up
    in its current folder first: a numpy.py, struct.py or grader/ planted in
    the folder the batch was started from would run in every worker. While the
    pool starts its workers, this process stands in an empty folder of its
    own, and its sys.path lacks the current folder, unless the grader itself
    is imported from there (a checkout run as ``python -m grader``). The course
    folder, which ``Course.locate`` may take from the current folder, reaches
    them in ``$DLGRADE_COURSE``."""
    cwd = os.getcwd()
    here, own = os.path.realpath(cwd), os.path.realpath(Path(grader.__file__).parent.parent)
    saved, located = sys.path[:], os.environ.get("DLGRADE_COURSE")
    with tempfile.TemporaryDirectory(prefix="dlgrade-batch-") as empty:
        sys.path[:] = [p for p in saved if os.path.realpath(p or ".") != here or here == own]
        os.environ["DLGRADE_COURSE"] = str(course.root)
        os.chdir(empty)
        try:
            yield
        finally:
            os.chdir(cwd)
            sys.path[:] = saved
            if located is None:
                del os.environ["DLGRADE_COURSE"]
            else:
                os.environ["DLGRADE_COURSE"] = located


class Interrupted(Exception):
    """Ctrl-C (SIGINT) or SIGTERM reached the batch."""


class BatchStopped(Exception):
    """An engine cannot go on (a cluster's worker refused its tasks, the
    scheduler went away): the batch stops as for Ctrl-C, with this message
    and exit status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class _StopSignals:
    """Within: the first SIGINT or SIGTERM raises Interrupted, and any later
    one is ignored, until the process exits (it is stopping already: a second
    Ctrl-C changes nothing, neither the exit status nor a traceback).
    ``ignore()`` ignores them from then on, for what must not be cut short
    (the gradebook); within ``deferred()`` (this process writing a student's
    files) a stop waits until the end of the block."""

    def __init__(self) -> None:
        self.stopped: str | None = None
        self._deferring = False

    def ignore(self) -> None:
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)

    def _stop(self, signum, frame) -> None:
        self.stopped = signal.Signals(signum).name
        self.ignore()
        if not self._deferring:
            raise Interrupted(self.stopped)

    @contextlib.contextmanager
    def deferred(self):
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        if self.stopped:
            raise Interrupted(self.stopped)

    def __enter__(self) -> "_StopSignals":
        self._previous = {s: signal.signal(s, self._stop) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        if not self.stopped:
            for s, handler in self._previous.items():
                signal.signal(s, handler)


@contextlib.contextmanager
def _signals_held():
    """The stop signals held back while the pool starts its workers (it does
    so as tasks are submitted): each worker inherits the mask and lets them in
    once its initializer has set its own handlers, so that a Ctrl-C during its
    imports does not end it with a traceback. Here they arrive on release."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_workers() -> None:
    """SIGTERM to every worker (each closes its sandboxes and exits, see
    ``_stop_worker``); SIGKILL to any still running a moment later."""
    workers = multiprocessing.active_children()
    for worker in workers:
        worker.terminate()
    deadline = time.monotonic() + WORKER_STOP_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join()


def _grade_all(todo: dict[str, str], jobs: int, grade, advance, graded: dict[str, tuple[Status, str]]) -> None:
    """``grade(student, path)`` for each of ``todo`` in ``jobs`` worker
    processes: student -> (status, message) into ``graded`` for each one
    graded. On Interrupted, the queued students are cancelled and the workers
    stopped before it propagates."""
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_start_worker, initargs=(os.getpid(),)) as pool:
        try:
            with _signals_held():
                futures = {pool.submit(grade, s, p): s for s, p in todo.items()}
            for future in concurrent.futures.as_completed(futures):
                try:
                    _, status, message = future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    status, message = Status.ERROR, "a grader worker died while grading this student; run the same " \
                                                    "command again"
                graded[futures[future]] = (status, message)
                advance()
        except Interrupted:
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_workers()
            raise


@dataclass(frozen=True)
class Job:
    """What every student's grading in a batch shares, whichever engine runs it.
    Paths are absolute: local workers run in another folder (see
    ``_workers_start_clean``), a cluster's on other machines."""

    assignment: str
    out: Path
    seed: str = field(repr=False)
    hide: tuple[Path, ...]  # from the student's code, besides the solutions and suites
    html: bool
    skipped: SkippedPolicy
    allow_unconfined: bool


class LocalPool:
    """``--jobs`` worker processes of this machine; each writes the files of
    the students it grades (``grade_one``)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.description = f"with {jobs} worker(s)"

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def notes(self, suite) -> list[str]:
        return []

    def grade_all(self, todo: dict[str, str], job: Job, advance, graded: dict[str, tuple[Status, str]],
                  stops: _StopSignals) -> None:
        with _workers_start_clean(Course.locate()):
            grade = functools.partial(grade_one, job.assignment, out=str(job.out), seed=job.seed, hide=job.hide,
                                      html=job.html, skipped=job.skipped, allow_unconfined=job.allow_unconfined)
            _grade_all(todo, self.jobs, grade, advance, graded)


class Engine(Protocol):
    """How a batch's students are graded: ``LocalPool`` or ``grader.cluster.Cluster``."""

    description: str  # "with 4 worker(s)", said as the batch starts

    def notes(self, suite: Suite) -> list[str]: ...

    def grade_all(self, todo: dict[str, str], job: Job, advance, graded: dict[str, tuple[Status, str]],
                  stops: _StopSignals) -> None: ...


def grade_class(suite: Suite, folder: Path, out: Path, secret: Secret, students: dict[str, Path], engine: Engine,
                regrade: bool, html: bool, skipped: SkippedPolicy, allow_unconfined: bool) -> int:
    """Grade ``students`` (of ``folder``, as ``discover`` found them) with
    ``engine``, into ``out``, and write the gradebook; the exit status."""
    for stale in out.glob("students/*/.*.tmp"):  # left by a batch killed mid-write; never read
        with contextlib.suppress(OSError):
            stale.unlink()
    todo = {s: p for s, p in students.items() if regrade or not is_finished(out, s, secret.is_development)}
    print(f"{len(students)} submissions, {len(students) - len(todo)} already graded, {len(todo)} to grade "
          f"{engine.description}", flush=True)
    if secret.is_development:
        print("note: graded with the public development seed (--development): these results are no grades",
              file=sys.stderr)
    for note in engine.notes(suite) if todo else ():
        print(f"note: {note}", file=sys.stderr)
    if html and (missing := unavailable("html")):
        print(f"note: no report.html per student: {missing}", file=sys.stderr)
        html = False
    # Not resolved: a submission that is a symbolic link must reach materialize as one.
    job = Job(suite.assignment, out.absolute(), secret.value, (folder.resolve(), out.resolve()), html, skipped,
              allow_unconfined)
    sources = {s: str(p.absolute()) for s, p in todo.items()}
    graded: dict[str, tuple[Status, str]] = {}
    interrupted, stopped = False, None
    with _StopSignals() as stops:
        try:
            with _progress(len(sources)) as advance:
                engine.grade_all(sources, job, advance, graded, stops)
        except Interrupted:
            interrupted = True
        except BatchStopped as e:
            stopped = e
        stops.ignore()  # the gradebook takes a moment; an interrupt now would only lose it
        errors = {s: message for s, (status, message) in graded.items() if status is Status.ERROR}
        try:
            gradebook, rows = write_gradebook(out, suite, students, errors)
        except OSError as e:
            print(f"dlgrade grade-batch: cannot write the gradebook ({describe(e)}); the students' results written "
                  f"so far are kept: run the same command again", file=sys.stderr)
            return EXIT_INTERNAL
    finished = sum(n for status, n in rows.items() if status.final)
    if stopped:
        print(f"dlgrade grade-batch: {stopped}; stopped with {finished} of {len(students)} graded (gradebook: "
              f"{gradebook}): run the same command again once that is fixed", file=sys.stderr)
        return stopped.status
    if interrupted:
        print(f"interrupted: {finished} of {len(students)} graded; run the same command again to continue "
              f"(gradebook: {gradebook})", file=sys.stderr)
        return EXIT_INTERRUPTED
    tally = collections.Counter(status.value for status, _ in graded.values())
    print(f"gradebook: {gradebook} ({', '.join(f'{n} {s}' for s, n in sorted(tally.items())) or 'nothing new'})")
    unrecorded = [s for s in errors if not result_path(out, s).is_file()]
    if unrecorded:
        print(f"dlgrade grade-batch: no result recorded for {len(unrecorded)} student(s) ({', '.join(unrecorded)}): "
              f"the grader failed, see their rows; run the same command again to grade them", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


class _progress:
    """A tqdm bar when tqdm is installed (it is optional for the grading core)."""

    def __init__(self, total: int):
        self.total = total

    def __enter__(self):
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
            self.done = 0
            return self._print
        self.bar = tqdm(total=self.total, unit="student", file=sys.stderr, disable=not self.total)
        return lambda: self.bar.update()

    def _print(self) -> None:
        self.done += 1
        print(f"  graded {self.done}/{self.total}", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
