"""The trusted side of the process boundary.

A ``Sandbox`` runs one submission in a child process (``grader/child/main.py``)
in a fresh temporary directory that holds a copy of the submission only, with
a scrubbed environment, in its own process group, under the ``Limits`` it
applies to itself before importing the submission
(``grader/child/confine.py``). The grader sends a case's inputs and program; the child answers with plain
arrays or an error. A case that hangs past its time limit, or a child that
exits or crashes, fails that case only: the child is killed and a fresh one
serves the next case.

Children are not started as new interpreters but forked by a zygote
(``grader/child/zygote.py``): a ``python -I`` process per grader process and
set of preloaded modules, started on first need, that has imported numpy (and
torch where allowed) once and never runs student code. Each child is a fresh
fork that confines itself as a fresh interpreter did; what it no longer pays
for is starting Python and importing those modules.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.child.wire import WireError, encode, read_message

CHILD_FOLDER = Path(__file__).resolve().parent / "child"
ZYGOTE_MAIN = CHILD_FOLDER / "zygote.py"
# Inherited only where set: OpenBLAS builds need them on some processors.
PASSED_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
STARTUP_TIME_LIMIT = 60.0  # seconds to import the submission, or for a zygote to import what it preloads
FORK_TIME_LIMIT = 30.0  # seconds for a zygote to answer a request with the new child's pid
OUTPUT_TAIL_BYTES = 2000
LIMIT_SIGNALS = {
    signal.SIGXCPU: " (it used up its CPU time)",
    signal.SIGXFSZ: " (it wrote a file, or printed output, over the size limit)",
}


@dataclass(frozen=True)
class Limits:
    """What the child may use. The memory limit is on address space: fine for
    numpy, too tight for CUDA (which maps the GPU's memory), so GPU suites set
    it to None."""

    cpu_seconds: int = 300
    memory_bytes: int | None = 4 << 30
    file_bytes: int = 64 << 20  # any file it writes, its printed output included
    processes: int = 64  # applied where the child runs as its own user (RLIMIT_NPROC counts per user)
    allow_processes: bool = False
    # Modules the student may not import, at any depth (torch for the numpy
    # assignments: autograd would compute the gradients they are to derive).
    forbidden_modules: tuple[str, ...] = ("torch", "tensorflow", "jax", "autograd", "scipy", "sklearn", "cupy",
                                          "numba")
    unprivileged_user: str = "nobody"  # used when the grader runs as root
    # Imported once by the zygote that forks the children, so already loaded in
    # each: never a forbidden module, since the import hook only refuses new imports.
    preload: tuple[str, ...] = ("numpy",)

    def __post_init__(self):
        both = {name.partition(".")[0] for name in self.preload} & set(self.forbidden_modules)
        if both:
            raise ValueError(f"Limits: {', '.join(sorted(both))} cannot be both preloaded and forbidden")

    def to_json(self, uid: int | None, gid: int | None, hide: list[str]) -> str:
        rlimits = {"RLIMIT_CPU": self.cpu_seconds, "RLIMIT_FSIZE": self.file_bytes, "RLIMIT_CORE": 0}
        if self.memory_bytes is not None:
            rlimits["RLIMIT_AS"] = self.memory_bytes
        if uid is not None:
            rlimits["RLIMIT_NPROC"] = self.processes
        return json.dumps({"rlimits": rlimits, "uid": uid, "gid": gid, "allow_processes": self.allow_processes,
                           "hide": hide, "forbidden_modules": list(self.forbidden_modules)})

    def child_user(self) -> tuple[int | None, int | None]:
        """(uid, gid) to switch to: an unprivileged user when we are root and
        that user can run this Python (not so where it lives under /root)."""
        if os.geteuid() != 0 or not _python_readable_by_others():
            return None, None
        try:
            entry = pwd.getpwnam(self.unprivileged_user)
        except KeyError:
            return None, None
        return entry.pw_uid, entry.pw_gid


def _sandboxes_folder() -> Path:
    """One folder for every sandbox of this machine: others may pass through it
    (0o711) but not list it, and each child has it covered."""
    base = Path(tempfile.gettempdir()) / "dlgrade-sandboxes"
    base.mkdir(mode=0o711, exist_ok=True)
    return base


@functools.lru_cache(maxsize=None)
def _python_folders() -> tuple[Path, ...]:
    """What the child runs on: Python, its standard library and packages, and
    the child's own code."""
    import sysconfig

    return tuple(dict.fromkeys(Path(p).resolve() for p in (
        sys.prefix, sysconfig.get_path("stdlib"), sysconfig.get_path("purelib"), sysconfig.get_path("platlib"),
        CHILD_FOLDER)))


def _hideable(paths: list[Path]) -> list[str]:
    """The folders that can be covered without taking away what the child runs
    on (never one holding a folder of ``_python_folders``)."""
    keep = []
    for path in paths:
        path = Path(path).resolve()
        if path.is_dir() and not any(n == path or path in n.parents for n in _python_folders()):
            keep.append(str(path))
    return keep


@functools.lru_cache(maxsize=None)
def _python_readable_by_others() -> bool:
    """Whether any user can reach what the child runs on: every folder on the
    way searchable by others."""
    return all(os.stat(folder).st_mode & 0o001 for p in _python_folders() for folder in (p, *p.parents))


@dataclass
class Outcome:
    """What one case produced: outputs, or an error of a known kind."""

    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None  # missing, not_implemented, exception, exit, bad_return, import, timeout, crash, protocol
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


class _ChildGone(Exception):
    pass


class _Timeout(Exception):
    pass


class Sandbox:
    def __init__(self, module_file: Path, module_name: str, limits: Limits = Limits(), hide: tuple[Path, ...] = (),
                 helpers: bool = False):
        """``hide``: folders the child must not see (solutions, suites, other
        students' work); every sandbox's folder is hidden from the others.
        ``helpers``: the submission is a folder of the student's own, whose
        other ``.py`` files (helper modules) come along."""
        base = _sandboxes_folder()
        self._workdir = Path(tempfile.mkdtemp(prefix="sandbox-", dir=base))
        self._module_file = self._workdir / f"{module_name}.py"
        _copy_submission(Path(module_file), self._module_file, helpers)
        self._uid, self._gid = limits.child_user()
        if self._uid is not None:
            for path in (self._workdir, *self._workdir.iterdir()):
                os.chown(path, self._uid, self._gid)
        self._limits = limits
        self._limits_json = limits.to_json(self._uid, self._gid, _hideable([base, *hide]))
        self._child: _Child | None = None
        self._import_error: str | None = None
        # Which guarantees held in the child: {"network": ..., "hidden": ...} (see grader/child/confine.py)
        # and "user": "unprivileged", "root" (no unprivileged user can run this Python) or "own".
        self.guarantees: dict[str, str] = {"user": "unprivileged" if self._uid is not None else
                                           "root" if os.geteuid() == 0 else "own"}
        log_fd, log_path = tempfile.mkstemp(prefix="log-", suffix=".txt", dir=base)
        os.close(log_fd)  # reopened for each child
        self._log_path = Path(log_path)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._kill()
        shutil.rmtree(self._workdir, ignore_errors=True)
        self._log_path.unlink(missing_ok=True)

    def run(self, program: dict, inputs: dict, time_limit: float) -> Outcome:
        if self._import_error is None and self._child is None:
            self._start()
        if self._import_error is not None:
            return Outcome(error="import", message=self._import_error)
        scalars = {k: v for k, v in inputs.items() if not isinstance(v, np.ndarray)}
        arrays = {k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}
        deadline = time.monotonic() + time_limit
        try:
            self._send(encode({"program": program, "scalars": scalars}, arrays), deadline)
            meta, outputs = self._receive(deadline)
        except _Timeout:
            self._kill()
            return Outcome(error="timeout", message=f"did not finish within the time limit of {time_limit:g} s")
        except (_ChildGone, BrokenPipeError):
            return Outcome(error="crash", message=self._describe_death())
        except WireError as e:
            self._kill()
            return Outcome(error="protocol", message=f"the process running your code sent a malformed result ({e})")
        if meta.get("kind") == "error":
            return Outcome(error=str(meta.get("error")), message=str(meta.get("message")))
        if meta.get("kind") != "outputs":
            self._kill()
            return Outcome(error="protocol", message="the process running your code sent an unexpected message")
        return Outcome(outputs=outputs)

    # -- child lifecycle ---------------------------------------------------

    def _start(self) -> None:
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        request = {"module_file": str(self._module_file), "limits": self._limits_json, "workdir": str(self._workdir),
                   "env": {**_child_environment(), "HOME": str(self._workdir)}}
        try:
            with open(self._log_path, "wb") as log:  # a fresh log per child: the size limit is per child
                pid = _fork_child(self._limits, request, (request_r, result_w, log.fileno(), status_w))
        except BaseException:
            for fd in (request_w, result_r, status_r):
                os.close(fd)
            raise
        finally:
            for fd in (request_r, result_w, status_w):
                os.close(fd)
        self._child = _Child(pid, status_r)
        self._requests, self._results = request_w, result_r
        try:
            meta, _ = self._receive(time.monotonic() + STARTUP_TIME_LIMIT)
        except _Timeout:
            self._kill()
            self._import_error = f"importing the submission did not finish within {STARTUP_TIME_LIMIT:g} s"
            return
        except (_ChildGone, WireError):
            self._import_error = "the submission ended the process while being imported: " + self._describe_death()
            return
        if meta.get("kind") != "ready":
            self._kill()
            self._import_error = str(meta.get("message", "the submission could not be imported"))
        self.guarantees.update({k: str(meta[k]) for k in ("network", "hidden") if k in meta})

    def _kill(self) -> None:
        if self._child is None:
            return
        self._child.kill()
        self._child.close()
        for fd in (self._requests, self._results):
            os.close(fd)
        self._child = None

    def _describe_death(self) -> str:
        code = self._child.returncode(timeout=5)
        status_lost = self._child.status_lost
        self._kill()
        if status_lost:
            what = "the process running your code ended, but how was lost (the process that started it died)"
        elif code is None:
            what = "the process running your code stopped answering"
        elif code < 0:
            what = f"the process running your code was killed by {signal.Signals(-code).name}"
            what += LIMIT_SIGNALS.get(-code, "")
        else:
            what = f"the process running your code exited with status {code} (os._exit, or a crash)"
        tail = self.output_tail()
        return what + (f"; its last output:\n{tail}" if tail else "")

    def output_tail(self) -> str:
        """The end of what the student's code printed, for context in messages."""
        try:
            with open(self._log_path, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - OUTPUT_TAIL_BYTES))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    # -- pipes ----------------------------------------------------------------

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not _ready(self._requests, select.POLLOUT, remaining):
                raise _Timeout
            written = os.write(self._requests, view)
            view = view[written:]

    def _receive(self, deadline: float):
        def read_exactly(n: int) -> bytes:
            chunks = []
            while n:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not _ready(self._results, select.POLLIN, remaining):
                    raise _Timeout
                chunk = os.read(self._results, min(n, 1 << 20))
                if not chunk:
                    raise _ChildGone
                chunks.append(chunk)
                n -= len(chunk)
            return b"".join(chunks)

        return read_message(read_exactly)


