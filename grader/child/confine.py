"""Confinement of the untrusted process, applied by itself before it imports
the submission (a single-threaded process freshly forked from a zygote that
never ran student code).

Three levels (``Confinement``), chosen by the grader before the child starts
and recorded in every result:

* ``namespaces``: the child joins its cgroup (memory, process count), enters
  fresh mount, PID, network, IPC and UTS namespaces (through a user namespace
  when the grader is not root), and is split in three processes. The *keeper*
  stays in the grader's PID namespace and mirrors how the rest ended; *init*,
  PID 1 of the new namespace, builds the allow-list view (``view.py``) and
  reaps; the *student* process, PID 2, drops to an unprivileged uid with no
  capabilities and ``no_new_privs`` and serves. When init ends, the kernel
  kills everything left in the namespace: ``kill(-1)``, ``killpg`` and
  double-forked daemons reach only the child's own processes, and none
  outlives its grading.
* ``uid-only`` (root, but the kernel refuses namespaces, as in some
  containers): a uid of its own, whose every process the zygote kills after
  the child ends; what it can read is what file permissions let any user read.
* ``unconfined`` (not root and no user namespaces): only the limits and the
  in-process guards below. The grader refuses this level unless told.

At every level, last: resource limits and two in-process guards, an audit
hook that refuses sockets and new processes from Python code and an import
hook for the assignment's forbidden modules. Those two are deterrents, not
guarantees: code that reaches native code (ctypes) or edits ``sys.meta_path``
gets past them, not past the namespaces, the view, the uid or the limits.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
import resource
import signal
import sys
from enum import Enum

try:  # as grader.child.confine, in the grader (which needs the enum only)
    from . import view
except ImportError:  # as the child's own top-level module
    import view  # type: ignore[no-redef]  # the same module by its top-level name, which mypy cannot tell

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
# Inside a user namespace (a grader that is not root) the student's uid: not 0,
# which there would still hold every capability until they are dropped.
USER_NAMESPACE_UID = 1000
# Audit events (https://docs.python.org/3/library/audit_events.html) refused to student code.
NETWORK_EVENTS = ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo")
PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn")


class Confinement(str, Enum):
    """How strongly a child is confined; the grader imports this enum too."""

    NAMESPACES = "namespaces"
    UID_ONLY = "uid-only"
    UNCONFINED = "unconfined"


class ConfinementError(OSError):
    """The level the grader asked for could not be set up: nothing of the
    submission runs."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise ConfinementError(errno, f"{what}: {os.strerror(errno)}")


