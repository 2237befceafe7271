"""Promise 1 on code written the way students write it: every submission in
tests/corpus/<assignment>/ (one style per file: CS231n caches, in-place
updates, other dropout masks, loops, float32, strided views, state in
objects, shared helpers) gets full marks, less only speed points; with its one
injected bug (``BUG = (function, old, new)``) it loses points on that function.

A corpus file holds the functions written in its style; the rest of the
module is the reference solution's, placed before them (so the style's
definitions are the ones graded)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.text import to_text
from grader.suites import SUITES

COURSE = Course.locate()
CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*/*.py"))


def _bug(source: str) -> tuple[str, str, str, str]:
    """``(function, old, new, the code without the BUG line)``."""
    (node,) = [n for n in ast.parse(source).body
               if isinstance(n, ast.Assign) and [t.id for t in n.targets if isinstance(t, ast.Name)] == ["BUG"]]
    lines = source.splitlines(keepends=True)
    code = "".join(lines[:node.lineno - 1] + lines[node.end_lineno:])
    return (*ast.literal_eval(node.value), code)


def _grade(tmp_path: Path, suite, style: str, functions=None):
    solution = (COURSE.solution_dir(suite) / f"{suite.module}.py").read_text()
    path = tmp_path / f"{suite.module}.py"
    path.write_text(f"{solution}\n\n# ---- the student's own\n\n{style}")
    if functions is not None:
        suite = dataclasses.replace(suite, functions=tuple(f for f in suite.functions if f.name in functions))
    return grade_submission(suite, path, Secret("corpus"), COURSE)


def test_every_numpy_assignment_has_a_dozen_styles_and_every_other_three():
    counts = {name: len(list((CORPUS / name).glob("*.py"))) for name in SUITES}
    numpy_assignments = [name for name, suite in SUITES.items() if suite.limits.packages == ("numpy",)]
    assert len(numpy_assignments) >= 6 and all(counts[name] >= 12 for name in numpy_assignments), counts
    assert all(n >= 3 for n in counts.values()), counts


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_style_gets_full_marks_less_only_speed(tmp_path, path):
    suite = SUITES[path.parent.name]
    result = _grade(tmp_path, suite, path.read_text())
    lost = [(f.name, c.name, c.messages) for f in result.functions for c in f.cases
            if c.score < c.max_score and not c.speed]
    assert result.status == "graded" and not lost, lost


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_injected_bug_loses_points_on_its_function(tmp_path, path):
    suite = SUITES[path.parent.name]
    source = path.read_text()
    function, old, new, code = _bug(source)
    assert code.count(old) == 1, f"{old!r} must occur once in {path.name}"
    graded = {f.name for f in suite.functions if function in f.program.functions}
    result = _grade(tmp_path, suite, code.replace(old, new), graded)
    assert any(f.score < f.max_score for f in result.functions), to_text(result)
