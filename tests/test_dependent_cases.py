"""Feedback that points at the right place (issue 11): a backward case lost
because the student's own forward failed on its input names the forward and
is counted under it by the class report; an optimiser's trajectory says at
which step it first departs from torch's; edge cases catch the escapes that
code written from a first draft shows (a softmax shifted by the whole array's
maximum, batch norm in eval mode without eps)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys

from grader.class_report import summarise
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.text import feedback
from grader.suites import SUITES

COURSE = Course.locate()
SECRET = Secret("dependent-cases")


def _solution(assignment: str) -> str:
    suite = SUITES[assignment]
    return (COURSE.solution_dir(suite) / f"{suite.module}.py").read_text()


def _grade(tmp_path, assignment: str, source: str, functions: tuple[str, ...]):
    suite = SUITES[assignment]
    path = tmp_path / f"{suite.module}.py"
    path.write_text(source)
    suite = dataclasses.replace(suite, functions=tuple(f for f in suite.functions if f.name in functions))
    return {f.name: f for f in grade_submission(suite, path, SECRET, COURSE).functions}


# A forward that raises on batches of two: every other case of both functions runs.
RAISES_ON_TWO = """

_correct_forward = batchnorm_forward


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train and x.shape[0] == 2:
        raise ValueError("cannot normalise a batch of two")
    return _correct_forward(x, gamma, beta, state, train, momentum, eps)
"""


def test_a_backward_lost_to_its_own_forward_names_it_and_is_counted_under_it(tmp_path):
    source = _solution("regularization") + RAISES_ON_TWO
    functions = _grade(tmp_path, "regularization", source, ("batchnorm_forward", "batchnorm_backward"))
    blocked = [c for c in functions["batchnorm_backward"].cases if c.score < c.max_score]
    assert blocked and all(c.blocked_by == "batchnorm_forward" for c in blocked)
    assert all(c.messages[0].startswith("not graded: `batchnorm_forward` failed on this input: batchnorm_forward "
                                        "raised ValueError") for c in blocked), [c.messages for c in blocked]
    assert all(c.blocked_by is None for c in functions["batchnorm_forward"].cases)

    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    (folder / "ann.py").write_text(source)
    shutil.copy(COURSE.solution_dir(SUITES["regularization"]) / "regularization.py", folder / "ben.py")
    run = subprocess.run([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "regularization",
                          "-o", str(out), "--no-html"], capture_output=True, text=True, cwd=COURSE.root,
                         env={**os.environ, "DLGRADE_SEED": "dependent-cases"})
    assert run.returncode == 0, run.stderr
    stats = {s.name: s for s in summarise(out).functions}
    # ann lost backward points, all of them to her forward: one failure of the forward, none of the backward.
    assert stats["batchnorm_backward"].mean < stats["batchnorm_backward"].max_points
    assert (stats["batchnorm_forward"].failed, stats["batchnorm_backward"].failed) == (1, 0)


def test_a_dropout_backward_through_an_invalid_forward_is_blocked_by_it(tmp_path):
    scaled_twice = _solution("regularization").replace("def dropout_forward(x, p, train, rng):",
                                                       "def _unused(x, p, train, rng):") + """

def dropout_forward(x, p, train, rng):
    keep = rng.random(x.shape) >= p
    return (x * keep / (1 - p) ** 2 if train else x.copy()), (keep, p, train)
"""
    backward = _grade(tmp_path, "regularization", scaled_twice, ("dropout_backward",))["dropout_backward"]
    blocked = [c for c in backward.cases if c.score < c.max_score]
    assert blocked and all(c.blocked_by == "dropout_forward" for c in blocked)
    assert all("neither 0 (dropped) nor x / (1 - p)" in c.messages[0] for c in blocked)


ADAM_T = 't = state.get("t", 0) + 1'


def test_an_optimiser_trajectory_says_where_it_first_departs(tmp_path):
    solution = _solution("optim")
    assert solution.count(ADAM_T) == 1
    from_zero = _grade(tmp_path, "optim", solution.replace(ADAM_T, 't = state.get("t", -1) + 1'), ("adam_step",))
    assert "step 1 already differs: check the step counter" in feedback(from_zero["adam_step"])
    frozen = _grade(tmp_path, "optim", solution.replace(ADAM_T, "t = 1"), ("adam_step",))
    output = feedback(frozen["adam_step"])
    assert "step 1 already differs" not in output
    assert "first departs at step 2: check what a step carries over to the next one in state (m, v and the step " \
           "count" in output, output


def test_a_softmax_shifted_by_the_global_maximum_fails_on_rows_far_apart(tmp_path):
    row_max = "shifted = x - np.max(x, axis=1, keepdims=True)"
    solution = _solution("neuron")
    assert solution.count(row_max) == 1
    softmax = _grade(tmp_path, "neuron", solution.replace(row_max, "shifted = x - np.max(x)"),
                     ("softmax_forward",))["softmax_forward"]
    lost = {c.name for c in softmax.cases if not c.passed}
    assert lost == {"rows whose maxima differ by ~1000 (N=4, C=5)"}, feedback(softmax)
    assert "softmax-global-max-shift" in softmax.bugs


def test_batch_norm_in_eval_mode_without_eps_fails_on_a_running_variance_near_zero(tmp_path):
    running = 'mu, var = state["running_mean"], state["running_var"]'
    solution = _solution("regularization")
    assert solution.count(running) == 1
    forward = _grade(tmp_path, "regularization", solution.replace(running, running + " - eps"),
                     ("batchnorm_forward",))["batchnorm_forward"]
    assert {c.name for c in forward.cases if not c.passed} == {"eval mode, running variance near 0"}
    assert "bn-eval-without-eps" in forward.bugs