def _child_environment() -> dict[str, str]:
    """The whole environment of a child (besides its HOME) and of the zygote
    that forks it: the grader's own (the secret seed among it) never reaches
    them, not even as the zygote's initial environment a child could read in
    /proc."""
    env = {"PATH": os.defpath, "LANG": "C.UTF-8",
           # One thread each: fair timings, many children side by side, and a
           # single-threaded zygote (numpy's BLAS reads these when imported).
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.update({k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ})
    return env


class _Child:
    """A process forked by a zygote. It is the zygote's child, not ours, so
    Popen.wait cannot serve: the zygote reaps it and writes its wait status on
    a pipe that only the zygote holds (end of file without a status: the
    zygote died first)."""

    def __init__(self, pid: int, status_fd: int):
        self.pid = pid  # also its process group's id (it starts its own session)
        self._status_fd = status_fd
        self._report: bytes | None = None

    def returncode(self, timeout: float) -> int | None:
        """As ``Popen.returncode`` (-N: killed by signal N); None if it has not
        ended within ``timeout`` seconds or its status was lost."""
        if self._report is None and _ready(self._status_fd, select.POLLIN, timeout):
            self._report = os.read(self._status_fd, 64)  # written at once, then closed: one read takes it
        return os.waitstatus_to_exitcode(int(self._report)) if self._report else None

    @property
    def status_lost(self) -> bool:
        return self._report == b""

    def kill(self) -> None:
        """Kill its whole process group. Once it is reaped, the zygote has
        done so already (and its pid may be reused): then nothing is sent."""
        if self.returncode(0) is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        os.close(self._status_fd)


class _ZygoteGone(Exception):
    pass


class _Zygote:
    """This grader process's fork server for one set of preloaded modules.

    Descriptors go over a Unix socket (``socket.send_fds``): the grader makes
    every pipe as before and keeps its ends, and the zygote answers each
    request with one message, the child's pid. See grader/child/zygote.py."""

    def __init__(self, preload: tuple[str, ...]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            # Its own session: a Ctrl-C meant for the grader does not kill it
            # under a running child; it ends when our end of the socket closes.
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(ZYGOTE_MAIN), str(theirs.fileno()), json.dumps(list(preload))],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                env=_child_environment(), cwd="/", start_new_session=True)
        self._socket = ours
        self._lock = threading.Lock()  # one request and its answer at a time
        try:
            ready = self._answer(STARTUP_TIME_LIMIT)
        except _ZygoteGone:
            ready = {"message": "it ended before it was ready"}
        if ready.get("kind") != "ready":
            self.close()
            raise RuntimeError(f"could not start the sandboxes' fork server: {ready.get('message')}")
        self.modules = frozenset(ready["modules"])  # top-level modules every child inherits

    def fork(self, request: dict, fds: tuple[int, ...]) -> int:
        with self._lock:
            try:
                socket.send_fds(self._socket, [json.dumps(request).encode()], fds)
            except (BrokenPipeError, ConnectionError) as e:
                raise _ZygoteGone from e
            return self._answer(FORK_TIME_LIMIT)["pid"]

    def _answer(self, seconds: float) -> dict:
        if not _ready(self._socket.fileno(), select.POLLIN, seconds):
            raise _ZygoteGone
        try:
            message = self._socket.recv(1 << 16)
        except ConnectionError as e:
            raise _ZygoteGone from e
        if not message:
            raise _ZygoteGone
        return json.loads(message)

    def abandon(self) -> None:
        """Let go of our end of the socket only (a forked copy of the grader
        holds a copy of it, but the zygote is not its child)."""
        self._socket.close()

    def close(self) -> None:
        self._socket.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


