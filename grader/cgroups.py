"""A cgroup per sandbox uid: a memory limit that also holds for CUDA children
(whose address space maps the GPU, so RLIMIT_AS cannot serve) and a cap on
the number of processes, whatever their uid.

cgroup v2 where the grader's own cgroup can hold a child group with the
memory and pids controllers; else the v1 ``memory`` and ``pids``
hierarchies; else none (then ``Cgroup.create`` returns None and the
sandbox says so). The sandbox's child joins the group itself, as root, before
it drops its privileges (``grader/child/confine.py``). Written here rather
than with a library: the few files involved are the whole interface, and no
well-kept Python package covers both versions without a daemon.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Cgroup:
    folders: tuple[Path, ...]  # one for v2; the memory and pids ones for v1
    version: int

    @classmethod
    def create(cls, name: str, memory_bytes: int, processes: int) -> "Cgroup | None":
        for make in (cls._v2, cls._v1):
            try:
                group = make(name)
            except OSError:
                continue
            if group is None:
                continue
            try:
                group._limit(memory_bytes, processes)
            except OSError:
                group.remove()
                continue
            return group
        return None

    @classmethod
    def _v2(cls, name: str) -> "Cgroup | None":
        own = _own_path("")
        if own is None or not (CGROUP_ROOT / "cgroup.controllers").is_file():
            return None
        folder = CGROUP_ROOT / own.lstrip("/") / name
        folder.mkdir(exist_ok=True)
        group = cls((folder,), 2)
        if not (folder / "memory.max").exists() or not (folder / "pids.max").exists():
            group.remove()  # the controllers are not delegated to our cgroup
            return None
        return group

    @classmethod
    def _v1(cls, name: str) -> "Cgroup | None":
        folders = []
        for controller in ("memory", "pids"):
            own = _own_path(controller)
            if own is None or not (CGROUP_ROOT / controller).is_dir():
                return None
            folders.append(CGROUP_ROOT / controller / own.lstrip("/") / name)
        for folder in folders:
            folder.mkdir(exist_ok=True)
        return cls(tuple(folders), 1)

    def _limit(self, memory_bytes: int, processes: int) -> None:
        if self.version == 2:
            (self.folders[0] / "memory.max").write_text(f"{memory_bytes}\n")
            if (self.folders[0] / "memory.swap.max").exists():
                (self.folders[0] / "memory.swap.max").write_text("0\n")
            (self.folders[0] / "pids.max").write_text(f"{processes}\n")
        else:
            memory, pids = self.folders
            (memory / "memory.limit_in_bytes").write_text(f"{memory_bytes}\n")
            (pids / "pids.max").write_text(f"{processes}\n")

    @property
    def paths(self) -> list[str]:
        return [str(f) for f in self.folders]

    def out_of_memory_kills(self) -> int:
        """How many processes the kernel killed for going over the memory limit."""
        events = self.folders[0] / ("memory.events" if self.version == 2 else "memory.oom_control")
        try:
            for line in events.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def kill(self) -> None:
        """SIGKILL whatever is left in it. The group stays, for the next
        sandbox of the same uid: removing it would mean waiting for the kernel
        to tear down the namespaces of the processes just killed."""
        for folder in self.folders:
            try:
                pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def remove(self) -> None:
        """Remove a group that holds no process (one whose limits could not be set)."""
        for folder in self.folders:
            try:
                folder.rmdir()
            except OSError:
                pass


def _own_path(controller: str) -> str | None:
    """This process's cgroup in the hierarchy of ``controller`` ("" for v2)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") if controller else controllers == "":
            return path
    return None
