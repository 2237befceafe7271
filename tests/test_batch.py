"""Whole-class grading: a complete gradebook, atomic results, reruns that skip
finished students, and nothing lost or duplicated after kill -9."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from grader.course import Course

COURSE = Course.locate()
EXAMPLES = COURSE.root / "examples" / "submissions" / "losses"
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
    assert book["hal"]["status"] == "graded" and book["hal"]["total"] == "0.0"
    assert "syntax error" in (out / "students" / "hal" / "report.txt").read_text()
    assert "Traceback" not in run.stdout + run.stderr
    for student in book:
        json.loads((out / "students" / student / "results.json").read_text())


def test_rerun_skips_finished_students_unless_regrade(klass, tmp_path):
    out = tmp_path / "out"
    for entry in klass.iterdir():
        if entry.name not in ("alice.py", "bob.py"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    assert dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(out)).returncode == 0
    result = out / "students" / "alice" / "results.json"
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
    batch = subprocess.Popen([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "losses", "-o", str(out),
                              "--jobs", "1"], cwd=COURSE.root, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob("students/*/results.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(batch.pid, signal.SIGKILL)
    batch.wait()
    finished = len(list(out.glob("students/*/results.json")))
    assert 1 <= finished < 8, "the kill came too late to test anything"
    rerun = dlgrade("grade-batch", str(folder), "-a", "losses", "-o", str(out), "--jobs", "1")
    assert f"{finished} already graded, {8 - finished} to grade" in rerun.stdout
    book = rows(out)
    assert sorted(book) == [f"student{i:02d}" for i in range(8)]
    assert all(row["status"] == "graded" for row in book.values())
    assert not list(out.rglob("*.tmp"))
