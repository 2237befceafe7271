"""Stubs are generated from the solutions, stay in sync, and leak nothing."""

from __future__ import annotations

import pytest

from grader.course import Course
from grader.generate import MarkerError, render, solution_blocks, stub_source
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
    source = "def f():\n    # BEGIN SOLUTION\n    def helper():\n        return 1\n    return helper()\n    # END SOLUTION\n"
    assert [b.function for b in solution_blocks(source, "x.py")] == ["f"]
    assert 'NotImplementedError("f is not implemented yet")' in stub_source(source, "x.py")


def test_stub_keeps_todo_text_and_raises():
    stub = stub_source("def f(x):\n    # BEGIN SOLUTION: square it\n    return x * x\n    # END SOLUTION\n", "x.py")
    assert stub == 'def f(x):\n    # TODO: square it\n    raise NotImplementedError("f is not implemented yet")\n'
