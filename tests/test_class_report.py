"""`dlgrade report OUT`: a class's points, failure rates and most frequent
bugs per function, from one small grade-batch (run once for the module),
read from the students' native result files."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from grader.course import Course

COURSE = Course.locate()
EXAMPLES = COURSE.root / "solutions" / "examples" / "losses"
SOLUTION = COURSE.root / "solutions" / "02_losses" / "losses.py"


def dlgrade(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=COURSE.root,
                          env={**os.environ, "DLGRADE_SEED": "class-report-tests"})


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    folder = root / "submissions"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    shutil.copy(EXAMPLES / "buggy.py", folder / "bob.py")
    shutil.copy(EXAMPLES / "correct_loops.py", folder / "carol.py")
    (folder / "dave.py").write_text("")
    (folder / "erin.py").write_text("import numpy as np\n\nSCALE = np.ones(3) @ np.ones(4)\n")  # raises at import
    out = root / "out"
    run = dlgrade("grade-batch", str(folder), "-a", "losses", "-o", str(out), "--jobs", "2")
    assert run.returncode == 0, run.stderr
    with open(out / "gradebook.csv") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    return out, book


def results(out, student):
    return json.loads((out / "students" / student / "results.json").read_text())


def test_results_carry_the_recognised_bugs_per_function(batch):
    out, _ = batch
    bob = {t["name"]: t["extra_data"]["bugs"] for t in results(out, "bob")["tests"]}
    assert bob["losses: mse_loss"] == ["mse-grad-missing-factor-2"]
    assert all(not t["extra_data"]["bugs"] for t in results(out, "alice")["tests"])


def test_json_report_matches_the_gradebook(batch):
    out, book = batch
    run = dlgrade("report", str(out), "--format", "json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["assignment"] == "losses" and report["submissions"] == 5
    assert report["statuses"] == {"graded": 3, "invalid": 2}
    graded = [row for row in book.values() if row["status"] == "graded"]
    assert report["mean_percent"] == pytest.approx(sum(float(r["percent"]) for r in graded) / 3, abs=0.01)
    bob = {t["name"].split(": ")[1]: t for t in results(out, "bob")["tests"]}
    for function in report["functions"]:
        name = function["name"]
        assert function["graded"] == 3
        assert function["mean"] == pytest.approx(sum(float(r[name]) for r in graded) / 3, abs=1e-4)
        assert function["max_points"] == bob[name]["max_score"]
        failed = sum(float(r[name]) < function["max_points"] for r in graded)  # only bob can lose points
        assert function["failed"] == failed == (bob[name]["status"] == "failed")
        assert function["failure_rate"] == pytest.approx(failed / 3, abs=1e-4)
        assert function["bugs"] == {bug: 1 for bug in bob[name]["extra_data"]["bugs"]}


def test_text_and_markdown_name_the_most_frequent_bug(batch):
    out, _ = batch
    text = dlgrade("report", str(out)).stdout
    assert text.startswith("losses: 5 submissions (3 graded, 2 invalid)")
    mse = next(line for line in text.splitlines() if line.startswith("mse_loss"))
    assert "33% (1/3)" in mse and "mse-grad-missing-factor-2 (1)" in mse
    markdown = dlgrade("report", str(out), "--format", "markdown").stdout
    assert markdown.startswith("## losses: 5 submissions") and "| mse_loss |" in markdown
    assert "| --- | --: | --: | --- |" in markdown


def test_an_exception_at_import_is_invalid_with_its_file_and_line_and_out_of_the_failure_rates(batch):
    out, book = batch
    erin = book["erin"]
    assert erin["status"] == "invalid" and "\n" not in erin["message"]
    assert erin["message"].startswith("importing erin.py failed: ValueError: matmul")
    assert "(at line 3" in erin["message"]
    report = json.loads(dlgrade("report", str(out), "--format", "json").stdout)
    assert all(f["graded"] == 3 for f in report["functions"])  # alice, bob, carol: not dave, not erin


@pytest.mark.parametrize("damage", [
    lambda path: path.write_text("{ truncated"),
    lambda path: path.write_text(path.read_text().replace('"dlgrade-result/1"', '"dlgrade-result/2"')),
    lambda path: path.unlink(),
], ids=["truncated", "another-version", "gone"])
def test_a_student_whose_result_file_cannot_be_read_is_left_out_and_named(batch, tmp_path, damage):
    out, _ = batch
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    damage(copy / "students" / "carol" / "result.json")
    run = dlgrade("report", str(copy), "--format", "json")
    report = json.loads(run.stdout)
    assert report["unreadable_results"] == ["carol"] and report["functions"][0]["graded"] == 2
    assert report["submissions"] == 5


def test_the_report_reads_the_native_results_not_their_renderings(batch, tmp_path):
    """Without any Gradescope results.json and with the gradebook's points
    blanked, the report is the same: it is made from result.json."""
    out, _ = batch
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    for rendering in copy.glob("students/*/results.json"):
        rendering.unlink()
    with open(copy / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(copy / "gradebook.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student", "status"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    assert dlgrade("report", str(copy), "--format", "json").stdout == dlgrade("report", str(out), "--format",
                                                                            "json").stdout


def test_batch_writes_an_html_report_per_student(batch):
    out, book = batch
    bob = (out / "students" / "bob" / "report.html").read_text()
    assert f"{float(book['bob']['total']):g} / {float(book['bob']['max']):g} points" in bob
    assert "data:image/png;base64," in bob  # mse_loss's matrix case: an error map
    assert "invalid" in (out / "students" / "dave" / "report.html").read_text()


def test_no_html_writes_no_page(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "erin.py").write_text("")
    run = dlgrade("grade-batch", str(tmp_path / "in"), "-a", "losses", "-o", str(tmp_path / "out"), "--jobs", "1",
                  "--no-html")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "students" / "erin" / "report.txt").is_file()
    assert not (tmp_path / "out" / "students" / "erin" / "report.html").exists()


def test_a_folder_without_gradebook_is_a_usage_error(tmp_path):
    run = dlgrade("report", str(tmp_path))
    assert run.returncode == 2 and "gradebook.csv" in run.stderr and "Traceback" not in run.stderr
    (tmp_path / "gradebook.csv").write_text("name,score\nx,1\n")
    run = dlgrade("report", str(tmp_path))
    assert run.returncode == 2 and "not a dlgrade gradebook" in run.stderr
