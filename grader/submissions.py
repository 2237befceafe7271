"""What a student hands in, turned into the one module file the sandbox copies.

Accepted: a folder holding ``<module>.py``, a ``.py`` file (under any name), a
``.zip`` holding ``<module>.py`` (at any depth; the shallowest wins), or a
``.ipynb`` notebook. From a notebook only the imports and the top-level
definitions (functions, classes, assignments of literal constants) of its code
cells are kept, so a training loop or a plot left in a cell does not run at
grade time; IPython magics (``%...``, ``!...``) are dropped.
"""

from __future__ import annotations

import ast
import json
import zipfile
from pathlib import Path

from grader.spec import Suite

MAX_UNZIPPED_BYTES = 20 << 20


class SubmissionError(ValueError):
    """A submission that cannot be graded as given; the message says why."""


def materialize(path: Path, suite: Suite, scratch: Path) -> Path:
    """The file holding the student's functions (written under ``scratch`` when
    it has to be extracted)."""
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    if path.is_dir():
        candidate = path / f"{suite.module}.py"
        if not candidate.is_file():
            raise SubmissionError(f"{path} has no {suite.module}.py, the file to submit for '{suite.assignment}'")
        return candidate
    if path.stat().st_size == 0:
        raise SubmissionError(f"{path.name} is empty")
    if path.suffix == ".py":
        return path
    if path.suffix == ".zip":
        return _from_zip(path, suite, scratch)
    if path.suffix == ".ipynb":
        target = scratch / f"{suite.module}.py"
        target.write_text(notebook_source(path))
        return target
    raise SubmissionError(f"{path.name}: expected a folder, a .py file, a .zip or a .ipynb notebook")


def _from_zip(path: Path, suite: Suite, scratch: Path) -> Path:
    wanted = f"{suite.module}.py"
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if Path(m.filename).name == wanted and not m.is_dir()]
            if not members:
                raise SubmissionError(f"{path.name} holds no {wanted}")
            member = min(members, key=lambda m: m.filename.count("/"))
            if member.file_size > MAX_UNZIPPED_BYTES:
                raise SubmissionError(f"{path.name}: {member.filename} is too large ({member.file_size} bytes)")
            # Read the one member by name and write it under our own name: no path from the archive is used.
            target = scratch / wanted
            target.write_bytes(archive.read(member))
            return target
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise SubmissionError(f"{path.name} is not a readable zip archive ({e})") from None


KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def notebook_source(path: Path) -> str:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise SubmissionError(f"{path.name} is not a valid notebook ({type(e).__name__}: {e})") from None
    pieces = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            pieces.append(f"# cell {number} skipped: syntax error at its line {e.lineno}: {e.msg}")
            continue
        lines = code.splitlines()
        kept = [node for node in tree.body if isinstance(node, KEPT) or _is_constant_assignment(node)]
        pieces += [f"# cell {number}"] + ["\n".join(lines[_first_line(node) - 1:node.end_lineno]) for node in kept]
    return "\n".join(pieces) + "\n"


def _first_line(node: ast.AST) -> int:
    """Where a definition starts, its decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _is_constant_assignment(node: ast.AST) -> bool:
    return (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)
            and isinstance(node.value, ast.Constant))
