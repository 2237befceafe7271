"""The dlgrade command as users run it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.course import Course

COURSE = Course.locate()
EXAMPLES = COURSE.root / "examples" / "submissions"


def dlgrade(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=cwd or COURSE.root, env={"PATH": "/usr/bin:/bin", "DLGRADE_SEED": "cli-tests"})


def test_grade_solution_writes_gradescope_json(tmp_path):
    out = tmp_path / "results.json"
    run = dlgrade("grade", "solutions/01_neuron", "--json", str(out), "--fail-under", "100")
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["score"] == data["max_score"] > 0
    assert {"name", "score", "max_score", "output", "visibility"} <= set(data["tests"][0])
    assert "total" in run.stdout


def test_grade_stub_below_threshold_exits_1():
    run = dlgrade("grade", "examples/submissions/losses/stub.py", "--fail-under", "50")
    assert run.returncode == 1
    assert "not implemented yet" in run.stdout and "below --fail-under" in run.stderr


def test_grade_json_format_prints_json():
    run = dlgrade("grade", "examples/submissions/losses/buggy.py", "--format", "json")
    assert run.returncode == 0
    assert json.loads(run.stdout)["score"] < json.loads(run.stdout)["max_score"]


def test_unknown_assignment_is_a_usage_error(tmp_path):
    run = dlgrade("grade", str(tmp_path), "-a", "nope")
    assert run.returncode == 2 and "unknown assignment 'nope'" in run.stderr
    run = dlgrade("grade", str(tmp_path))
    assert run.returncode == 2 and "name it with -a" in run.stderr


def test_missing_module_is_graded_zero_with_a_message(tmp_path):
    run = dlgrade("grade", str(tmp_path), "-a", "neuron")
    assert run.returncode == 0
    assert "has no neuron.py" in run.stdout and "Traceback" not in run.stdout + run.stderr


def test_check_passes_on_solution_and_fails_on_stub():
    good = dlgrade("check", "solutions/01_neuron")
    assert good.returncode == 0, good.stdout
    bad = dlgrade("check", cwd=COURSE.root / "assignments" / "01_neuron")
    assert bad.returncode == 1
    assert "not implemented yet" in bad.stdout and "FAIL sigmoid_forward" in bad.stdout


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/correct_*.py")), ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_public_checks_pass_every_correct_variant(path):
    """float32 and loop versions included: the public checks must not reject a
    correct submission either."""
    run = dlgrade("check", str(path))
    assert run.returncode == 0, run.stdout


def test_list_shows_every_graded_function():
    from grader.suites import SUITES

    run = dlgrade("list")
    for suite in SUITES.values():
        for fn in suite.functions:
            assert fn.name in run.stdout


def test_results_json_validates_against_gradescope_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((COURSE.root / "grader" / "schemas" / "gradescope_results.schema.json").read_text())
    for submission in ("solutions/02_losses", "examples/submissions/losses/buggy.py", str(tmp_path)):
        run = dlgrade("grade", submission, "-a", "losses", "--format", "json")
        jsonschema.validate(json.loads(run.stdout), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"score": 1, "tests": [{"score": 1, "visibility": "sometimes"}]}, schema)
