"""``dlgrade grade-batch DIR -a NAME -o OUT --scheduler tcp://HOST:PORT`` (or
``--scheduler-file FILE``): a Dask task per student on a running Dask cluster,
in place of the local pool. Everything else is the batch's own
(``grader/batch.py``): which students to grade, how one is graded and
rendered (``batch.grade``, ``batch.renderings``, run here on a worker), how
their files are written (``batch.write_student``, run by the client as each
result comes back), resuming, the gradebook, stopping.

What a task carries: the submission itself (``pack``: what
``grader.submissions.materialize`` reads of it, laid out again on the worker
by ``unpack``; no shared file system is needed), the secret seed (in the task,
never on a command line), and the client's ``Fingerprint``. A worker refuses
the task (``Refused``) when its dlgrade, its suite module or its reference
solution differ from the client's, or when it runs more than one thread: one
grading at a time per process, as in the local pool, since speed checks time
the grader's own process. The client stops the batch at the first refusal.

Faults are Dask's own: the scheduler reschedules the tasks of a worker that
died; with ``distributed.scheduler.allowed-failures: 1`` a task under which a
second worker dies fails with ``KilledWorker``, recorded as that student's
``error`` row with the reason (the README's "More than one machine" has the scheduler's
settings). GPU assignments' tasks need the worker resource ``GPU``
(``dask worker ... --resources "GPU=1"``), so that a GPU grades one CNN at a
time; the others run on any worker.

Needs the ``cluster`` extra (``pip install 'dlgrade[cluster]'``) on the client
and on every worker, with the same dlgrade and course.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import stat
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import distributed
import distributed.comm

from grader.batch import BatchStopped, Job, describe, grade, renderings, write_student
from grader.course import Course
from grader.exits import EXIT_INTERNAL, EXIT_USAGE, version
from grader.results import GradeResult, SkippedPolicy, Status
from grader.submissions import MAX_FOLDER_BYTES, MAX_FOLDER_FILES, MAX_SOURCE_BYTES, MAX_UNZIPPED_BYTES
from grader.suites import DEFINES_SUITE, SUITES

GPU = "GPU"  # the worker resource of a GPU: one per GPU, each grading one student at a time
# What the scheduler should be started with (the README's "More than one machine"): a task is given up once a second
# worker has died under it, and a worker holds only the task it runs (not one queued behind it, which its death would
# also count against).
SCHEDULER_POLICY = {"allowed-failures": 1, "worker-saturation": 1.0}
READ_AT_MOST = MAX_UNZIPPED_BYTES + 1  # no more of a file is ever read by materialize: past it, it is too large


class ClusterError(Exception):
    """The cluster cannot be used as given: said in one line, before any grading."""


class Refused(Exception):
    """Raised by a worker that must not grade a task; the message names the
    worker, what it has and what the client has."""


# --- the submission, carried in the task --------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One file system entry of a submission as the grader looks at it: its
    name (relative), its kind (``stat.S_IF*``) and, for a regular file, its
    first bytes."""

    name: str
    kind: int
    data: bytes = b""


def pack(path: Path) -> tuple[Entry, ...]:
    """What ``materialize`` reads of the submission at ``path``, in the order
    it reads it: the entry itself, and for a folder its own ``.py`` files but
    the public tests (``_from_folder``'s choice). Only the bytes materialize
    would read travel: of each file as much as its largest cap allows; of a
    folder's files, none past the first that takes it over its total or when
    it holds too many (materialize stops there). A symbolic link, a FIFO or
    another special file travels as its kind alone, as materialize refuses
    it without reading it. OSError where this machine cannot read it."""
    kind = stat.S_IFMT(os.lstat(path).st_mode)
    if kind != stat.S_IFDIR:
        return (Entry(path.name, kind, _head(path, READ_AT_MOST) if kind == stat.S_IFREG else b""),)
    taken = sorted(e for e in path.iterdir() if e.suffix == ".py" and not e.name.startswith("test_"))
    entries, budget = [Entry(path.name, kind)], MAX_FOLDER_BYTES if len(taken) <= MAX_FOLDER_FILES else -1
    for entry in taken:
        inner = stat.S_IFMT(os.lstat(entry).st_mode)
        data = _head(entry, MAX_SOURCE_BYTES + 1) if inner == stat.S_IFREG and budget >= 0 else b""
        budget -= len(data)
        entries.append(Entry(f"{path.name}/{entry.name}", inner, data))
    return tuple(entries)


