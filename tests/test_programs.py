"""Programs beyond forward/backward: state threaded through calls, indexed
inputs, stacked trajectories, child builtins, property checks, speed points."""

from __future__ import annotations

import time

import numpy as np
import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.text import feedback
from grader.spec import (
    Case,
    GradedFunction,
    Input,
    Program,
    Property,
    Returned,
    Speed,
    Stack,
    Suite,
    call,
    forward_program,
)

STEPS = 4

SOLUTION = '''\
import numpy as np


def descend(w, g, state, lr):
    # BEGIN SOLUTION
    state["steps"] = state.get("steps", 0) + 1
    return w - lr * g, state
    # END SOLUTION


def classify(x):
    # BEGIN SOLUTION
    return (x.sum(axis=1) > 0).astype(np.int64)
    # END SOLUTION


def double_forward(x):
    # BEGIN SOLUTION
    return 2 * x, None
    # END SOLUTION
'''


def _trajectory() -> Program:
    calls = [call("builtin:dict")]
    for t in range(STEPS):
        w = Input("w0") if t == 0 else Returned(t, 0)
        calls.append(call("descend", w, Input("grads", t), Returned(t, 1) if t else Returned(0), "lr",
                          modifies=(0, 2)))
    points = (Input("w0"), *(Returned(t + 1, 0) for t in range(STEPS)))
    return Program(tuple(calls), {"trajectory": Stack(points), "steps": Returned(STEPS, 1, key="steps")})


def _descend_cases(rng):
    return [Case("steps", {"w0": rng.standard_normal(3), "grads": rng.standard_normal((STEPS, 3)), "lr": 0.1})]


def _descend_reference(inputs):
    w = inputs["w0"]
    path = [w]
    for g in inputs["grads"]:
        w = w - inputs["lr"] * g
        path.append(w)
    return {"trajectory": np.stack(path), "steps": np.array(STEPS)}


def _classify_cases(rng):
    return [Case("points", {"x": rng.standard_normal((50, 2))})]


def _classify_reference(inputs):
    labels = inputs["x"].sum(axis=1) > 0  # stays here: the child sees only x

    def accuracy_at_least_90(predicted):
        accuracy = float(np.mean(predicted.reshape(-1) == labels)) if predicted.size == labels.size else 0.0
        return None if accuracy >= 0.9 else f"accuracy {accuracy:.0%} is below 90%"

    return {"labels": Property(accuracy_at_least_90)}


def _double_cases(rng):
    return [Case("big", {"x": rng.standard_normal((200, 200))})]


BASELINE_SECONDS = 0.02

SUITE = Suite(
    folder="00_programs", title="Programs",
    functions=(
        GradedFunction("descend", _trajectory(), _descend_cases, _descend_reference, points=1),
        GradedFunction("classify", Program((call("classify", "x"),), {"labels": Returned(0)}), _classify_cases,
                       _classify_reference, points=1),
        GradedFunction("double_forward", forward_program("double", "x"), _double_cases,
                       lambda i: {"out": 2 * i["x"]}, points=1,
                       # A baseline of known cost stands in for torch's implementation of the operation.
                       speed=Speed(points=1, max_ratio=5, repeats=3, torch=lambda i: time.sleep(BASELINE_SECONDS))),
    ),
    case_time_limit=5.0,
)


@pytest.fixture
def course(tmp_path):
    solution = tmp_path / "course" / "solutions" / "00_programs" / "programs.py"
    solution.parent.mkdir(parents=True)
    solution.write_text(SOLUTION)
    return Course(tmp_path / "course")


def grade(tmp_path, course, source):
    path = tmp_path / "programs.py"
    path.write_text(source)
    result = grade_submission(SUITE, path, Secret("programs"), course)
    return {f.name: f for f in result.functions}


def test_solution_gets_every_point_including_speed(tmp_path, course):
    functions = grade(tmp_path, course, SOLUTION)
    assert all(f.score == f.max_score for f in functions.values()), [feedback(f) for f in functions.values()]
    assert functions["double_forward"].max_score == 2
    assert "x torch's time" in feedback(functions["double_forward"])


