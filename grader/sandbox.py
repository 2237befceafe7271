"""The trusted side of the process boundary.

A ``Sandbox`` runs one submission in a child process (``grader/child/main.py``)
with a scrubbed environment, under the ``Limits`` it applies to itself before
importing the submission (``grader/child/confine.py``), at the strongest
confinement level the machine allows (``Confinement``: namespaces and an
allow-list view, or a uid of its own, or, only when the instructor allows it,
neither). This side decides what the child gets: the view (``_view``: the
runtime and the allowed packages, nothing else of the host), a uid no other
live sandbox holds (``_UidLease``), a cgroup for memory and processes
(``grader/cgroups.py``), a copy of the submission. The grader sends a case's
inputs and program; the child answers with plain arrays or an error. A case
that hangs past its time limit, or a child that exits or crashes, fails that
case only: the child is killed and a fresh one serves the next case.

Children are not started as new interpreters but forked by a zygote
(``grader/child/zygote.py``): a ``python -I`` process per grader process and
set of preloaded modules, started on first need, that has imported numpy (and
torch where allowed) once and never runs student code. Each child is a fresh
fork that confines itself as a fresh interpreter would; what it no longer pays
for is starting Python and importing those modules.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from grader.cgroups import Cgroup
from grader.child.confine import Confinement
from grader.child.protocol import DeviceName, ErrorKind, ReplyKind, Request, child_error, encode_request
from grader.child.wire import WireError, encode, read_message
from grader.spec import Limits

CHILD_FOLDER = Path(__file__).resolve().parent / "child"
ZYGOTE_MAIN = CHILD_FOLDER / "zygote.py"
# Inherited only where set: OpenBLAS builds need them on some processors.
PASSED_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
STARTUP_TIME_LIMIT = 60.0  # seconds to import the submission, or for a zygote to import what it preloads
FORK_TIME_LIMIT = 30.0  # seconds for a zygote to answer a request with the new child's pid
OUTPUT_TAIL_BYTES = 2000
OUTPUT_MARKER = "; its last output:\n"  # between how a child ended and what it printed last
LIMIT_SIGNALS: dict[int, str] = {
    signal.SIGXCPU: " (it used up its CPU time)",
    signal.SIGXFSZ: " (it wrote a file, or printed output, over the size limit)",
}


def _limits_request(limits: Limits, own_uid: bool) -> dict:
    """The limits as the child applies them to itself (``confine.restrict``)."""
    rlimits = {"RLIMIT_CPU": limits.cpu_seconds, "RLIMIT_FSIZE": limits.file_bytes, "RLIMIT_CORE": 0}
    if limits.memory_bytes is not None:
        rlimits["RLIMIT_AS"] = limits.memory_bytes
    if own_uid:  # RLIMIT_NPROC counts every process of the uid: only a uid of the child's own
        rlimits["RLIMIT_NPROC"] = limits.processes
    return {"rlimits": rlimits, "allow_processes": limits.allow_processes,
            "executables": [path for path in map(_installed, limits.executables) if path],
            "forbidden_modules": list(limits.forbidden_modules)}


class SandboxError(RuntimeError):
    """The sandbox could not be set up as required: a failure of the grading
    machine, never of the submission (a rerun retries it)."""


def _sandboxes_folder() -> Path:
    """One folder for every sandbox of this machine: others may pass through it
    (0o711) but not list it, and each child's view leaves it out."""
    base = Path(tempfile.gettempdir()) / "dlgrade-sandboxes"
    base.mkdir(mode=0o711, exist_ok=True)
    if base.lstat().st_uid != os.geteuid() or not base.is_dir() or base.is_symlink():
        raise SandboxError(f"{base} belongs to another user: remove it, or set TMPDIR to a folder of your own")
    return base


# The lru_caches below memoise facts of this Python installation, the same for
# every sandbox of the process (a view's mounts, its folders' permissions, the
# real paths of the programs a child may start): no
# grading state lives in them. The zygotes (``_zygotes``) are a process-wide
# resource, one per set of preloaded modules, shared by every sandbox.
@functools.lru_cache(maxsize=None)
def _installed(path_in_package: str) -> str | None:
    """The real path of ``package/inside/it`` (``triton/backends/nvidia/bin/ptxas``) where that package is
    installed here, found without importing it; None where it is not there."""
    import importlib.util

    package, _, inside = path_in_package.partition("/")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    folders = list(spec.submodule_search_locations or ()) if spec else []
    found = [os.path.realpath(os.path.join(folder, inside)) for folder in folders]
    return next((path for path in found if os.path.isfile(path)), None)