def _head(path: Path, size: int) -> bytes:
    # Not following a link, not blocking on a FIFO put there since the lstat: as materialize opens files.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        return f.read(size)


def unpack(entries: tuple[Entry, ...], where: Path) -> Path:
    """The submission laid out again under ``where``; its path. Names come
    from ``pack`` on the client (one entry of the class folder, or one file
    inside it), never from the student's archives."""
    for entry in entries:
        target = where / entry.name
        if entry.kind == stat.S_IFREG:
            target.write_bytes(entry.data)
        elif entry.kind == stat.S_IFDIR:
            target.mkdir()
        elif entry.kind == stat.S_IFLNK:
            target.symlink_to(os.devnull)  # materialize never follows one; the client's target means nothing here
        else:
            # A FIFO. A device or a socket, which only root could make here, arrives as one too: refused all the same
            # (only regular files are taken), in other words.
            os.mkfifo(target)
    return where / entries[0].name


def _relocate(result: GradeResult, here: str, there: str) -> None:
    """A result made on a worker names the submission where the client has it,
    so that every report and gradebook reads as the local pool's."""
    def moved(text: str) -> str:
        return text.replace(here, there)

    result.submission, result.message = moved(result.submission), moved(result.message)
    result.notices = [moved(n) for n in result.notices]
    for function in result.functions:
        function.notes = [moved(n) for n in function.notes]
        for case in function.cases:
            case.messages = [moved(m) for m in case.messages]


# --- what a task checks before it grades -------------------------------------------------------------------------

def _sha256(path: Path | None) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path else "absent"


@dataclass(frozen=True)
class Fingerprint:
    """What must be the same on the client and on a worker for the worker's
    grade to be the client's: dlgrade's version, the assignment's suite module
    (``grader/suites/<name>.py``, with the families it is written with) and the
    reference solution (the CNN's throughput is measured against it)."""

    dlgrade: str
    assignment: str
    suite: str  # sha256 of the suite's source and of its families
    solution: str  # sha256 of the reference solution, or "absent" where this machine has none

    @classmethod
    def here(cls, assignment: str) -> "Fingerprint":
        spec = importlib.util.find_spec(f"grader.suites.{assignment}")
        assert spec is not None and spec.origin is not None  # an assignment of SUITES: its module is there
        module = Path(spec.origin)
        # The suite and the families it is written with (every module of the package that is no suite's).
        families = sorted(p for p in module.parent.glob("*.py")
                          if not p.stem.startswith("_") and not DEFINES_SUITE.search(p.read_text()))
        suite = hashlib.sha256("".join(f"{p.name} {_sha256(p)}\n" for p in (module, *families)).encode()).hexdigest()
        return cls(version(), assignment, suite, _sha256(Course.locate().solution_file(SUITES[assignment])))

    def __str__(self) -> str:
        return (f"dlgrade {self.dlgrade}, suite grader/suites/{self.assignment}.py sha256 {self.suite[:16]}, solution "
                f"{'sha256 ' + self.solution[:16] if self.solution != 'absent' else 'absent'}")


