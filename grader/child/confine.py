"""Confinement the untrusted process applies to itself before it imports the
submission (a single-threaded process freshly forked from a zygote that never
ran student code: safer than doing it between fork and exec in the grader).

In order: private network and mount namespaces where the kernel allows them
(as root, or through a user namespace): no network but a downed loopback, and
the hidden folders (solutions, suites, other students' work, the temporary
folders of other sandboxes) covered by empty read-only mounts; resource
limits; when started as root, the switch to an unprivileged user; last, an
audit hook that refuses sockets and new processes from Python code, and an
import hook that refuses the assignment's forbidden modules. Native
code (ctypes, C extensions) can get past the audit hook but not past the
namespaces, the limits or the user.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 1 << 14, 1 << 18
# Audit events (https://docs.python.org/3/library/audit_events.html) refused to student code.
NETWORK_EVENTS = ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo")
PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn")


def confine(limits: dict) -> dict[str, str]:
    """Apply ``limits`` (see grader.sandbox.Limits); return which guarantees
    hold: {"network": "namespace" | "audit hook", "hidden": "namespace" |
    "permissions only"}."""
    libc = ctypes.CDLL(None, use_errno=True)
    user = 0 if os.geteuid() == 0 else CLONE_NEWUSER
    namespaces = libc.unshare(user | CLONE_NEWNET | CLONE_NEWNS) == 0
    network = namespaces or libc.unshare(user | CLONE_NEWNET) == 0
    hidden = namespaces and _hide(libc, limits.get("hide", []))
    for name, value in limits["rlimits"].items():
        # At a CPU soft limit equal to the hard one the kernel sends SIGKILL, which
        # says nothing: SIGXCPU at the soft limit names the cause, and the hard
        # limit a second later still ends a process that ignores it.
        resource.setrlimit(getattr(resource, name), (value, value + 1 if name == "RLIMIT_CPU" else value))
    if limits.get("uid") is not None:
        os.setgroups([])
        os.setgid(limits["gid"])
        os.setuid(limits["uid"])
    refused = NETWORK_EVENTS + (() if limits.get("allow_processes") else PROCESS_EVENTS)

    def refuse(event: str, args) -> None:
        if event in refused:
            raise PermissionError(f"{event} is not allowed while grading")

    sys.addaudithook(refuse)
    sys.meta_path.insert(0, ForbiddenModules(tuple(limits.get("forbidden_modules", ()))))
    return {"network": "namespace" if network else "audit hook",
            "hidden": "namespace" if hidden else "permissions only"}


class ForbiddenModules:
    """A meta path finder that refuses the assignment's forbidden modules, however
    they are imported (import, __import__, importlib). It cannot take back a
    module already loaded: the grader never forks a child whose zygote holds
    one (``Limits.preload``)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def find_spec(self, fullname: str, path=None, target=None):
        # A spec whose loading fails, rather than failing here: libraries that only
        # look for optional packages with importlib.util.find_spec (torch's
        # compiler looks for tensorflow) must not fail; importing one does.
        if fullname.partition(".")[0] in self.names:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        top = spec.name.partition(".")[0]
        # ModuleNotFoundError: code that tries an optional package catches that one.
        raise ModuleNotFoundError(f"{top} may not be used in this assignment", name=spec.name)

    def exec_module(self, module) -> None:  # never reached: create_module refuses
        raise ModuleNotFoundError(module.__name__)


def _hide(libc, paths: list[str]) -> bool:
    """Cover each folder with an empty read-only tmpfs, in this process's own
    mount namespace (the rest of the machine sees no change). A covered folder
    that holds the working directory (the sandbox's own folder) gets that one
    folder bound back in at the same path."""
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    here = os.getcwd()
    for path in paths:
        if not os.path.isdir(path):
            continue
        if libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, b"size=64k,mode=0755") != 0:
            return False
        if here.startswith(path.rstrip("/") + "/"):
            # "." still names the covered folder: bind it back where it was.
            os.makedirs(here)
            if libc.mount(b".", here.encode(), None, MS_BIND, None) != 0:
                return False
            os.chdir(here)
        if libc.mount(None, path.encode(), None, MS_REMOUNT | MS_RDONLY | flags, None) != 0:
            return False
    return True