@functools.lru_cache(maxsize=None)
def _python_readable_by_others() -> bool:
    """Whether any user can reach what the child runs on: every folder on the
    way searchable by others (needed where no view binds it in)."""
    return all(os.stat(folder).st_mode & 0o001 for p in _python_folders() for folder in (p, *p.parents))


@functools.lru_cache(maxsize=None)
def _python_folders() -> tuple[Path, ...]:
    import sysconfig

    return tuple(dict.fromkeys(Path(p).resolve() for p in (
        sys.prefix, sysconfig.get_path("stdlib"), sysconfig.get_path("purelib"), sysconfig.get_path("platlib"),
        CHILD_FOLDER)))


UID_RANGE = range(3_000_000, 3_000_000 + 4096)  # far from any real user's uid; one per live sandbox


class _UidLease:
    """A uid no other live sandbox of this machine holds: an exclusive lock on
    its file in a folder only root can write, held while the sandbox lives."""

    def __init__(self):
        folder = _sandboxes_folder() / "uids"
        folder.mkdir(mode=0o700, exist_ok=True)
        offset = os.getpid() % len(UID_RANGE)  # graders side by side start their search apart
        for i in range(len(UID_RANGE)):
            uid = UID_RANGE[(offset + i) % len(UID_RANGE)]
            fd = os.open(folder / str(uid), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxError(f"all {len(UID_RANGE)} sandbox uids are in use")

    def release(self) -> None:
        os.close(self._fd)


SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
HOME_IN_VIEW = "/submission"


def _ld_so_conf_folders(path: Path = Path("/etc/ld.so.conf")) -> list[str]:
    """The folders the dynamic loader searches besides the system's (CUDA's
    driver library lives in one), from ld.so.conf and what it includes."""
    folders: list[str] = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return folders
    for line in (line.split("#", 1)[0].strip() for line in lines):
        if line.startswith("include "):
            for included in sorted(Path("/").glob(line.split(None, 1)[1].lstrip("/"))):
                folders += _ld_so_conf_folders(included)
        elif line.startswith("/"):
            folders.append(line)
    return folders


def _distribution_tops(name: str, seen: set[str]) -> list[str]:
    """The top-level files and folders of an installed distribution and of
    every one it requires (extras aside), in their site-packages folders."""
    import importlib.metadata
    import re

    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return []
    seen.add(key)
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return []
    # Installed on the file system: a PathDistribution, which locates a pathlib.Path (typeshed: a SimplePath).
    base = Path(dist.locate_file(""))  # type: ignore[arg-type]
    tops = {Path(f).parts[0] for f in dist.files or () if Path(f).parts and Path(f).parts[0] != ".."}
    found = [str(base / top) for top in sorted(tops) if (base / top).exists()]
    for requirement in dist.requires or ():
        if "extra ==" not in requirement.replace('"', "").replace("'", ""):
            named = re.match(r"[A-Za-z0-9._-]+", requirement)
            assert named is not None  # a requirement (PEP 508) starts with the distribution's name
            found += _distribution_tops(named.group(0), seen)
    return found


@functools.lru_cache(maxsize=None)
def _view(packages: tuple[str, ...], gpu: bool, hide: tuple[str, ...]) -> dict:
    """What the child's view holds (see grader/child/view.py): the standard
    library, the shared libraries, the child's own code and the allowed
    packages, read-only; masks over every site-packages folder, the grader's
    own package and the hidden folders where a bind would show them."""
    import site
    import sysconfig

    stdlib = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    libpython = [line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()
                 if "/libpython" in line]
    read_only = [*stdlib, *libpython[:1], *SYSTEM_LIBRARIES, *_ld_so_conf_folders(), "/etc/ld.so.cache"]
    if gpu:
        read_only.append("/sys")
    # Absolute: a relative entry ("." after sys.path.insert(0, ".")) would mask the view's own root.
    site_folders = {p for p in map(os.path.abspath, filter(None, sys.path)) if os.path.isdir(p) and not any(
        p == s or p.startswith(s.rstrip("/") + "/") and "-packages" not in p[len(s):] for s in stdlib)}
    site_folders |= set(site.getsitepackages()) | {os.path.join(s, "site-packages") for s in stdlib}
    masks = [*site_folders, str(Path(__file__).resolve().parent), *hide]
    inside = [str(CHILD_FOLDER)]
    seen: set[str] = set()
    for name in packages:
        inside += _distribution_tops(name, seen)
    devices = list(DEVICES) + (sorted(str(p) for p in Path("/dev").glob("nvidia*")) if gpu else [])
    depth = lambda p: (p.rstrip("/").count("/"), p)  # noqa: E731 - parents before children
    binds: list[str] = []
    for path in sorted({p for p in read_only if os.path.exists(p)}, key=depth):
        if not any(path.startswith(b.rstrip("/") + "/") for b in binds):  # a recursive bind brought it in already
            binds.append(path)
    return {"read_only": binds,
            "masks": sorted(set(masks), key=depth), "inside_masks": sorted(dict.fromkeys(inside), key=depth),
            "devices": devices, "home": HOME_IN_VIEW}


@dataclass
class Outcome:
    """What one case produced: outputs, or an error of a known kind."""

    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    error: ErrorKind | None = None
    message: str = ""
    # The student function that failed first, when it is not the graded one (a backward's forward).
    blocked_by: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _ChildGone(Exception):
    pass


class _Timeout(Exception):
    pass


class Sandbox:
    def __init__(self, module_file: Path, module_name: str, limits: Limits = Limits(), hide: tuple[Path, ...] = (),
                 helpers: bool = False, allow_unconfined: bool = False, device: DeviceName = "cpu"):
        """``device``: where the programs run (in CPU mode the child's environment holds ``limits.cpu_environment``).
        ``hide``: folders the child must not see even where a bind of the
        view would bring them in (the view is an allow-list: solutions, suites
        and other students' work are outside it anyway). ``helpers``: the
        submission is a folder of the student's own, whose other ``.py`` files
        (helper modules) come along. ``allow_unconfined``: run even where the
        child can be neither namespaced nor given a uid of its own."""
        _make_undumpable()
        self._limits = limits
        zygote = _zygote_for(limits)
        self.confinement = _level(zygote)
        why = f"namespaces refused{'' if zygote.root else ', not root'}"
        exposed = [str(p) for p in hide if _readable_by_others(Path(p))]
        if self.confinement is Confinement.UID_ONLY and exposed:
            # A uid of its own protects nothing that every uid may read.
            self.confinement, why = Confinement.UNCONFINED, f"namespaces refused, and any user can read {exposed[0]}"
        if self.confinement is Confinement.UNCONFINED and not allow_unconfined:
            raise UnconfinedError(f"student code cannot be confined here ({why}): grade on Linux as root or with "
                                  "user namespaces, or pass --allow-unconfined to grade anyway (results are marked)")
        base = _sandboxes_folder()
        self._workdir = Path(tempfile.mkdtemp(prefix="sandbox-", dir=base))
        self._lease = _UidLease() if zygote.root and self.confinement is not Confinement.UNCONFINED else None
        self._cgroup: Cgroup | None = None
        log_fd, log_path = tempfile.mkstemp(prefix="log-", suffix=".txt", dir=base)
        os.close(log_fd)  # reopened for each child
        self._log_path = Path(log_path)
        self._child: _Child | None = None
        self._import_error: str | None = None
        try:
            _copy_submission(Path(module_file), self._workdir / f"{module_name}.py", helpers)
            uid = self._lease.uid if self._lease else None
            if uid is not None and self.confinement is Confinement.UID_ONLY:
                for path in (self._workdir, *self._workdir.iterdir()):  # its own folder, on the host
                    os.chown(path, uid, uid)
            if uid is not None:  # named by the uid: no two live sandboxes share one
                self._cgroup = Cgroup.create(f"dlgrade-{uid}", limits.resident_memory_bytes, limits.processes)
        except BaseException:
            self.close()
            raise
        namespaced = self.confinement is Confinement.NAMESPACES
        home = HOME_IN_VIEW if namespaced else str(self._workdir)
        self._request = {
            "module": module_name, "workdir": str(self._workdir), "level": self.confinement.value,
            "uid": uid, "gid": uid, "sweep_uid": uid if self.confinement is Confinement.UID_ONLY else None,
            "cgroups": self._cgroup.paths if self._cgroup else [],
            "view": dict(_view(limits.packages, limits.gpu, tuple(_hideable(hide))), home_bytes=limits.scratch_bytes,
                         tmp_bytes=limits.scratch_bytes) if namespaced else None,
            "limits": _limits_request(limits, own_uid=uid is not None),
            "env": {**_child_environment(), **dict(limits.cpu_environment if device == "cpu" else ()), "HOME": home},
            "setup": list(limits.cpu_setup if device == "cpu" else ())}
        # What held for this submission, for its result: the level, and whether a
        # cgroup limited its memory and processes.
        self.guarantees: dict[str, str] = {"confinement": self.confinement.value,
                                           "cgroup": f"v{self._cgroup.version}" if self._cgroup else "none"}

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._kill()
        if self._cgroup is not None:
            self._cgroup.kill()
            self._cgroup = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        shutil.rmtree(self._workdir, ignore_errors=True)
        self._log_path.unlink(missing_ok=True)

    def run(self, request: Request, inputs: dict, time_limit: float) -> Outcome:
        """The request's outcome, within ``time_limit`` seconds. A program in
        parts (``Program.then``) runs each later part in a fresh child, on the
        inputs and the outputs of the parts before it: what one child held in
        memory never reaches the next, and what passes between them (a
        checkpoint's bytes) stays within this submission's sandbox."""
        deadline = time.monotonic() + time_limit
        outputs: dict[str, np.ndarray] = {}
        for i, part in enumerate(request.program.parts):
            if i:
                self._kill()
            outcome = self._run_part(replace(request, program=part), {**inputs, **outputs}, deadline, time_limit)
            if not outcome.ok:
                return outcome
            outputs.update(outcome.outputs)
        return Outcome(outputs=outputs)

    def _run_part(self, request: Request, inputs: dict, deadline: float, time_limit: float) -> Outcome:
        if self._import_error is None and self._child is None:
            self._start()
        if self._import_error is not None:
            return Outcome(error=ErrorKind.IMPORT, message=self._import_error)
        scalars = {k: v for k, v in inputs.items() if not isinstance(v, np.ndarray)}
        arrays = {k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}
        try:
            self._send(encode({"request": encode_request(request), "scalars": scalars}, arrays), deadline)
            meta, outputs = self._receive(deadline)
        except _Timeout:
            self._kill()
            return Outcome(error=ErrorKind.TIMEOUT, message=f"did not finish within the time limit of {time_limit:g} s")
        except (_ChildGone, BrokenPipeError):
            return Outcome(error=ErrorKind.CRASH, message=self._describe_death())
        except WireError as e:
            self._kill()
            return Outcome(error=ErrorKind.PROTOCOL,
                           message=f"the process running your code sent a malformed result ({e})")
        if meta.get("kind") == ReplyKind.ERROR and (kind := child_error(meta.get("error"))) is not None:
            blocked_by = meta.get("blocked_by")
            return Outcome(error=kind, message=str(meta.get("message")),
                           blocked_by=blocked_by if isinstance(blocked_by, str) else None)
        if meta.get("kind") != ReplyKind.OUTPUTS:
            self._kill()
            return Outcome(error=ErrorKind.PROTOCOL,
                           message="the process running your code sent an unexpected message")
        return Outcome(outputs=outputs)

    # -- child lifecycle ---------------------------------------------------

    def _start(self) -> None:
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            with open(self._log_path, "wb") as log:  # a fresh log per child: the size limit is per child
                pid = _fork_child(self._limits, self._request, (request_r, result_w, log.fileno(), status_w))
        except BaseException:
            for fd in (request_w, result_r, status_r):
                os.close(fd)
            raise
        finally:
            for fd in (request_r, result_w, status_w):
                os.close(fd)
        self._child = _Child(pid, status_r)
        self._requests, self._results = request_w, result_r
        self._oom_kills = self._cgroup.out_of_memory_kills() if self._cgroup else 0
        try:
            meta, _ = self._receive(time.monotonic() + STARTUP_TIME_LIMIT)
        except _Timeout:
            self._kill()
            self._import_error = f"importing the submission did not finish within {STARTUP_TIME_LIMIT:g} s"
            return
        except (_ChildGone, WireError):
            self._import_error = "the submission ended the process while being imported: " + self._describe_death()
            return
        if meta.get("kind") == ReplyKind.SETUP_ERROR:
            self._kill()
            raise SandboxError(f"the sandbox could not be set up on this machine: {meta.get('message')}")
        if meta.get("kind") != ReplyKind.READY:
            self._kill()
            self._import_error = str(meta.get("message", "the submission could not be imported"))

    def _kill(self) -> None:
        if self._child is None:
            return
        self._child.kill()
        self._child.close()
        for fd in (self._requests, self._results):
            os.close(fd)
        self._child = None

    def _describe_death(self) -> str:
        assert self._child is not None  # asked of the child that just died, before _kill forgets it
        code = self._child.returncode(timeout=5)
        status_lost = self._child.status_lost
        self._kill()
        if status_lost:
            what = "the process running your code ended, but how was lost (the process that started it died)"
        elif code is None:
            what = "the process running your code stopped answering"
        elif code < 0:
            what = f"the process running your code was killed by {signal.Signals(-code).name}"
            if self._cgroup is not None and self._cgroup.out_of_memory_kills() > self._oom_kills:
                what += f" (it went over the memory limit of {self._limits.resident_memory_bytes >> 20} MiB)"
            what += LIMIT_SIGNALS.get(-code, "")
        else:
            what = f"the process running your code exited with status {code} (os._exit, or a crash)"
        tail = self.output_tail()
        return what + (f"{OUTPUT_MARKER}{tail}" if tail else "")

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
        self.namespaces = bool(ready["namespaces"])  # whether its children can make their namespaces
        self.root = bool(ready["root"])

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


def _zygote_for(limits: Limits) -> _Zygote:
    """This process's zygote for ``limits.preload``: started on first need,
    never one that holds a module the limits forbid."""
    zygote = _zygotes.get(limits.preload)
    if zygote is None:
        zygote = _zygotes[limits.preload] = _Zygote(limits.preload)
    loaded = zygote.modules & set(limits.forbidden_modules)
    if loaded:  # brought in by a preloaded module: the import hook could not refuse them
        raise RuntimeError(f"preloading {', '.join(limits.preload)} also loads {', '.join(sorted(loaded))}, "
                           "which the assignment forbids")
    return zygote


def _fork_child(limits: Limits, request: dict, fds: tuple[int, ...]) -> int:
    """A fresh child from this process's zygote, replaced when it has died."""
    for _ in range(2):
        zygote = _zygote_for(limits)
        try:
            return zygote.fork(request, fds)
        except _ZygoteGone:
            del _zygotes[limits.preload]
            zygote.close()
    raise RuntimeError("the sandboxes' fork server died twice in a row")


def _level(zygote: _Zygote) -> Confinement:
    """The strongest confinement this machine allows (see grader/child/confine.py)."""
    if zygote.namespaces:
        return Confinement.NAMESPACES
    if zygote.root and _python_readable_by_others():  # a uid of its own must be able to run this Python
        return Confinement.UID_ONLY
    return Confinement.UNCONFINED


class UnconfinedError(SandboxError):
    """Student code could not be confined here, and grading unconfined was not allowed."""


PR_SET_DUMPABLE = 4


def _make_undumpable() -> None:
    """No core dump of the grader, and no ptrace or /proc/PID/mem of it even by
    a process of the same uid (the secret and the references are in its memory)."""
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _readable_by_others(path: Path) -> bool:
    """Whether a user with no claim on ``path`` can reach and read it."""
    try:
        return path.exists() and all(os.stat(p).st_mode & 0o001 for p in path.resolve().parents) and bool(
            os.stat(path).st_mode & 0o004)
    except OSError:
        return False


def _hideable(paths) -> list[str]:
    return [str(Path(p).resolve()) for p in paths if Path(p).is_dir()]


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