@dataclass(frozen=True, repr=False)
class Task:
    """One student's grading, as it travels to a worker."""

    assignment: str
    number: int  # the student's place in the batch: the task's key and repr show it, not the name
    student: str
    folder: str  # where the client has the submission (the results name it there)
    submission: tuple[Entry, ...]
    seed: str
    html: bool
    skipped: SkippedPolicy
    allow_unconfined: bool
    fingerprint: Fingerprint

    def __repr__(self) -> str:
        # A worker logs a failed task with its arguments' repr: never the seed, the submission or the student's name.
        return f"Task({self.assignment!r}, student #{self.number})"


def grade_task(task: Task) -> tuple[dict[str, str], Status, str]:
    """Runs on a worker: the student graded and their files rendered, for the
    client to write (files by name, status, message). ``Refused`` as above."""
    worker = distributed.get_worker()
    here = Fingerprint.here(task.assignment)
    if here != task.fingerprint:
        raise Refused(f"worker {worker.address} refuses to grade: it has {here}, the client has {task.fingerprint}; "
                      f"install the same dlgrade and course on the client and every worker")
    if worker.state.nthreads != 1:
        raise Refused(f"worker {worker.address} runs {worker.state.nthreads} threads: a grading worker runs one "
                      f"(dask worker --nthreads 1 --nworkers N), as speed checks time the grader's own process")
    # The worker's own scratch folder (Dask's, mode 0700, removed with the worker) holds the received submission and
    # whatever the worker spills (other students' reports): hidden from the student's code, as the class folder and
    # the results are in the local pool. One folder for every task: the sandbox's view, made once per set of hidden
    # folders, is not made again for each student (80 ms).
    hidden = Path(worker.local_directory)
    with tempfile.TemporaryDirectory(prefix="dlgrade-task-", dir=hidden) as scratch:
        path = unpack(task.submission, Path(scratch))
        result = grade(SUITES[task.assignment], path, task.seed, (hidden,), task.skipped, task.allow_unconfined)
    _relocate(result, scratch, task.folder)
    return renderings(result, task.html, task.student), result.status, result.message


# --- on the client -----------------------------------------------------------------------------------------------

