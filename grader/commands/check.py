"""``dlgrade check [PATH]``: the public tests, with a summary per function.

It runs pytest on an assignment folder's ``test_public.py`` in a subprocess,
with the student helper (``dlgrade_student.py``, see ``grader/student/``) as the
plugin that prints one line per function at the end: what ``pytest
test_public.py`` prints in the folder, with one line per failure instead of
tracebacks. A file elsewhere (``solutions/examples/neuron/buggy.py``) is
checked as its assignment's module, beside the course's public tests.

No suite is imported (each imports torch), so a numpy assignment is checked
where torch is not installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.course import Course
from grader.exits import EXIT_USAGE
from grader.student import FOLDER, HELPER
from grader.student.dlgrade_student import PUBLIC_TESTS, from_imports

HELP = "run the public checks of an assignment (for students; public inputs, no secret seed needed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="assignment folder or .py file (default: .)")


def run(args: argparse.Namespace) -> int:
    path = Path(args.path).resolve()
    if path.is_dir() and (path / PUBLIC_TESTS).is_file():
        return _run_pytest(path)
    assignments = Course.locate().root / "assignments"
    folder = assignment_folder(path, assignments)
    if folder is None:
        known = ", ".join(f.name for f in _assignment_folders(assignments))
        print(f"dlgrade check: {path} is not an assignment folder (it has no {PUBLIC_TESTS}) and its name "
              f"matches no assignment ({known})", file=sys.stderr)
        return EXIT_USAGE
    module = student_module(folder)
    source = path / f"{module}.py" if path.is_dir() else path
    if not source.is_file():
        print(f"dlgrade check: {source} does not exist", file=sys.stderr)
        return EXIT_USAGE
    # Check a copy under the module's name in a copy of the assignment folder (its public tests, the modules and
    # data they import beside the student's).
    with tempfile.TemporaryDirectory(prefix="dlgrade-check-") as tmp:
        for file in folder.iterdir():
            if file.is_file() and file.name != f"{module}.py":
                shutil.copyfile(file, Path(tmp) / file.name)
        shutil.copyfile(source, Path(tmp) / f"{module}.py")
        return _run_pytest(Path(tmp), shown_as=source)


def _assignment_folders(assignments: Path) -> list[Path]:
    return sorted(tests.parent for tests in assignments.glob(f"*/{PUBLIC_TESTS}"))


def student_module(folder: Path) -> str | None:
    """The module the folder's public tests import from the folder (``neuron``): the one named like the
    assignment (``05_conv``: ``conv``) where they import several (the course's tables beside the student's)."""
    imported = [m for m in from_imports((folder / PUBLIC_TESTS).read_text())
                if m != HELPER and (folder / f"{m}.py").is_file()]
    named = folder.name.partition("_")[2]
    return named if named in imported else next(iter(imported), None)


def assignment_folder(path: Path, assignments: Path) -> Path | None:
    """The assignment folder a path names: ``01_neuron/``, ``neuron/buggy.py``,
    ``neuron.py`` (its folder's name, its name without the number, its module)."""
    names = [path.name, path.stem, path.parent.name] if path.is_file() else [path.name]
    folders = _assignment_folders(assignments)
    for name in names:
        for folder in folders:
            if name in (folder.name, folder.name.partition("_")[2], student_module(folder)):
                return folder
    return None


def _run_pytest(folder: Path, shown_as: Path | None = None) -> int:
    print(f"Public checks for {shown_as or folder}")
    # The folder's own dlgrade_student.py comes first (pytest runs in the folder); the package's copy,
    # last on the path, serves the folders that have none (solutions/, the copy made above).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(FOLDER)]))}
    command = [sys.executable, "-m", "pytest", "-q", "--no-header", "--tb=no", "-rN", "-p", "no:cacheprovider",
               "-p", HELPER, "--rootdir", str(folder), str(folder / PUBLIC_TESTS)]
    return subprocess.run(command, cwd=folder, env=env).returncode
