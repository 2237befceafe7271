"""Whole-class grading: a complete gradebook, atomic results, reruns that skip
finished students, and nothing lost or duplicated after kill -9 (Ctrl-C and
SIGTERM are in test_interrupts.py)."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from grader.course import Course
from grader.results import GradeResult, Status, read_result

COURSE = Course.locate()
RESULT_SCHEMA = json.loads((COURSE.root / "grader" / "schemas" / "result.schema.json").read_text())
EXAMPLES = COURSE.root / "solutions" / "examples" / "losses"
SOLUTION = COURSE.root / "solutions" / "02_losses" / "losses.py"


def dlgrade(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=COURSE.root,
                          env={**os.environ, "DLGRADE_SEED": "batch-tests"}, **kwargs)


def rows(out):
    with open(out / "gradebook.csv") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture
def klass(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    shutil.copy(EXAMPLES / "buggy.py", folder / "bob.py")
    (folder / "carol").mkdir()
    shutil.copy(EXAMPLES / "correct_loops.py", folder / "carol" / "losses.py")
    (folder / "dave.py").write_text("")
    (folder / "erin.zip").write_bytes(b"PK\x03\x04 broken")
    (folder / "frank.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": SOLUTION.read_text()}]}))
    (folder / "gina.ipynb").write_text("{ not json")
    (folder / "hal.py").write_bytes(os.urandom(200))
    return folder


def test_batch_writes_a_complete_gradebook(klass, tmp_path):
    out = tmp_path / "out"
    run = dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(out), "--jobs", "2")
    assert run.returncode == 0, run.stderr
    book = rows(out)
    assert list(book) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hal"]
    assert book["alice"]["percent"] == book["carol"]["percent"] == book["frank"]["percent"] == "100.0"
    assert 0 < float(book["bob"]["percent"]) < 100
    assert book["dave"]["status"] == "invalid" and "is empty" in book["dave"]["message"]
    assert book["erin"]["status"] == "invalid" and "not a readable zip" in book["erin"]["message"]
    assert book["gina"]["status"] == "invalid" and "not a valid notebook" in book["gina"]["message"]
    # binary junk: invalid, with the file and line, not graded 0 with an empty message
    assert book["hal"]["status"] == "invalid" and book["hal"]["message"].startswith("hal.py has a syntax error at line")
    assert book["hal"]["message"] in (out / "students" / "hal" / "report.txt").read_text()
    assert {row["development_seed"] for row in book.values()} == {"no"}
    assert "Traceback" not in run.stdout + run.stderr
    for student, row in book.items():
        folder = out / "students" / student
        native = json.loads((folder / "result.json").read_text())
        jsonschema.validate(native, RESULT_SCHEMA)
        assert native["format"] == "dlgrade-result/1" and native["status"] == row["status"]
        assert json.loads((folder / "results.json").read_text())["score"] == pytest.approx(native["score"])
        for name in ("result.json", "results.json", "report.txt", "report.html", "../../gradebook.csv"):
            assert (folder / name).stat().st_mode & 0o777 == 0o644, name  # TAs read them too


def test_rerun_skips_finished_students_unless_regrade(klass, tmp_path):
    out = tmp_path / "out"
    for entry in klass.iterdir():
        if entry.name not in ("alice.py", "bob.py"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    assert dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(out)).returncode == 0
    result = out / "students" / "alice" / "result.json"
    before = result.stat().st_mtime_ns
    again = dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(out))
    assert "2 already graded, 0 to grade" in again.stdout and result.stat().st_mtime_ns == before
    dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(out), "--regrade")
    assert result.stat().st_mtime_ns != before


def test_kill_9_mid_batch_then_rerun_loses_and_duplicates_nobody(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    for i in range(8):
        shutil.copy(SOLUTION if i % 2 else EXAMPLES / "buggy.py", folder / f"student{i:02d}.py")
    batch = subprocess.Popen([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "losses",
                              "-o", str(out), "--jobs", "1"], cwd=COURSE.root, start_new_session=True,
                             env={**os.environ, "DLGRADE_SEED": "batch-tests"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob("students/*/result.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(batch.pid, signal.SIGKILL)
    batch.wait()
    finished = len(list(out.glob("students/*/result.json")))
    assert 1 <= finished < 8, "the kill came too late to test anything"
    rerun = dlgrade("grade-batch", str(folder), "-a", "losses", "-o", str(out), "--jobs", "1")
    assert f"{finished} already graded, {8 - finished} to grade" in rerun.stdout
    book = rows(out)
    assert sorted(book) == [f"student{i:02d}" for i in range(8)]
    assert all(row["status"] == "graded" for row in book.values())
    assert not list(out.rglob("*.tmp"))


def test_without_a_secret_the_batch_refuses_and_development_results_are_marked_then_regraded(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_SEED")}
    refused = subprocess.run([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "losses",
                              "-o", str(out)], capture_output=True, text=True, cwd=COURSE.root, env=env)
    assert refused.returncode == 2 and not out.exists()
    assert refused.stderr.count("\n") == 1
    assert "DLGRADE_SEED_FILE" in refused.stderr and "--development" in refused.stderr
    development = subprocess.run([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "losses", "-o",
                                  str(out), "--development"], capture_output=True, text=True, cwd=COURSE.root, env=env)
    assert development.returncode == 0, development.stderr
    assert rows(out)["alice"]["development_seed"] == "yes"
    assert read_result(out / "students" / "alice" / "result.json").development_seed
    assert json.loads((out / "students" / "alice" / "results.json").read_text())["extra_data"]["development_seed"]
    assert "development seed" in (out / "students" / "alice" / "report.txt").read_text()
    report = dlgrade("report", str(out))
    assert "graded with the public development seed, so no grades: 1 of 1" in report.stdout
    # No grade: a batch with the secret grades alice again rather than keeping it.
    graded = dlgrade("grade-batch", str(folder), "-a", "losses", "-o", str(out))
    assert "0 already graded, 1 to grade" in graded.stdout and rows(out)["alice"]["development_seed"] == "no"


def test_a_grader_side_write_failure_is_an_error_row_that_a_rerun_retries(tmp_path):
    """The output folder fails for one student (a file where their folder
    goes: the OSError a full disk or a read-only folder gives, even as root)."""
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    shutil.copy(SOLUTION, folder / "bob.py")
    (out / "students").mkdir(parents=True)
    (out / "students" / "bob").write_text("in the way")
    run = dlgrade("grade-batch", str(folder), "-a", "losses", "-o", str(out), "--jobs", "1")
    assert run.returncode == 3 and "Traceback" not in run.stdout + run.stderr
    book = rows(out)
    assert book["alice"]["status"] == "graded"
    assert book["bob"]["status"] == "error" and "could not write" in book["bob"]["message"]
    assert "run the same command again" in run.stderr and "bob" in run.stderr
    (out / "students" / "bob").unlink()
    rerun = dlgrade("grade-batch", str(folder), "-a", "losses", "-o", str(out), "--jobs", "1")
    assert rerun.returncode == 0 and "1 already graded, 1 to grade" in rerun.stdout
    assert rows(out)["bob"]["status"] == "graded"


def test_enospc_while_writing_records_no_result(tmp_path, monkeypatch):
    import errno

    from grader import batch

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    out = tmp_path / "out"
    result = out / "students" / "alice" / "result.json"
    result.parent.mkdir(parents=True)
    result.write_text(json.dumps(GradeResult("losses", "alice.py", []).to_dict()))  # an earlier run's: must not stand
    assert batch.is_finished(out, "alice", development=False)
    monkeypatch.setattr(batch, "write_text_atomically", full)
    student, status, message = batch.grade_one("losses", "alice", str(SOLUTION), str(out), "batch-tests", (),
                                               html=False)
    assert (student, status) == ("alice", Status.ERROR) and "No space left on device" in message
    assert not result.exists() and not batch.is_finished(out, "alice", development=False)


def test_workers_never_import_from_the_current_folder(tmp_path):
    """A numpy.py, a struct.py (which a spawned interpreter imports before
    anything of ours) and a grader/ package planted in the folder the batch
    starts from: none of them runs, in the batch or in its workers."""
    here = tmp_path / "here"
    (here / "grader").mkdir(parents=True)
    marker = tmp_path / "planted-ran"
    plant = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (here / "numpy.py").write_text(plant + "raise ImportError('planted')\n")
    (here / "struct.py").write_text(plant + "from _struct import *\n")
    (here / "grader" / "__init__.py").write_text(plant)
    (here / "class").mkdir()
    shutil.copy(SOLUTION, here / "class" / "alice.py")
    dlgrade_script = Path(sys.executable).parent / "dlgrade"
    run = subprocess.run([str(dlgrade_script), "grade-batch", "class", "-a", "losses", "-o", "out", "--jobs", "2"],
                         capture_output=True, text=True, cwd=here, env={**os.environ, "DLGRADE_SEED": "batch-tests"})
    assert run.returncode == 0, run.stderr
    assert not marker.exists(), marker.read_text()
    assert rows(here / "out")["alice"]["percent"] == "100.0"
    if importlib.util.find_spec("jinja2"):  # its template found from the course, not from the current folder
        assert (here / "out" / "students" / "alice" / "report.html").is_file()