class Cluster:
    """A connection to a running Dask scheduler, as the batch's engine."""

    def __init__(self, client: distributed.Client, where: str):
        self.client = client
        workers = len(client.scheduler_info(n_workers=-1)["workers"])
        self.description = f"on the Dask cluster at {where} ({workers} worker(s) now)"

    @classmethod
    def connect(cls, address: str | None, scheduler_file: str | None) -> "Cluster":
        """ClusterError, in one line, where the scheduler cannot be used: an
        address Dask cannot parse, or a scheduler that cannot be reached within
        ``distributed.comm.timeouts.connect`` (30 s unless configured)."""
        where = address or scheduler_file
        if scheduler_file:
            # Read here rather than by the client, which would wait forever for a file that is not there (a
            # scheduler writes it as it starts) and fail on a broken one with a bare AssertionError.
            try:
                address = json.loads(Path(scheduler_file).read_text())["address"]
            except OSError as e:
                raise ClusterError(f"--scheduler-file {scheduler_file}: {e.strerror or e} (it is written by `dask "
                                   f"scheduler --scheduler-file {scheduler_file}`)") from None
            except (ValueError, KeyError, TypeError) as e:
                raise ClusterError(f"--scheduler-file {scheduler_file}: not a Dask scheduler file ({type(e).__name__}: "
                                   f"{e})") from None
            where = f"{address} (from {scheduler_file})"
        assert address is not None  # grade-batch passes --scheduler or --scheduler-file
        try:
            # Checked before a client exists: one that fails on such an address stays half made, and prints a
            # traceback as the interpreter exits.
            distributed.comm.resolve_address(address)
            # Not the default client: nothing else in this process should submit to it.
            client = distributed.Client(address, set_as_default=False)
        except (OSError, ValueError, TypeError) as e:  # a malformed address, scheme or host; unreachable, timed out
            raise ClusterError(f"cannot use the Dask scheduler at {where}: {type(e).__name__}: {e}") from None
        return cls(client, client.scheduler.address)

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def notes(self, suite) -> list[str]:
        """What the batch should say before it starts: tasks that will wait for
        a worker, a scheduler that retries tasks otherwise than documented."""
        found = []
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        if suite.gpu and not any(w.get("resources", {}).get(GPU) for w in workers):
            found.append(f"{suite.assignment} is graded on GPU workers, and none has joined the scheduler yet: its "
                         f"tasks wait for one (dask worker ADDRESS --nthreads 1 --resources \"{GPU}=1\")")
        elif not workers:
            found.append("no worker has joined the scheduler yet: the tasks wait for one")
        try:
            # A lambda, which travels by value: the scheduler need not have dlgrade installed.
            policy = self.client.run_on_scheduler(lambda dask_scheduler: {
                "allowed-failures": dask_scheduler.allowed_failures,
                "worker-saturation": dask_scheduler.WORKER_SATURATION})
        except Exception:  # noqa: BLE001 - a scheduler that does not run functions: nothing to say
            policy = SCHEDULER_POLICY
        if policy != SCHEDULER_POLICY:
            found.append(f"the scheduler runs with {policy}, not {SCHEDULER_POLICY}: a task whose workers die is "
                         f"retried {policy['allowed-failures']} time(s) before it is recorded as error; start it with "
                         f"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1 "
                         f"DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0 (README: More than one machine)")
        return found

    def grade_all(self, todo: dict[str, str], job: Job, advance, graded: dict[str, tuple[Status, str]],
                  stops) -> None:
        """A task for each of ``todo``; as each comes back, the student's files
        written here and (status, message) put in ``graded``. On Interrupted
        or BatchStopped the tasks are cancelled before it propagates: queued
        ones never start, and one already running finishes on its worker,
        its result dropped (Dask does not interrupt a running task)."""
        suite = SUITES[job.assignment]
        fingerprint = Fingerprint.here(job.assignment)
        batch = f"dlgrade-{job.assignment}-{uuid.uuid4().hex[:8]}"  # a key of its own, should the same class run again
        futures: dict[distributed.Future, str] = {}
        try:
            for number, (student, path) in enumerate(todo.items()):
                try:
                    submission = pack(Path(path))
                except OSError as e:
                    graded[student] = (Status.ERROR, f"the grader could not read this submission to send it to the "
                                                     f"cluster ({describe(e)}); run the same command again")
                    advance()
                    continue
                task = Task(job.assignment, number, student, str(Path(path).parent), submission, job.seed, job.html,
                            job.skipped, job.allow_unconfined, fingerprint)
                futures[self.client.submit(grade_task, task, key=(batch, number),
                                           resources={GPU: 1} if suite.gpu else None)] = student
            for future in distributed.as_completed(futures, loop=self.client.loop):
                student = futures.pop(future)
                try:
                    files, status, message = future.result()
                except distributed.KilledWorker as e:
                    graded[student] = (Status.ERROR, f"the grader's worker died twice while grading this student (the "
                                                     f"last: {e.last_worker.address}; its log may say why); run the "
                                                     f"same command again")
                except Refused as e:
                    raise BatchStopped(str(e), EXIT_USAGE) from None
                except distributed.CancelledError:
                    raise BatchStopped("the connection to the Dask scheduler was lost", EXIT_INTERNAL) from None
                except Exception as e:  # noqa: BLE001 - a worker that cannot run dlgrade's tasks at all
                    raise BatchStopped(f"a worker could not grade {student}: {type(e).__name__}: {e}",
                                       EXIT_INTERNAL) from None
                else:
                    with stops.deferred():  # a stop now waits until the student's files are all written
                        graded[student] = write_student(job.out, student, files, status, message)[1:]
                future.release()  # the result is written: the cluster need not keep it
                advance()
        except BaseException:
            with contextlib.suppress(Exception):  # a scheduler that went away has dropped them already
                self.client.cancel(list(futures), force=True)
            raise
