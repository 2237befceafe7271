"""What a student hands in, turned into the module file (and, from a folder,
its helper files) that the sandbox copies.

Accepted: a folder holding ``<module>.py``, a ``.py`` file (under any name), a
``.zip`` holding ``<module>.py`` (at any depth; the shallowest wins), or a
``.ipynb`` notebook. From a notebook only the imports and the top-level
definitions (functions, classes, assignments of literal constants) of its code
cells are kept, so a training loop or a plot left in a cell does not run at
grade time; IPython magics (``%...``, ``!...``) are dropped.

Only regular files are taken: a symbolic link (which could name the reference
solution or the seed), a FIFO (which would block the grader) or a device is
refused, in a folder and in a zip, and so are submissions beyond the caps
below, checked before anything is read or extracted. What is taken must
compile. Any of these makes the submission ``invalid`` with a message naming
the file (and the line), never a module that fails at import. The checked
bytes are written into the grader's scratch folder, which is what the sandbox
copies: it never sees a file that was not checked, or that changed after.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from grader.spec import Suite

# Compiling hostile source costs the grader's memory and time (a 1 MiB list
# literal: ~0.4 GiB and ~2.5 s), so what is compiled is capped well above any
# real module (the reference solutions are about 10 KiB).
MAX_SOURCE_BYTES = 1 << 20  # a module: a .py file, or the one extracted from a zip or a notebook
MAX_NOTEBOOK_BYTES = 10 << 20  # a notebook file, outputs and pictures included
MAX_FOLDER_FILES = 64  # .py files taken from a folder
MAX_FOLDER_BYTES = 5 << 20  # and their total
MAX_ZIP_MEMBERS = 1000
MAX_UNZIPPED_BYTES = 20 << 20  # a zip's members in all, as its directory declares them; the zip itself too

_KINDS = {stat.S_IFLNK: "a symbolic link", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


class SubmissionError(ValueError):
    """A submission that cannot be graded as given; the message says why."""


def materialize(path: Path, suite: Suite, scratch: Path) -> Path:
    """The checked copy, under ``scratch``, of the file holding the student's
    functions, named ``<module>.py``; from a folder, its checked helper files
    beside it."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise SubmissionError(f"{path}: no such file or folder") from None
    except OSError as e:
        raise SubmissionError(f"{path} cannot be read ({e.strerror})") from None
    target = scratch / f"{suite.module}.py"
    if stat.S_ISDIR(info.st_mode):
        files = _from_folder(path, suite)
    elif not stat.S_ISREG(info.st_mode):
        raise SubmissionError(_not_regular(path.name, info.st_mode))
    elif path.suffix not in (".py", ".zip", ".ipynb"):
        raise SubmissionError(f"{path.name}: expected a folder, a .py file, a .zip or a .ipynb notebook")
    elif info.st_size == 0:
        raise SubmissionError(f"{path.name} is empty")
    elif path.suffix == ".py":
        files = {target.name: (_read_regular(path, MAX_SOURCE_BYTES, path.name), path.name)}
    elif path.suffix == ".zip":
        files = {target.name: _from_zip(path, suite)}
    else:
        files = {target.name: (notebook_source(path).encode(), f"{path.name} (the code kept from its cells)")}
    for data, shown in files.values():
        _check_compiles(data, shown)
    for name, (data, _) in files.items():
        (scratch / name).write_bytes(data)
    return target


def _not_regular(shown: str, mode: int) -> str:
    return f"{shown} is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}: only regular files are taken"


