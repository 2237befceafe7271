"""The CNN assignment: CPU mode end to end, skipped GPU-only checks, forbidden
convolution (static and at run time), synthetic digits, and on a GPU the full
flow (marked ``gpu``)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from grader import datasets
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.forbidden import scan
from grader.render.gradescope import to_gradescope
from grader.render.text import feedback, to_text
from grader.suites import SUITES
from grader.suites.cnn import CONV2D_FORBIDDEN, _digits

COURSE = Course.locate()
SECRET = Secret("cnn-tests")
SUITE = SUITES["cnn"]
EXAMPLES = COURSE.root / "solutions" / "examples" / "cnn"
CONV_ONLY = dataclasses.replace(SUITE, training=None)


def cases(result, function):
    return {c.name: c for f in result.functions if f.name == function for c in f.cases}


@pytest.fixture(scope="module")
def cpu_solution():
    with pytest.MonkeyPatch.context() as mp:  # CPU mode even on a GPU machine, for this grading only
        mp.setenv("DLGRADE_DEVICE", "cpu")
        return grade_submission(SUITE, COURSE.solution_dir(SUITE), SECRET, COURSE)


def test_cpu_mode_grades_the_solution_and_labels_skipped_checks(cpu_solution):
    result = cpu_solution
    assert result.status == "graded" and result.score == result.max_score > 0, to_text(result)
    classifier = cases(result, "classifier")
    for name in ("model on the GPU", "throughput"):
        case = classifier[name]
        assert case.skipped and not case.passed and case.max_score == 0  # excluded, never passed
        assert "skipped: GPU-only check: no CUDA GPU here" in to_text(result)
    assert classifier["test accuracy"].passed and classifier["test accuracy"].details["accuracy"] >= 0.8
    assert "CPU mode" in to_text(result)
    speed = [c for c in cases(result, "conv2d").values() if c.speed]
    assert speed and speed[0].skipped
    board = {entry["name"]: entry for entry in result.leaderboard}
    assert board["Training time (s)"]["order"] == "asc" and board["Test accuracy (%)"]["value"] >= 80
    assert to_gradescope(result)["leaderboard"] == result.leaderboard


def test_skipped_checks_can_count_as_lost(monkeypatch):
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    result = grade_submission(CONV_ONLY, COURSE.solution_dir(SUITE), SECRET, COURSE, skipped="zero")
    speed = [c for c in cases(result, "conv2d").values() if c.speed][0]
    assert speed.skipped and speed.max_score == 1 and speed.score == 0
    assert result.score == result.max_score - 1


def test_untrained_model_loses_the_accuracy_points_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    result = grade_submission(SUITE, EXAMPLES / "buggy.py", SECRET, COURSE)
    accuracy = cases(result, "classifier")["test accuracy"]
    assert accuracy.score == 0
    assert "test accuracy" in accuracy.messages[0] and "full points from" in accuracy.messages[0]
    assert "flipped-kernel" in result.bugs


def test_a_loop_conv2d_passes_every_correctness_case_within_a_tenth_of_the_limit(monkeypatch):
    """Correctness is not speed: the loop over output positions
    (slow_correct.py, 170x F.conv2d on a GPU) gets every correctness point
    with a tenth of the case time limit; only the speed check sees the
    course-sized layer."""
    from grader.suites.cnn import CONV2D_SHAPES, CORRECTNESS_POSITIONS

    for name, n, c, h, w, f, hh, ww, stride, padding in CONV2D_SHAPES:
        positions = n * ((h + 2 * padding - hh) // stride + 1) * ((w + 2 * padding - ww) // stride + 1)
        assert positions <= CORRECTNESS_POSITIONS, name
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    tight = dataclasses.replace(CONV_ONLY, case_time_limit=SUITE.case_time_limit / 10)
    result = grade_submission(tight, EXAMPLES / "slow_correct.py", SECRET, COURSE)
    correctness = [c for c in cases(result, "conv2d").values() if not c.speed]
    assert len(correctness) == len(CONV2D_SHAPES) and all(c.passed for c in correctness), to_text(result)


REGRADE = """
import dataclasses, sys
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.suites import SUITES
suite = SUITES["cnn"]
# A third of CPU mode's images: as random a training run, at a third of the cost.
small = dataclasses.replace(suite.training.cpu, train_size=300, test_size=300)
suite = dataclasses.replace(suite, functions=(), training=dataclasses.replace(suite.training, cpu=small))
result = grade_submission(suite, Course.locate().root / sys.argv[1], Secret("cnn-tests"))
print(result.score, *(c.details["accuracy"] for f in result.functions for c in f.cases if c.name == "test accuracy"))
"""


def test_regrading_in_cpu_mode_gives_the_identical_score(monkeypatch):
    """The child seeds random, numpy and torch from the case's seed before
    build_model and train: five regrades, each in a fresh grader process (whose
    generators would otherwise start elsewhere), of a submission that shuffles
    with torch's global generator agree exactly (unseeded: 69-76% accuracy)."""
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    runs = {tuple(subprocess.run([sys.executable, "-c", REGRADE, "solutions/examples/cnn/cpu_only.py"], check=True,
                                  capture_output=True, text=True, cwd=COURSE.root).stdout.split()[-2:])
            for _ in range(5)}
    assert len(runs) == 1, runs


# --------------------------------------------------------------------------- forbidden convolution


