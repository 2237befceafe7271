"""The process boundary: whatever one function does, the others are graded."""

from __future__ import annotations

import textwrap

import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission, submission_cases, submission_digest
from grader.render.text import feedback
from grader.spec import Case
from tests.toy import SUITE, make_course

SHIFT_OK = "def shift_forward(x):\n    return x + 1, None\n"


@pytest.fixture
def course(tmp_path):
    make_course(tmp_path / "course")
    return Course(tmp_path / "course")


def cases_of(path, fn, secret):
    """The cases that ``path`` (a graded submission) got for ``fn``."""
    return submission_cases(SUITE, fn, secret, submission_digest(path))


def grade(tmp_path, course, source):
    path = tmp_path / "toy.py"
    path.write_text(textwrap.dedent(source) + ("" if "def shift_forward" in source else "\n" + SHIFT_OK))
    result = grade_submission(SUITE, path, Secret("test"), course)
    return {f.name: f for f in result.functions}, result


def test_solution_scores_full(tmp_path, course):
    functions, result = grade(tmp_path, course, (course.root / "solutions/00_toy/toy.py").read_text())
    assert result.score == result.max_score == 4


@pytest.mark.parametrize(
    "body, expected_message",
    [
        ("raise ValueError('boom')", "ValueError: boom"),
        ("raise NotImplementedError", "not implemented yet"),
        ("import sys; sys.exit(0)", "called sys.exit(0)"),
        ("import os; os._exit(0)", "exited with status 0"),
        ("import ctypes; ctypes.string_at(0)", "killed by SIGSEGV"),
        # These two wait out the time limit; test_hanging_function_costs_at_most_two_time_limits is the fast tier's.
        pytest.param("while True: pass", "time limit", marks=pytest.mark.slow),
        pytest.param("import time; time.sleep(60)", "time limit", marks=pytest.mark.slow),
        ("return 2 * x", "must return a tuple, e.g. (out, cache); it returned a numpy.ndarray"),
        ("return [1, 2]", "dtype int64; a float32 or float64 array is expected"),
        ("return 'out', None", "is a str; a numpy array is expected"),
        ("return x.astype(object), None", "dtype object"),
        ("return x.view(np.matrix), None", "is a numpy.matrix"),
        ("return 2 * x[:, :2], None", "has shape (3, 2)"),
    ],
)
def test_one_broken_function_fails_alone(tmp_path, course, body, expected_message):
    functions, _ = grade(tmp_path, course, f"import numpy as np\n\ndef scale_forward(x):\n    {body}\n\n{SHIFT_OK}")
    assert functions["scale_forward"].score == 0
    assert expected_message in feedback(functions["scale_forward"])
    assert functions["shift_forward"].score == functions["shift_forward"].max_score


def test_import_failure_fails_every_case_with_one_message(tmp_path, course):
    functions, result = grade(tmp_path, course, "import os\nos._exit(3)\n")
    assert result.score == 0
    assert "while being imported" in feedback(functions["scale_forward"])
    functions, result = grade(tmp_path, course, "def scale_forward(x)\n    return x\n")
    assert "syntax error at line 1" in feedback(functions["shift_forward"])


def test_missing_file_is_a_recorded_result(tmp_path, course):
    result = grade_submission(SUITE, tmp_path / "nowhere", Secret("test"), course)
    assert result.score == 0 and "no such file" in feedback(result.functions[0])


def test_catalogued_bug_is_recognised(tmp_path, course):
    functions, result = grade(tmp_path, course, f"def scale_forward(x):\n    return x * 3.0, None\n\n{SHIFT_OK}")
    assert functions["scale_forward"].score == 0
    assert "you multiply by three [tripled]" in feedback(functions["scale_forward"])
    assert result.bugs == ["tripled"]


