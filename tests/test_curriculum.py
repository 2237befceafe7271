"""Every assignment, end to end through the sandbox: the solution gets full
marks, the stub none, correct variants full marks, and every catalogued bug,
injected alone, loses points on its own function and names itself."""

from __future__ import annotations

import dataclasses
import re

import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.gradescope import to_gradescope
from grader.render.text import feedback, to_text
from grader.suites import SUITES
from tests.mutants import affected_functions, mutated_source, mutations

COURSE = Course.locate()
SECRET = Secret("curriculum-tests")
EXAMPLES = COURSE.root / "solutions" / "examples"
BUGS = [(s, f, b) for s in SUITES.values() for f in s.functions for b in f.bugs]
VARIANTS = [(s, p) for s in SUITES.values() for p in sorted((EXAMPLES / s.assignment).glob("correct_*.py"))]


def grade(suite, path):
    return grade_submission(suite, path, SECRET, COURSE)


def by_name(result):
    return {f.name: f for f in result.functions}


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_solution_gets_full_marks(suite):
    result = grade(suite, COURSE.solution_dir(suite))
    assert result.score == result.max_score > 0, to_text(result)


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_stub_gets_zero_saying_not_implemented(suite):
    result = grade(suite, COURSE.assignment_dir(suite) / f"{suite.module}.py")
    assert result.score == 0
    for f in result.functions:
        assert "not implemented yet" in feedback(f)


@pytest.mark.parametrize("suite, path", VARIANTS, ids=[f"{s.assignment}-{p.stem}" for s, p in VARIANTS])
def test_correct_variant_gets_full_marks(suite, path):
    """Loop versions may lose the stated efficiency points, and nothing else
    (checks skipped here, e.g. GPU-only ones without a GPU, are not lost)."""
    result = grade(suite, path)
    lost = [f"{f.name}: {c.name}" for f in result.functions for c in f.cases
            if not c.passed and not c.skipped and not (c.speed and path.stem == "correct_loops")]
    assert not lost, to_text(result)


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_buggy_example_names_its_bugs(suite):
    path = EXAMPLES / suite.assignment / "buggy.py"
    declared = set(re.findall(r"# BUG: ([\w-]+)", path.read_text()))
    # Three catalogued bugs, or one per function with a catalogue where there are fewer functions.
    assert len(declared) >= min(3, sum(1 for f in suite.functions if f.bugs))
    result = grade(suite, path)
    assert result.score < result.max_score
    assert declared <= set(result.bugs), to_text(result)


@pytest.mark.parametrize("suite, fn, bug", BUGS, ids=[f"{s.assignment}-{b.name}" for s, f, b in BUGS])
def test_injected_bug_loses_points_on_its_function_and_names_itself(tmp_path, suite, fn, bug):
    solution = COURSE.solution_file(suite)
    original = solution.read_text()
    edits = mutations(COURSE, suite)[bug.name]
    path = tmp_path / f"{suite.module}.py"
    path.write_text(mutated_source(original, bug.name, edits, solution.name))
    affected = affected_functions(original, edits)
    if suite.training and not affected & set(suite.training.functions):
        # Training a model takes seconds and the bug cannot reach it: grade the functions only.
        suite = dataclasses.replace(suite, training=None)
    functions = by_name(grade(suite, path))
    hit = functions[fn.name]
    assert hit.score < hit.max_score, f"{bug.name} was not caught"
    assert any(bug.name in c.bugs for c in hit.cases), feedback(hit)
    assert f"[{bug.name}]" in feedback(hit)
    for other in suite.functions:
        if not affected & set(other.program.functions):
            assert functions[other.name].score == functions[other.name].max_score, other.name


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_every_catalogued_bug_has_its_edits_beside_the_solution(suite):
    """The suite describes each bug with torch; the edits that make it real
    (solution text) are in solutions/<NN>/mutations.py, one entry per bug."""
    declared = {b.name for f in suite.functions for b in f.bugs}
    assert declared == set(mutations(COURSE, suite))


def test_same_seed_gives_identical_results():
    suite = SUITES["neuron"]
    path = EXAMPLES / "neuron" / "buggy.py"
    first, second = to_gradescope(grade(suite, path)), to_gradescope(grade(suite, path))
    first.pop("execution_time"), second.pop("execution_time")
    assert first == second


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_points_do_not_depend_on_the_seed(suite):
    for fn in suite.functions:
        totals = {sum(c.points for c in fn.cases(Secret(str(i)).rng("x"))) for i in range(5)}
        assert totals == {fn.max_points - (fn.speed.points if fn.speed else 0)}, fn.name


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_hidden_inputs_change_with_the_seed(suite):
    import numpy as np

    for fn in suite.functions:
        a, b = (fn.cases(Secret(s).rng(suite.assignment, fn.name)) for s in ("one", "two"))
        pairs = [(x, y) for ca, cb in zip(a, b) for x, y in zip(ca.inputs.values(), cb.inputs.values())]
        arrays = [(x, y) for x, y in pairs
                  if isinstance(x, np.ndarray) and x.size > 1 and np.issubdtype(x.dtype, np.floating)]
        if arrays:
            assert any(x.shape != y.shape or not np.array_equal(x, y) for x, y in arrays), fn.name
        else:  # a function of sizes only (conv_output_size, fan_in_and_out): its integers or shapes change
            assert any(x != y for x, y in pairs if isinstance(x, (int, tuple)) and not isinstance(x, bool)), fn.name
