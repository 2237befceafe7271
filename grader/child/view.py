"""The allow-list view: a new root file system holding only what the child is
given, built in the child's own mount namespace and entered with pivot_root.

The grader (``grader/sandbox.py``, ``View``) decides what is in it; this file
only carries it out, as root in the new namespaces, before any student code
runs. Everything is mounted under an empty tmpfs: read-only binds of the
Python runtime and the packages the assignment may import, of this folder and
of the system's shared libraries; empty read-only tmpfs "masks" over the
places inside those binds that must stay out (other packages, the grader's
suites); a size-limited tmpfs for the submission's own folder, ``/tmp`` and
``/dev/shm``; a ``/dev`` of a few device nodes; and a fresh ``/proc`` of the
child's own PID namespace. The host's root is then detached: nothing else of
it can be reached, by path or by ``..``.

Written on ctypes rather than with a tool such as bubblewrap: the view is
built inside a process forked from the zygote (so the preloaded numpy or
torch stays loaded, the point of the fork server), and bubblewrap can only
exec a new program. Depends on the standard library only.
"""

from __future__ import annotations

import ctypes
import os
import platform
import shutil

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 1 << 14, 1 << 18
MNT_DETACH = 2
# statvfs flags of a bind's source, kept on its read-only remount: a mount
# namespace may not clear them (and the child must not gain them).
ST_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC}
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "ppc64le": 203, "s390x": 217}
SAFE = MS_NOSUID | MS_NODEV


class ViewError(OSError):
    """The view could not be built: the child refuses to run the submission."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount(libc, source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    if libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        errno = ctypes.get_errno()
        raise ViewError(errno, f"mount {source or fstype} on {target}: {os.strerror(errno)}")


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _mount_point(target: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(target, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").close()


def _bind(libc, source: str, target: str, writable: bool = False) -> None:
    _mount_point(target, os.path.isdir(source))
    _mount(libc, source, target, None, MS_BIND | MS_REC)
    if not writable:
        kept = sum(flag for st, flag in ST_FLAGS.items() if os.statvfs(source).f_flag & st)
        _mount(libc, None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | kept)


def build(spec: dict, workdir: str, uid: int, gid: int) -> str:
    """Build the view described by ``spec`` (see ``grader.sandbox._view``),
    copy the submission's files from ``workdir`` into its own folder, and make
    it this process's root. Returns the submission's folder inside the view.
    Runs as root in fresh mount and PID namespaces (so /proc is ours)."""
    libc = _libc()
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing below propagates back to the host
    root = workdir + ".view"  # a mount point beside the sandbox's folder, in our namespace only
    os.makedirs(root, exist_ok=True)
    _mount(libc, "tmpfs", root, "tmpfs", SAFE, "size=1m,mode=0755")

    # The scratch places first: the runtime may itself live under /tmp (a
    # checkout there), and binds made before would vanish under the tmpfs.
    home = spec["home"]
    scratch = {home: spec["home_bytes"], "/tmp": spec["tmp_bytes"], "/dev/shm": spec["tmp_bytes"]}
    os.makedirs(_inside(root, "/dev"), exist_ok=True)
    _mount(libc, "tmpfs", _inside(root, "/dev"), "tmpfs", MS_NOSUID, "size=64k,mode=0755")
    for path, size in scratch.items():
        mode = "0700" if path == home else "1777"
        os.makedirs(_inside(root, path), exist_ok=True)
        owner = f",uid={uid},gid={gid}" if path == home else ""
        _mount(libc, "tmpfs", _inside(root, path), "tmpfs", SAFE, f"size={size},mode={mode}{owner}")
    for source in spec["read_only"]:  # parents before children: sorted by the grader
        if os.path.lexists(source):
            _bind(libc, source, _inside(root, source))
    masked = []  # only where a bind brought the folder in: elsewhere there is nothing to cover
    for path in spec["masks"]:
        # A scratch place (or a folder above one, as /tmp is on sys.path for a grader run from a script
        # there) is a fresh tmpfs, with nothing of the host's to cover: masked, it would be read-only.
        if any(place == path or place.startswith(path.rstrip("/") + "/") for place in scratch):
            continue
        target = _inside(root, path)
        if os.path.isdir(target):
            _mount(libc, "tmpfs", target, "tmpfs", SAFE | MS_NOEXEC, "size=64k,mode=0755")
            masked.append(target)
    for source in spec["inside_masks"]:
        _bind(libc, source, _inside(root, source))
    for target in masked:  # once their contents are bound in
        _mount(libc, None, target, None, MS_REMOUNT | MS_RDONLY | SAFE | MS_NOEXEC)

    for node in spec["devices"]:
        if os.path.exists(node):
            _mount_point(_inside(root, node), os.path.isdir(node))  # /dev/nvidia-caps is a folder
            _mount(libc, node, _inside(root, node), None, MS_BIND)
    os.makedirs(_inside(root, "/proc"), exist_ok=True)
    _mount(libc, "proc", _inside(root, "/proc"), "proc", SAFE | MS_NOEXEC)

    for name in os.listdir(workdir):  # the grader's copy of the submission, regular files only
        shutil.copyfile(os.path.join(workdir, name), _inside(root, os.path.join(home, name)), follow_symlinks=False)
        os.chown(_inside(root, os.path.join(home, name)), uid, gid)

    _enter(libc, root)
    # The view's own skeleton (the folders made above) is read-only too.
    _mount(libc, None, "/", None, MS_REMOUNT | MS_RDONLY | SAFE)
    os.chdir(home)
    return home


def _enter(libc, root: str) -> None:
    """pivot_root into ``root`` and detach the old root (pivot_root(".", ".")
    stacks the old root under the new one, then it is unmounted lazily)."""
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None or libc.syscall(number, b".", b".") != 0:
        errno = ctypes.get_errno() if number is not None else 38
        raise ViewError(errno, f"pivot_root: {os.strerror(errno)}")
    if libc.umount2(b".", MNT_DETACH) != 0:
        errno = ctypes.get_errno()
        raise ViewError(errno, f"detaching the host's root: {os.strerror(errno)}")
    os.chdir("/")