def test_scan_finds_forbidden_names_through_aliases_and_helpers():
    source = textwrap.dedent("""
        import torch
        import torch.nn.functional as F
        from torch.nn.functional import conv2d as c2d
        from torch import nn
        convolve = F.conv2d

        def helper(x, w):
            return c2d(x, w)

        def conv2d(x, w, b, stride=1, padding=0):
            return helper(x, w) + convolve(x, w) + torch.ops.aten.convolution(x)

        class Net(nn.Module):  # top-level code that conv2d does not use is not its business
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 8, 3)

        def build_model():
            return nn.Sequential(nn.Conv2d(1, 8, 3))
    """)
    found = scan(source, "conv2d", CONV2D_FORBIDDEN)
    names = {(v.name, v.function) for v in found}
    assert ("torch.nn.functional.conv2d", "helper") in names
    assert ("torch.ops.aten.convolution", "conv2d") in names
    assert ("torch.nn.functional.conv2d", "conv2d") in names  # through the alias convolve
    message = next(v for v in found if v.function == "helper").message("conv2d")
    assert "torch.nn.functional.conv2d" in message and "which conv2d uses" in message
    # build_model and Net may use nn.Conv2d: only conv2d is barred from convolutions.
    assert {v.function for v in found} == {"conv2d", "helper"}
    assert scan(source, "build_model", ()) == []


def test_forbidden_convolution_scores_zero_statically_and_at_run_time(tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    static = tmp_path / "static" / "cnn.py"
    static.parent.mkdir()
    static.write_text("import torch.nn.functional as F\n\ndef conv2d(x, w, b, stride=1, padding=0):\n"
                      "    return F.conv2d(x, w, b, stride=stride, padding=padding)\n")
    dynamic = tmp_path / "dynamic" / "cnn.py"
    dynamic.parent.mkdir()
    # A name built at run time escapes the scan; torch's function mode catches the call.
    dynamic.write_text("import torch\n\ndef conv2d(x, w, b, stride=1, padding=0):\n"
                       "    conv = getattr(torch.nn.functional, 'conv' + '2d')\n"
                       "    return conv(x, w, b, stride=stride, padding=padding)\n")
    for path, expected in ((static, "must not use torch.nn.functional.conv2d (line 4"),
                           (dynamic, "called torch.")):
        result = grade_submission(CONV_ONLY, path, SECRET, COURSE)
        conv = result.functions[0]
        assert conv.score == 0, to_text(result)
        assert expected in feedback(conv), feedback(conv)


# --------------------------------------------------------------------------- data


def test_synthetic_digits_are_seeded_and_learnable_in_shape():
    a = datasets.synthetic_digits(200, np.random.default_rng(1))
    b = datasets.synthetic_digits(200, np.random.default_rng(1))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    images, labels = a
    assert images.shape == (200, 28, 28) and images.dtype == np.uint8 and set(labels) == set(range(10))
    means = np.array([images[labels == d].mean() for d in range(10)])
    assert means[8] > means[1]  # an 8 has all seven strokes, a 1 two
    assert len(np.unique(images.reshape(200, -1), axis=0)) == 200  # no two alike


def test_cpu_mode_falls_back_to_synthetic_digits_without_mnist(monkeypatch):
    import grader.suites.cnn as cnn_suite

    def missing():
        raise datasets.DatasetError("not here")

    monkeypatch.setattr(cnn_suite, "_mnist", missing)
    train_x, train_y, test_x, test_y, what = _digits(SUITE.training.cpu, np.random.default_rng(0))
    assert "synthetic" in what and len(train_x) == SUITE.training.cpu.train_size
    with pytest.raises(datasets.DatasetError):
        _digits(SUITE.training.gpu, np.random.default_rng(0))  # a GPU grade needs the real data


# --------------------------------------------------------------------------- on a GPU


@pytest.fixture(scope="module")
def gpu_results():
    return {name: grade_submission(SUITE, path, SECRET, COURSE) for name, path in (
        ("solution", COURSE.solution_dir(SUITE)), ("cpu_only", EXAMPLES / "cpu_only.py"))}


@pytest.mark.gpu
def test_gpu_mode_gives_the_solution_every_point(gpu_results):
    result = gpu_results["solution"]
    assert result.score == result.max_score == SUITE.max_points, to_text(result)
    assert not any(c.skipped for f in result.functions for c in f.cases)
    assert cases(result, "classifier")["test accuracy"].details["accuracy"] >= 0.985
    assert {e["name"] for e in result.leaderboard} >= {"Training time (s)", "Images/s (one epoch)"}


@pytest.mark.gpu
def test_a_model_left_on_the_cpu_loses_the_gpu_points(gpu_results):
    classifier = cases(gpu_results["cpu_only"], "classifier")
    assert classifier["model on the GPU"].score == 0
    assert "not on the GPU" in classifier["model on the GPU"].messages[0]


@pytest.mark.gpu
def test_tf32_would_fail_a_correct_student_and_the_baseline_is_exact():
    import torch
    import torch.nn.functional as F

    from grader.child.torch_support import conv2d as exact_conv2d

    torch.manual_seed(0)
    x, w = torch.randn(64, 32, 14, 14, device="cuda"), torch.randn(64, 32, 3, 3, device="cuda")
    reference = F.conv2d(x.double(), w.double())
    saved = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = True
    try:
        tf32 = F.conv2d(x, w)
    finally:
        torch.backends.cudnn.allow_tf32 = saved
    relative = lambda y: ((y.double() - reference).abs().max() / reference.abs().max()).item()  # noqa: E731
    assert relative(tf32) > 1e-4 > relative(exact_conv2d(x, w, None))