_zygotes: dict[tuple[str, ...], _Zygote] = {}


def _fork_child(limits: Limits, request: dict, fds: tuple[int, ...]) -> int:
    """A fresh child from this process's zygote for ``limits.preload``: started
    on first need, replaced when it has died."""
    for _ in range(2):
        zygote = _zygotes.get(limits.preload)
        if zygote is None:
            zygote = _zygotes[limits.preload] = _Zygote(limits.preload)
        loaded = zygote.modules & set(limits.forbidden_modules)
        if loaded:  # brought in by a preloaded module: the import hook could not refuse them
            raise RuntimeError(f"preloading {', '.join(limits.preload)} also loads {', '.join(sorted(loaded))}, "
                               "which the assignment forbids")
        try:
            return zygote.fork(request, fds)
        except _ZygoteGone:
            del _zygotes[limits.preload]
            zygote.close()
    raise RuntimeError("the sandboxes' fork server died twice in a row")


def _stop_zygotes() -> None:
    while _zygotes:
        _zygotes.popitem()[1].close()


def _forget_zygotes() -> None:
    """In a forked copy of the grader: the zygotes are the parent's to use."""
    for zygote in _zygotes.values():
        zygote.abandon()
    _zygotes.clear()


atexit.register(_stop_zygotes)
os.register_at_fork(after_in_child=_forget_zygotes)


def _ready(fd: int, event: int, seconds: float) -> bool:
    """Whether ``fd`` is ready (or closed) within ``seconds``. poll, not select:
    select fails for descriptors numbered 1024 and above."""
    poller = select.poll()
    poller.register(fd, event)
    return bool(poller.poll(seconds * 1000))


def _copy_submission(source: Path, target: Path, helpers: bool) -> None:
    """The graded module under its expected name and, from a submission folder,
    its other ``.py`` files (never from a folder of many students' files)."""
    if helpers:
        for sibling in source.parent.glob("*.py"):
            if sibling != source and not sibling.name.startswith("test_"):
                shutil.copyfile(sibling, target.parent / sibling.name)
    shutil.copyfile(source, target)