def _open_regular(path: Path, shown: str) -> BinaryIO:
    """``path`` opened for reading if it is a regular file, checked on the open
    file itself (no symbolic link is followed; a FIFO does not block)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:  # O_NOFOLLOW's answer for a symbolic link
            raise SubmissionError(_not_regular(shown, stat.S_IFLNK)) from None
        raise SubmissionError(f"{shown} cannot be read ({e.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise SubmissionError(_not_regular(shown, mode))
    return os.fdopen(fd, "rb")


def _read_regular(path: Path, limit: int, shown: str) -> bytes:
    with _open_regular(path, shown) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise SubmissionError(f"{shown} is too large (more than {_size(limit)})")
    return data


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB"


def _from_folder(path: Path, suite: Suite) -> dict[str, tuple[bytes, str]]:
    """The folder's own ``.py`` files (the module and its helpers; not the
    public tests, which grading never imports): name -> (bytes, shown as)."""
    wanted = f"{suite.module}.py"
    try:
        taken = sorted(e for e in path.iterdir() if e.suffix == ".py" and not e.name.startswith("test_"))
    except OSError as e:
        raise SubmissionError(f"{path} cannot be read ({e.strerror})") from None
    if wanted not in {e.name for e in taken}:
        raise SubmissionError(f"{path} has no {wanted}, the file to submit for '{suite.assignment}'")
    if len(taken) > MAX_FOLDER_FILES:
        raise SubmissionError(f"{path} holds {len(taken)} .py files: at most {MAX_FOLDER_FILES} are taken")
    files, total = {}, 0
    for entry in taken:
        shown = f"{path.name}/{entry.name}"
        data = _read_regular(entry, MAX_SOURCE_BYTES, shown)
        total += len(data)
        if total > MAX_FOLDER_BYTES:
            raise SubmissionError(f"{path}: its .py files hold more than {_size(MAX_FOLDER_BYTES)}")
        files[entry.name] = (data, shown)
    return files


def _from_zip(path: Path, suite: Suite) -> tuple[bytes, str]:
    """The shallowest ``<module>.py`` in the zip, read by name: no path from
    the archive is ever used, and nothing else is extracted."""
    wanted = f"{suite.module}.py"
    try:
        with _open_regular(path, path.name) as f:
            if os.fstat(f.fileno()).st_size > MAX_UNZIPPED_BYTES:  # before its directory is read
                raise SubmissionError(f"{path.name} is too large (more than {_size(MAX_UNZIPPED_BYTES)})")
            with zipfile.ZipFile(f) as archive:
                members = archive.infolist()
                if len(members) > MAX_ZIP_MEMBERS:
                    raise SubmissionError(f"{path.name} holds {len(members)} entries: at most {MAX_ZIP_MEMBERS}")
                if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
                    raise SubmissionError(f"{path.name} unpacks to more than {_size(MAX_UNZIPPED_BYTES)}")
                for m in members:
                    kind = stat.S_IFMT(m.external_attr >> 16)  # the Unix mode, where the zip recorded one
                    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                        raise SubmissionError(_not_regular(f"{path.name}: {m.filename}", kind))
                found = [m for m in members if PurePosixPath(m.filename).name == wanted and not m.is_dir()]
                if not found:
                    raise SubmissionError(f"{path.name} holds no {wanted}")
                member = min(found, key=lambda m: m.filename.count("/"))
                shown = f"{path.name}: {member.filename}"
                if member.file_size > MAX_SOURCE_BYTES:
                    raise SubmissionError(f"{shown} is too large (more than {_size(MAX_SOURCE_BYTES)})")
                with archive.open(member) as source:
                    return source.read(MAX_SOURCE_BYTES + 1), shown
    except SubmissionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
            ValueError, zlib.error) as e:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
        raise SubmissionError(f"{path.name} is not a readable zip archive ({e})") from None


def _check_compiles(data: bytes, shown: str) -> None:
    """Compiled here, never run: a module that cannot be imported is invalid
    with the file and line, rather than graded as failing every function."""
    if len(data) > MAX_SOURCE_BYTES:
        raise SubmissionError(f"{shown} is too large (more than {_size(MAX_SOURCE_BYTES)})")
    try:
        compile(data, shown, "exec", dont_inherit=True)
    except SyntaxError as e:  # IndentationError and undecodable text included
        raise SubmissionError(f"{shown} has a syntax error at line {e.lineno}: {e.msg}") from None
    except (RecursionError, MemoryError):
        raise SubmissionError(f"{shown} is nested too deeply to compile") from None
    except ValueError as e:  # null bytes, before Python 3.12
        raise SubmissionError(f"{shown} is not Python source ({e})") from None


KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def notebook_source(path: Path) -> str:
    data = _read_regular(path, MAX_NOTEBOOK_BYTES, path.name)
    try:
        cells = json.loads(data.decode("utf-8"))["cells"]
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise SubmissionError(f"{path.name} is not a valid notebook ({type(e).__name__}: {e})") from None
    except RecursionError:
        raise SubmissionError(f"{path.name} is not a valid notebook (its JSON is nested too deeply)") from None
    codes = []
    for number, cell in enumerate(cells, 1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(map(str, source)) if isinstance(source, list) else str(source)
            codes.append((number, "\n".join(line for line in source.splitlines()
                                            if not line.lstrip().startswith(("%", "!")))))
    if sum(len(code) for _, code in codes) > MAX_SOURCE_BYTES:
        raise SubmissionError(f"{path.name}: its code cells hold more than {_size(MAX_SOURCE_BYTES)}")
    pieces = []
    for number, code in codes:
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            pieces.append(f"# cell {number} skipped: syntax error at its line {e.lineno}: {e.msg}")
            continue
        except (RecursionError, MemoryError, ValueError) as e:
            reason = "nested too deeply" if not isinstance(e, ValueError) else str(e)
            pieces.append(f"# cell {number} skipped: {reason}")
            continue
        lines = code.splitlines()
        kept = [node for node in tree.body if isinstance(node, KEPT) or _is_constant_assignment(node)]
        pieces += [f"# cell {number}"] + ["\n".join(lines[_first_line(node) - 1:node.end_lineno]) for node in kept]
    return "\n".join(pieces) + "\n"


def _first_line(node: ast.stmt) -> int:
    """Where a definition starts, its decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _is_constant_assignment(node: ast.AST) -> bool:
    return (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)
            and isinstance(node.value, ast.Constant))
