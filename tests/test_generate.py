"""Stubs are generated from the solutions, stay in sync, and leak nothing;
an assignment folder needs nothing from this repository."""

from __future__ import annotations

import argparse
import json
import keyword
import re
import shutil

import pytest

from grader.commands import generate
from grader.course import Course
from grader.generate import packages_imported, render
from grader.markers import MarkerError, solution_blocks, stub_source
from grader.student import SOURCE as HELPER_SOURCE
from grader.suites import SUITES

COURSE = Course.locate()


def test_generated_files_are_up_to_date():
    drifted = [str(p.relative_to(COURSE.root)) for p, text in render(COURSE, list(SUITES.values())).items()
               if not p.is_file() or p.read_text() != text]
    assert not drifted, f"run `dlgrade generate`: {drifted}"


def solution_only_lines(source: str) -> set[str]:
    """The code lines (stripped) of a solution that occur only inside its solution blocks."""
    lines = source.splitlines()
    inside = set()
    for block in solution_blocks(source, "solution"):
        inside |= {line.strip() for line in lines[block.start + 1:block.end]}
    outside = {line.strip() for i, line in enumerate(lines)
               if not any(b.start <= i <= b.end for b in solution_blocks(source, "solution"))}
    return {line for line in inside - outside if line and not line.startswith("#")}


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_no_solution_line_reaches_the_stub(suite):
    secret = solution_only_lines(COURSE.solution_file(suite).read_text())
    assert secret, "a solution with no code in its blocks"
    stub = (COURSE.assignment_dir(suite) / f"{suite.module}.py").read_text()
    leaked = secret & {line.strip() for line in stub.splitlines()}
    assert not leaked


def lines_of(path, text: str) -> set[str]:
    """The stripped lines of a generated file (of its cells' sources, for a notebook)."""
    if path.suffix == ".ipynb":
        return {line.strip() for cell in json.loads(text)["cells"] for line in "".join(cell["source"]).splitlines()}
    return {line.strip() for line in text.splitlines()}


def names_something(line: str) -> bool:
    """Not a bare ``else:`` or ``}``, which any two programs share."""
    return any(word.isidentifier() and not keyword.iskeyword(word) for word in re.findall(r"\w+", line))


def test_no_solution_line_reaches_any_generated_file():
    """Stubs, notebooks, READMEs, the helper, the copied public tests, the example
    stubs and the course README: none holds a line of any solution's blocks that
    is not public anyway (in the public tests, or outside the blocks)."""
    public = {line.strip() for suite in SUITES.values() for test in COURSE.solution_dir(suite).glob("test_*.py")
              for line in test.read_text().splitlines()}
    secret = {line for suite in SUITES.values() for line in solution_only_lines(COURSE.solution_file(suite).read_text())
              if line not in public and names_something(line)}
    files = render(COURSE, list(SUITES.values()))
    assert HELPER_SOURCE.read_text() in files.values()
    leaked = {str(path.relative_to(COURSE.root)): sorted(secret & lines_of(path, text)) for path, text in files.items()}
    assert not {path: lines for path, lines in leaked.items() if lines}


def test_no_assignment_file_imports_the_grader():
    """The public tests and the notebook use the helper beside them, never ``grader``."""
    for suite in SUITES.values():
        folder = COURSE.assignment_dir(suite)
        notebook = json.loads((folder / f"{suite.module}.ipynb").read_text())
        cells = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
        magics = [line for cell in cells for line in cell.splitlines() if line.startswith("%")]
        code = ["\n".join(line for line in cell.splitlines() if not line.startswith("%")) for cell in cells]
        imported = packages_imported([path.read_text() for path in folder.glob("*.py")] + code, local=set())
        assert "grader" not in imported, folder.name
        assert "%load_ext dlgrade_student" in magics and not any("grader" in line for line in magics), folder.name


def test_generate_check_reports_a_changed_helper(tmp_path, monkeypatch, capsys):
    for part in ("solutions", "templates", "assignments"):
        shutil.copytree(COURSE.root / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(COURSE.root / "README.md", tmp_path / "README.md")
    copy = tmp_path / "assignments" / "02_losses" / HELPER_SOURCE.name
    copy.write_text(copy.read_text().replace("TOLERANCE = {", "TOLERANCE = {  # looser?"))
    monkeypatch.setenv("DLGRADE_COURSE", str(tmp_path))
    assert generate.run(argparse.Namespace(check=True)) != 0
    assert capsys.readouterr().err.splitlines()[0] == f"out of date: assignments/02_losses/{HELPER_SOURCE.name}"


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_every_student_function_is_stubbed(suite):
    source = COURSE.solution_file(suite).read_text()
    stubbed = {b.function for b in solution_blocks(source, "solution")}
    assert set(suite.student_functions) <= stubbed


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "x.py:2: BEGIN SOLUTION is never closed"),
        ("def f():\n    # END SOLUTION\n", "x.py:2: END SOLUTION without BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "x.py:1: BEGIN SOLUTION outside any function"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n", "x.py:3: BEGIN SOLUTION inside another block"),
    ],
)
def test_marker_mistakes_name_file_and_line(source, message):
    with pytest.raises(MarkerError, match=message):
        stub_source(source, "x.py")


def test_a_helper_defined_in_a_solution_block_does_not_rename_its_todo():
    source = ("def f():\n    # BEGIN SOLUTION\n    def helper():\n        return 1\n"
              "    return helper()\n    # END SOLUTION\n")
    assert [b.function for b in solution_blocks(source, "x.py")] == ["f"]
    assert 'NotImplementedError("f is not implemented yet")' in stub_source(source, "x.py")


def test_stub_keeps_todo_text_and_raises():
    stub = stub_source("def f(x):\n    # BEGIN SOLUTION: square it\n    return x * x\n    # END SOLUTION\n", "x.py")
    assert stub == 'def f(x):\n    # TODO: square it\n    raise NotImplementedError("f is not implemented yet")\n'