@pytest.mark.parametrize("step", [
    "    w -= lr * g\n    return w, state",  # CS231n's `w -= lr * dw; return w, config`
    "    w -= lr * g\n    return w, dict(state)",  # in place, and a new state dict
    "    np.subtract(w, lr * g, out=w)\n    return w, state",
])
def test_updating_w_in_place_is_correct(tmp_path, course, step):
    """Every step of the trajectory is taken when its call returns, not
    overwritten by later steps, and it starts from the grader's own w0 (index
    0, which the first call updated in its copy)."""
    in_place = SOLUTION.replace("    return w - lr * g, state", step)
    assert in_place != SOLUTION
    descend = grade(tmp_path, course, in_place)["descend"]
    assert descend.score == descend.max_score, feedback(descend)


def test_changing_an_argument_not_declared_modifiable_fails_the_case(tmp_path, course):
    """`g` is not among the call's `modifies`: zeroing it in place is named,
    though the trajectory it returns is right."""
    zeroing = SOLUTION.replace("    return w - lr * g, state", "    w = w - lr * g\n    g[:] = 0\n    return w, state")
    descend = grade(tmp_path, course, zeroing)["descend"]
    assert descend.score == 0
    assert "descend modifies its argument `g` in place" in feedback(descend)
    doubling = SOLUTION.replace("    return 2 * x, None", "    x *= 2\n    return x, None")
    double = grade(tmp_path, course, doubling)["double_forward"]
    assert double.score == 0 and "double_forward modifies its argument `x` in place" in feedback(double)


def test_a_failing_dependency_is_named_as_such():
    """A backward case whose own forward raised says so first: the forward
    is what to fix."""
    from types import SimpleNamespace

    from grader.child import program as child_program
    from grader.child.protocol import Request
    from grader.spec import backward_program

    def broken_forward(x):
        raise ValueError("shapes do not align")

    module = SimpleNamespace(layer_forward=broken_forward, layer_backward=lambda dout, cache: dout)
    with pytest.raises(child_program.StudentError) as raised:
        child_program.run_program(module, Request(backward_program("layer", "x")),
                                  {"x": np.ones(3), "dout": np.ones(3)})
    assert raised.value.message.startswith("not graded: `layer_forward` failed on this input: layer_forward raised "
                                           "ValueError: shapes do not align")


def test_state_must_be_threaded_and_kept(tmp_path, course):
    forgetful = SOLUTION.replace('state["steps"] = state.get("steps", 0) + 1', "state = {}")
    functions = grade(tmp_path, course, forgetful)
    assert "its state has no entry 'steps'" in feedback(functions["descend"])
    wrong_sign = SOLUTION.replace("return w - lr * g, state", "return w + lr * g, state")
    assert "trajectory is wrong" in feedback(grade(tmp_path, course, wrong_sign)["descend"])


def test_property_judges_without_revealing_labels(tmp_path, course):
    functions = grade(tmp_path, course, SOLUTION.replace("> 0).astype", "< 0).astype"))
    assert functions["classify"].score == 0
    assert "is below 90%" in feedback(functions["classify"])


def test_slow_correct_function_loses_only_speed_points(tmp_path, course):
    slow = SOLUTION.replace("    return 2 * x, None", "    import time\n    time.sleep(0.2)\n    return 2 * x, None")
    double = grade(tmp_path, course, slow)["double_forward"]
    assert double.score == double.max_score - 1
    assert "slower than torch (limit 5x)" in feedback(double)


def test_wrong_function_gets_no_speed_points(tmp_path, course):
    double = grade(tmp_path, course, SOLUTION.replace("return 2 * x, None", "return 0 * x, None"))["double_forward"]
    assert double.score == 0 and "speed is graded once every case passes" in feedback(double)


def test_outputs_over_the_wire_limit_are_refused_each_and_together(monkeypatch):
    """One place keeps answers within the wire's limit: an array alone (refused
    before it is copied) and the outputs together."""
    from types import SimpleNamespace

    from grader.child import program as child_program
    from grader.child.protocol import Request

    monkeypatch.setattr(child_program.wire, "MAX_MESSAGE_BYTES", 1000)
    module = SimpleNamespace(pair=lambda n: (np.zeros(n), np.zeros(n)))
    both = Request(Program((call("pair", "n"),), {"a": Returned(0, 0), "b": Returned(0, 1)}))
    assert set(child_program.run_program(module, both, {"n": 60})) == {"a", "b"}  # 2 x 480 bytes
    for n in (70, 200):  # 2 x 560 bytes together; 1600 bytes alone
        with pytest.raises(child_program.StudentError, match="more than 0 MiB"):
            child_program.run_program(module, both, {"n": n})
