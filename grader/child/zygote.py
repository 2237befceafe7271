"""A fork server ("zygote"): imports numpy (and torch, for the suites that
allow it) once, then forks a fresh process for every sandbox, which serves one
submission exactly as ``main.py`` describes.

Started by the grader as ``python -I -B zygote.py CONTROL_FD PRELOAD_JSON``
with a scrubbed environment, one per grader process and set of preloaded
modules. It never runs student code and never sees expected values: a request
says only "fork a child with these pipes, this log, in this folder, with this
environment and these limits". Each child confines itself before importing the
submission, as a freshly started interpreter did, so its isolation is the same;
what it saves is starting Python and importing numpy (0.15 s) or torch (2-6 s).

Protocol on the control socket (SOCK_SEQPACKET, one message per datagram):
the zygote first sends ``{"kind": "ready", "modules": [...]}`` (the top-level
modules it holds, which every child inherits) or ``{"kind": "error",
"message": ...}``. Each request is a JSON object carrying four descriptors
(SCM_RIGHTS): the child's request pipe (read end), result pipe (write end), log
file, and a status pipe (write end); the answer is ``{"pid": PID}``. The child
is the zygote's, not the grader's, so the zygote reaps it and writes its wait
status to that child's status pipe. Passing descriptors rather than having the
zygote make the pipes keeps the grader's side as it was (it owns its ends from
the start, and one reply per request is all the socket carries); a status pipe
per child, rather than statuses multiplexed on the control socket, lets the
grader wait for one child with a plain poll. When the grader goes away (end of
file on the socket), the zygote kills its children and ends.

The zygote's child is, at the namespaces level, only the *keeper* of a child
in namespaces of its own (see ``confine.py``): its wait status mirrors the
student process's. The ready message also says whether children can make
namespaces (tried once, in a throwaway fork) and whether the zygote is root,
from which the grader chooses the confinement level. A request with a
``sweep_uid`` (the uid-only level) has every process of that uid killed before
the child starts and after it ends.

Depends on the standard library and the preloaded modules only; this folder
must never import the rest of ``grader``.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import sys
import time
import traceback

# Over what the socket buffer lets the grader send in one datagram: a request is never cut short.
MAX_REQUEST_BYTES = 1 << 20
DESCRIPTORS_PER_REQUEST = 4  # request pipe, result pipe, log, status pipe
SWEEP_ROUNDS = 10


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    preload = json.loads(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        for name in preload:
            importlib.import_module(name)
        import main as child_main
        from confine import namespaces_available
    except BaseException as e:  # noqa: BLE001 - whatever stops the preload is reported to the grader
        control.send(json.dumps({"kind": "error", "message": f"preloading {preload} failed: {e!r}"}).encode())
        return
    sys.path.remove(here)
    # fork copies only the calling thread: a thread started by an import (a
    # BLAS pool when the thread counts are not pinned to 1) would leave its
    # locks held in every child.
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        control.send(json.dumps({"kind": "error", "message": f"preloading {preload} started {threads - 1} "
                                 "threads; a fork server must be single-threaded"}).encode())
        return
    control.send(json.dumps({"kind": "ready", "modules": sorted({m.partition(".")[0] for m in sys.modules}),
                             "namespaces": namespaces_available(), "root": os.geteuid() == 0}).encode())
    serve_forks(control, child_main.serve)


def serve_forks(control: socket.socket, serve) -> None:
    """Fork a child per request and report each child's wait status, until the
    grader closes the socket."""
    wakeup_r, wakeup_w = os.pipe()
    for fd in (wakeup_r, wakeup_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wakeup_w)  # SIGCHLD wakes the poll below
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    status_pipes: dict[int, int] = {}  # pid of each live child -> its status pipe
    sweeps: dict[int, int] = {}  # pid of a child -> the uid whose every process dies with it
    poller = select.poll()
    poller.register(control, select.POLLIN)
    poller.register(wakeup_r, select.POLLIN)
    while True:
        for fd, _ in poller.poll():
            if fd == wakeup_r:
                while _drained(wakeup_r):
                    pass
                reap(status_pipes, sweeps)
                continue
            try:
                message, fds, _, _ = socket.recv_fds(control, MAX_REQUEST_BYTES, DESCRIPTORS_PER_REQUEST)
            except ConnectionError:
                message = b""
            if not message:  # the grader is gone: nobody will read these children's results
                for pid in status_pipes:
                    _kill_group(pid)
                for uid in sweeps.values():
                    sweep(uid)
                return
            request = json.loads(message)
            if request.get("sweep_uid") is not None:  # what an earlier grader, killed, may have left of it
                sweep(request["sweep_uid"])
            pid = os.fork()
            if pid == 0:
                become_child(request, fds, control, serve)
            request_fd, result_fd, log_fd, status_fd = fds
            for fd in (request_fd, result_fd, log_fd):
                os.close(fd)
            status_pipes[pid] = status_fd
            if request.get("sweep_uid") is not None:
                sweeps[pid] = request["sweep_uid"]
            try:
                control.send(json.dumps({"pid": pid}).encode())
            except OSError:  # the grader went away meanwhile: the next poll reads the end of file
                pass


def become_child(request: dict, fds: list[int], control: socket.socket, serve) -> None:
    """In the forked process: set up what ``subprocess.Popen`` would for a new
    interpreter (own session, stdin from /dev/null, stdout and stderr to the
    log, only its two pipes open, the sandbox's folder and environment), then
    serve. Never returns into the zygote's loop."""
    request_fd, result_fd, log_fd, _ = fds
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.detach()  # closed below with every other inherited descriptor, never again by the object
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        # Other children's status pipes, the control socket, the zygote's wakeup pipe.
        _close_all_but({0, 1, 2, request_fd, result_fd})
        os.chdir("/")
        os.environ.clear()
        os.environ.update(request["env"])
        if "numpy.random" in sys.modules:
            # Seeded once in the zygote: without this every child would draw the
            # same numbers (Python's random module reseeds itself at fork).
            sys.modules["numpy.random"].seed()
        serve(request_fd, result_fd, request)
        code = 0
    except BaseException:  # noqa: BLE001 - reported in the log, as an interpreter would
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a stream the student broke must not keep us here
                pass
        os._exit(code)


def reap(status_pipes: dict[int, int], sweeps: dict[int, int]) -> None:
    """Collect every child that ended: kill what is left of its process group
    while its unreaped pid still pins that group's id (no other process can
    have taken it), and where it had no PID namespace every process of its
    uid, then hand its wait status to the grader."""
    while True:
        try:
            ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if ended is None:
            return
        _kill_group(ended.si_pid)
        if ended.si_pid in sweeps:
            sweep(sweeps.pop(ended.si_pid))
        _, status = os.waitpid(ended.si_pid, 0)
        status_fd = status_pipes.pop(ended.si_pid, None)
        if status_fd is not None:
            try:
                os.write(status_fd, b"%d\n" % status)
            except OSError:  # the grader no longer listens for this child
                pass
            os.close(status_fd)


def sweep(uid: int) -> None:
    """Kill every process of ``uid`` (a child's own, without a PID namespace to
    end them): from a process of that uid, kill(-1) reaches exactly those.
    A few rounds, as one may fork while the others die (the uid's process
    limit bounds how many can); not until none is left, since a killed
    process stays a zombie that kill(-1) still finds until its new parent
    reaps it."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(SWEEP_ROUNDS):
                os.kill(-1, signal.SIGKILL)
                time.sleep(0.001)
        except ProcessLookupError:  # none left
            code = 0
        finally:
            os._exit(code)
    os.waitpid(pid, 0)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _drained(fd: int) -> bool:
    try:
        return bool(os.read(fd, 512))
    except BlockingIOError:
        return False


def _close_all_but(keep: set[int]) -> None:
    start = 0
    for end in (*sorted(keep), os.sysconf("SC_OPEN_MAX")):
        if start < end:  # os.closerange(0, 0) closes every descriptor (Python 3.11)
            os.closerange(start, end)
        start = end + 1


if __name__ == "__main__":
    main()