def namespaces_available() -> bool:
    """Whether this process may make the namespaces (tried in a throwaway fork,
    so that this one stays as it is)."""
    pid = os.fork()
    if pid == 0:
        user = 0 if os.geteuid() == 0 else CLONE_NEWUSER
        os._exit(0 if _libc().unshare(NAMESPACES | user) == 0 else 1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def isolate(request: dict, keep: tuple[int, ...]) -> str:
    """Enter the level of ``request["level"]``; return the submission's folder
    as the student process sees it. Returns in the student process only: at
    the namespaces level the keeper and init supervise and never return.
    ``keep``: the pipes to the grader, which only the student process holds."""
    for cgroup in request.get("cgroups", ()):  # while still root in the grader's namespaces
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
            procs.write("0\n")
    if request["level"] != Confinement.NAMESPACES:
        return request["workdir"]
    libc = _libc()
    in_user_namespace = os.geteuid() != 0
    uid, gid = (USER_NAMESPACE_UID, USER_NAMESPACE_UID) if in_user_namespace else (request["uid"], request["gid"])
    outside_uid, outside_gid = os.geteuid(), os.getegid()
    _check(libc.unshare(NAMESPACES | (CLONE_NEWUSER if in_user_namespace else 0)), "unshare")
    if in_user_namespace:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{USER_NAMESPACE_UID} {outside_uid} 1"),
                           ("gid_map", f"{USER_NAMESPACE_UID} {outside_gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    status_r, status_w = os.pipe()
    init = os.fork()
    if init:
        _keeper(libc, init, status_r, status_w, keep)
    # PID 1 of the new namespace.
    os.close(status_r)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    home = view.build(request["view"], request["workdir"], uid, gid)
    student = os.fork()
    if student:
        _init(student, status_w, keep)
    os.close(status_w)
    os.environ["HOME"] = home
    return home


def _keeper(libc, init: int, status_r: int, status_w: int, keep: tuple[int, ...]) -> None:
    """Wait for init, then end as the student process ended: the zygote reports
    this process's wait status to the grader."""
    os.close(status_w)
    for fd in keep:
        os.close(fd)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the zygote gone: nobody would report or kill
    _, init_status = os.waitpid(init, 0)
    report = os.read(status_r, 64)  # empty: init was killed (a timeout) or failed before the student ended
    _end_as(int(report) if report else init_status)


def _init(student: int, status_w: int, keep: tuple[int, ...]) -> None:
    """PID 1: reap whatever the student's processes leave, until the student
    process itself ends; then hand its status to the keeper and end, which
    makes the kernel kill every process left in the namespace."""
    for fd in keep:
        os.close(fd)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        if pid == student:
            os.write(status_w, b"%d" % status)
            os._exit(0)


def _end_as(status: int) -> None:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if number not in (signal.SIGKILL, signal.SIGSTOP):  # those two have no handler to reset
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
        os.kill(os.getpid(), number)
        os._exit(128 + number)  # a signal whose default is not to end the process
    os._exit(os.waitstatus_to_exitcode(status))


def restrict(request: dict) -> dict[str, str]:
    """In the student process, last before the submission is imported: limits,
    the switch to the child's own uid (no capabilities, no new privileges),
    and the in-process guards. Returns which guarantees hold."""
    libc = _libc()
    limits = request["limits"]
    level = request["level"]
    for name, value in limits["rlimits"].items():
        # At a CPU soft limit equal to the hard one the kernel sends SIGKILL, which
        # says nothing: SIGXCPU at the soft limit names the cause, and the hard
        # limit a second later still ends a process that ignores it.
        resource.setrlimit(getattr(resource, name), (value, value + 1 if name == "RLIMIT_CPU" else value))
    if os.geteuid() == 0 and level != Confinement.UNCONFINED:
        # From root to another uid: the kernel clears every capability.
        os.setgroups([])
        os.setgid(request["gid"])
        os.setuid(request["uid"])
    elif level == Confinement.NAMESPACES:
        _drop_capabilities(libc)  # the owner of a user namespace holds them all inside it
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    refused = NETWORK_EVENTS + (() if limits.get("allow_processes") else PROCESS_EVENTS)
    allowed = frozenset(limits.get("executables", ()))

    def refuse(event: str, args) -> None:
        if event not in refused:
            return
        program = _started_program(event, args)
        if program is None or program not in allowed:
            raise PermissionError(f"{event} is not allowed while grading" + (f" ({program})" if program else ""))

    sys.addaudithook(refuse)
    sys.meta_path.insert(0, ForbiddenModules(tuple(limits.get("forbidden_modules", ()))))
    return {"confinement": level}


def _started_program(event: str, args) -> str | None:
    """The real path of the program an audit event starts: ``subprocess.Popen(executable, args, cwd, env)``
    (the executable, else the first argument), ``os.exec`` and ``os.posix_spawn`` (path, argv, env)."""
    if event == "subprocess.Popen":
        program = args[0] if args[0] is not None else (args[1][0] if args[1] else None)
    elif event in ("os.exec", "os.posix_spawn"):
        program = args[0]
    else:
        return None
    if program is None:
        return None
    try:
        return os.path.realpath(os.fsdecode(program))
    except (TypeError, ValueError):
        return None


def _drop_capabilities(libc) -> None:
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty
    _check(libc.capset(header, data), "dropping capabilities")


class ForbiddenModules:
    """A meta path finder that refuses the assignment's forbidden modules, however
    they are imported (import, __import__, importlib), with a message that
    names the rule. A deterrent: where the view holds (the namespaces level)
    those modules are not in the child's file system at all."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def find_spec(self, fullname: str, path=None, target=None):
        # A spec whose loading fails, rather than failing here: libraries that only
        # look for optional packages with importlib.util.find_spec (torch's
        # compiler looks for tensorflow) must not fail; importing one does.
        if fullname.partition(".")[0] in self.names:
            # A loader by protocol (create_module, exec_module): subclassing importlib.abc.Loader would import
            # importlib.abc, and importlib.resources with it, into every child.
            return importlib.machinery.ModuleSpec(fullname, self)  # type: ignore[arg-type]
        return None

    def create_module(self, spec):
        top = spec.name.partition(".")[0]
        # ModuleNotFoundError: code that tries an optional package catches that one.
        raise ModuleNotFoundError(f"{top} may not be used in this assignment", name=spec.name)

    def exec_module(self, module) -> None:  # never reached: create_module refuses
        raise ModuleNotFoundError(module.__name__)
