"""The one results model: a GradeResult, its native file (dlgrade-result/1)
that grade-batch, the gradebook and `dlgrade report` read, and Gradescope's
results.json as one rendering of it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import jsonschema
import pytest

from grader.batch import write_gradebook
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.gradescope import to_gradescope
from grader.render.text import to_text
from grader.results import (
    RESULT_FORMAT,
    CaseResult,
    FunctionResult,
    GradeResult,
    ResultFormatError,
    Status,
    read_result,
    result_path,
)
from tests.toy import SUITE, make_course

COURSE = Course.locate()
SCHEMA = json.loads((COURSE.root / "grader" / "schemas" / "result.schema.json").read_text())
BUGGY = '''
def scale_forward(x):
    return 3 * x, None


def shift_forward(x):
    return x + 1, None
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> GradeResult:
    """The toy suite on a submission with a catalogued bug (hints, bugs,
    error maps), plus a skipped check and a leaderboard as the CNN's have."""
    root = tmp_path_factory.mktemp("results")
    course = Course(root / "course")
    make_course(course.root)
    path = root / "toy.py"
    path.write_text(BUGGY)
    result = grade_submission(SUITE, path, Secret("results"), course)
    result.functions.append(FunctionResult("classifier", [
        CaseResult("test accuracy", 0.5, 1.0, ["accuracy 95.0%"]),
        CaseResult("on the GPU", 0.0, 0.0, skipped="GPU-only check: no CUDA GPU here")], ["trained in 1.0 s"]))
    result.leaderboard = [{"name": "Test accuracy (%)", "value": 95.0}, {"name": "Training time (s)", "value": 1.0,
                                                                          "order": "asc"}]
    return result


def test_the_native_file_round_trips_and_follows_its_schema(graded):
    data = json.loads(json.dumps(graded.to_dict()))
    jsonschema.validate(data, SCHEMA)
    assert data["format"] == RESULT_FORMAT
    again = GradeResult.from_dict(data)
    assert again.to_dict() == data
    assert (again.score, again.max_score, again.status, again.bugs) == (graded.score, graded.max_score,
                                                                        Status.GRADED, ["tripled"])
    assert again.functions[0].cases[0].hints == graded.functions[0].cases[0].hints
    assert again.functions[-1].cases[-1].skipped == "GPU-only check: no CUDA GPU here"
    # Every rendering is made from it alike: the reread result renders as the one in memory (figures aside).
    assert to_gradescope(again) == to_gradescope(graded) and to_text(again) == to_text(graded)
    assert "error_maps" not in json.dumps(data)  # figure data stays in memory, for the HTML page only


@pytest.mark.parametrize("change, reason", [
    (lambda d: d.update(format="dlgrade-result/2"), "not a dlgrade-result/1 result"),
    (lambda d: d.pop("format"), "not a dlgrade-result/1 result"),
    (lambda d: d.pop("functions"), "field missing or wrong"),
    (lambda d: d.update(status="graded-ish"), "field missing or wrong"),
    (lambda d: d["functions"][0]["cases"][0].update(score="lots"), "field missing or wrong"),
], ids=["another-version", "no-format", "no-functions", "unknown-status", "score-not-a-number"])
def test_anything_but_a_dlgrade_result_1_is_refused(graded, tmp_path, change, reason):
    data = graded.to_dict()
    change(data)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultFormatError, match=reason):
        read_result(path)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
    path.write_bytes(b"\xff not json")
    with pytest.raises(ResultFormatError, match="not JSON"):
        read_result(path)


def test_status_is_an_enum_whose_value_is_what_files_show():
    assert GradeResult("toy", "x.py", [], status="invalid").status is Status.INVALID
    assert str(Status.NOT_GRADED) == f"{Status.NOT_GRADED}" == "not graded"
    assert [s.final for s in Status] == [True, True, False, False]  # an error is retried, so is a missing result


def test_the_gradebook_takes_points_by_function_name_from_the_native_file(tmp_path):
    """A function whose name holds ": " (Gradescope's test names are
    "assignment: function"): nothing is split, the points land in its column."""
    suite = SimpleNamespace(graded=[("a: b", 3.0), ("c", 1.0)])
    result = GradeResult("toy", "alice.py", [FunctionResult("a: b", [CaseResult("one", 2.5, 3.0)]),
                                              FunctionResult("c", [CaseResult("two", 1.0, 1.0)])],
                         message="line one\nline two")
    path = result_path(tmp_path, "alice")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(result.to_dict()))
    gradebook, statuses = write_gradebook(tmp_path, suite, {"alice": path, "bob": path})
    with open(gradebook, newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert (rows["alice"]["a: b"], rows["alice"]["c"], rows["alice"]["total"]) == ("2.5", "1.0", "3.5")
    assert rows["alice"]["message"] == "line one line two"  # one line per row
    assert rows["bob"]["status"] == "not graded" and statuses == {Status.GRADED: 1, Status.NOT_GRADED: 1}


@pytest.mark.slow  # a whole grade through the CLI; test_formats' cli_run is the fast tier's
def test_grade_writes_the_native_result_beside_its_renderings(tmp_path):
    env = {**os.environ, "DLGRADE_SEED": "results"}
    run = subprocess.run([sys.executable, "-m", "grader", "grade", "solutions/examples/losses/buggy.py",
                          "--result", str(tmp_path / "result.json"), "--json", str(tmp_path / "results.json")],
                         capture_output=True, text=True, cwd=COURSE.root, env=env)
    assert run.returncode == 0, run.stderr
    result = read_result(tmp_path / "result.json")
    jsonschema.validate(json.loads((tmp_path / "result.json").read_text()), SCHEMA)
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(to_gradescope(result)))
    assert result.bugs and 0 < result.score < result.max_score