def test_feedback_never_contains_expected_values(tmp_path, course):
    functions, _ = grade(tmp_path, course, f"def scale_forward(x):\n    return x * 0, None\n\n{SHIFT_OK}")
    text = feedback(functions["scale_forward"])
    assert "wrong at 12 of 12 elements" in text
    assert "0 times the expected value" in text
    # The expected output is 2x: no element of it may appear in the feedback.
    x = cases_of(tmp_path / "toy.py", SUITE.functions[0], Secret("test"))[0].inputs["x"]
    assert not any(f"{v:.3g}" in text for v in (2 * x).ravel() if abs(v) > 0.01)


def test_same_seed_same_inputs_other_seed_other_inputs():
    a = SUITE.functions[0].cases(Secret("s1").rng("toy", "scale_forward"))[0].inputs["x"]
    b = SUITE.functions[0].cases(Secret("s1").rng("toy", "scale_forward"))[0].inputs["x"]
    c = SUITE.functions[0].cases(Secret("s2").rng("toy", "scale_forward"))[0].inputs["x"]
    assert (a == b).all() and not (a == c).any()


def test_prints_do_not_disturb_results(tmp_path, course):
    source = """
    import sys
    print("x" * 100000)
    def scale_forward(x):
        print("\\x00garbage", file=sys.stderr)
        sys.stdout.write("{}" * 50000)
        return 2 * x, None
    """
    functions, result = grade(tmp_path, course, source)
    assert result.score == result.max_score


def test_child_receives_inputs_but_never_expected_values(tmp_path, course, monkeypatch):
    import grader.sandbox as sandbox_module

    sent = []
    real_encode = sandbox_module.encode
    monkeypatch.setattr(sandbox_module, "encode",
                        lambda meta, arrays=None: sent.append(real_encode(meta, arrays)) or sent[-1])
    grade(tmp_path, course, (course.root / "solutions/00_toy/toy.py").read_text())
    wire = b"".join(sent)
    for fn in SUITE.functions:
        for case in cases_of(tmp_path / "toy.py", fn, Secret("test")):
            assert case.inputs["x"].tobytes() in wire
            assert fn.reference(case.inputs)["out"].tobytes() not in wire
    assert b"scale_forward" in wire and b"2 * x" not in wire


def test_hanging_function_costs_at_most_two_time_limits(tmp_path, course):
    import dataclasses

    suite = dataclasses.replace(SUITE, functions=tuple(
        dataclasses.replace(f, cases=lambda rng: [Case(f"case {i}", {"x": rng.standard_normal(3)}) for i in range(6)])
        for f in SUITE.functions), case_time_limit=1.0)
    path = tmp_path / "toy.py"
    path.write_text("def scale_forward(x):\n    while True: pass\n\n" + SHIFT_OK)
    result = grade_submission(suite, path, Secret("test"), course)
    scale = result.functions[0]
    messages = [m for c in scale.cases for m in c.messages]
    assert sum("did not finish within the time limit" in m for m in messages) == 2
    assert sum("timed out on 2 earlier cases" in m for m in messages) == 4 and scale.score == 0
    assert result.functions[1].score == result.functions[1].max_score


def test_submission_time_budget_stops_the_rest(tmp_path, course):
    import dataclasses

    suite = dataclasses.replace(SUITE, case_time_limit=1.0, submission_time_limit=1.5)
    path = tmp_path / "toy.py"
    path.write_text("def scale_forward(x):\n    while True: pass\n\n" + SHIFT_OK)
    result = grade_submission(suite, path, Secret("test"), course)
    assert "used up its time budget of 1.5 s" in feedback(result.functions[1])


def test_grading_leaks_no_file_descriptors(tmp_path, course):
    import os

    grade(tmp_path, course, "import os\nos._exit(1)\n")  # warm up, and a child that dies at import
    before = len(os.listdir("/proc/self/fd"))
    solution = (course.root / "solutions/00_toy/toy.py").read_text()
    for source in (solution, "def scale_forward(x):\n    raise ValueError\n"):
        grade(tmp_path, course, source)
    assert len(os.listdir("/proc/self/fd")) == before
