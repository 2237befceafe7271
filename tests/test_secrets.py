"""Only ``solutions/`` and the seed are secret (issue 12): no line of a
solution block appears in any other file of the repository — not in the
grader package (which students may install from a repository they can read),
the assignments, the student helper, the templates, the docs or these tests.

A line counts when it could give a solution away: code (not a comment) of at
least MIN_LENGTH characters once stripped. Shorter ones (``return dx, dw, db``,
``N, C, H, W = x.shape``) are how anyone writes them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.text import to_text
from grader.suites import SUITES

COURSE = Course.locate()
MIN_LENGTH = 24
BLOCK = re.compile(r"^[ \t]*# BEGIN SOLUTION.*?$(.*?)^[ \t]*# END SOLUTION", re.M | re.S)


def _stripped(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def solution_lines() -> dict[str, Path]:
    """The lines of the solution blocks, less what the students are given
    anyway: the module's own text outside the blocks (a docstring's formula,
    ``keep = rng.random(x.shape) >= p``), its public tests and notebook text."""
    lines = {}
    for folder in sorted((COURSE.root / "solutions").glob("[0-9]*_*")):
        modules = {path: path.read_text() for path in folder.glob("*.py") if BLOCK.search(path.read_text())}
        public = set().union(*(_stripped(BLOCK.sub("", text)) for text in modules.values()),
                             *(_stripped(p.read_text()) for p in (folder / "test_public.py", folder / "notebook.md")
                               if p.exists()))
        for path, text in modules.items():
            for code in _stripped("\n".join(BLOCK.findall(text))) - public:
                if len(code) >= MIN_LENGTH and not code.startswith("#"):
                    lines.setdefault(code, path)
    return lines


def public_files() -> list[Path]:
    """Every file git tracks, or would, outside solutions/."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=COURSE.root,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    return [COURSE.root / name for name in listed if name and not name.startswith("solutions/")
            and (COURSE.root / name).is_file()]


def test_the_solutions_have_lines_to_look_for():
    assert len(solution_lines()) > 100


def test_no_solution_line_appears_outside_solutions():
    secret = solution_lines()
    found = []
    for path in public_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # images, archives
        for number, line in enumerate(text.splitlines(), 1):
            # A notebook holds code as JSON strings: "    out = ...\n",
            code = line.strip().removeprefix('"').removesuffix(",").removesuffix('"').removesuffix("\\n").strip()
            code = code.split("  #")[0]  # a comment added does not make a line another
            if code in secret:
                found.append(f"{path.relative_to(COURSE.root)}:{number}: {code} (from {secret[code].parent.name})")
    assert not found, "\n".join(found)


def _verdicts(result) -> list[tuple]:
    """What a grade says, less what timing decides: every case's points,
    messages and hints; of a speed check, that it was measured (its points
    and message come from a ratio two runs measure apart, and the loops
    example's ratios lie near the limits: 33-43x against 40x here)."""
    return [(f.name, c.name, "measured" if c.speed else c.score, c.max_score, None if c.speed else c.messages,
             c.hints, c.skipped) for f in result.functions for c in f.cases]


def _timed(result) -> list[str]:
    """The functions whose speed was measured against torch (a note gives the ratio)."""
    return [f.name for f in result.functions if any("torch's time" in note for note in f.notes)]


@pytest.mark.parametrize("assignment, example", [
    ("neuron", "buggy.py"),
    pytest.param("conv", "correct_loops.py", marks=pytest.mark.slow),  # its speed check times conv2d: seconds
    ("regularization", "buggy.py"),
])
def test_the_same_grade_and_hints_with_and_without_the_solutions(tmp_path, assignment, example):
    """A student's own CI has no solutions/: bugs are still recognised (from
    their torch descriptions) and speed still measured (against torch)."""
    suite = SUITES[assignment]
    submission = tmp_path / f"{suite.module}.py"
    shutil.copy(COURSE.root / "solutions" / "examples" / assignment / example, submission)
    bare = tmp_path / "course"
    shutil.copytree(COURSE.root / "assignments", bare / "assignments")
    assert Course(bare).solution_file(suite) is None
    secret = Secret("same-on-every-route")
    with_solutions = grade_submission(suite, submission, secret, COURSE)
    without = grade_submission(suite, submission, secret, Course(bare))
    assert _verdicts(with_solutions) == _verdicts(without)
    assert with_solutions.score < with_solutions.max_score or any(c.speed for f in without.functions
                                                                   for c in f.cases)
    if example == "buggy.py":
        assert without.bugs, to_text(without)
    else:  # speed measured on both routes, against torch alone
        assert _timed(with_solutions) == _timed(without) != [], to_text(without)
