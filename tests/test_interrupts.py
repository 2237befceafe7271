"""Stopping a batch, with real signals: Ctrl-C (SIGINT to the terminal's
process group) or SIGTERM stops grade-batch at once with the gradebook of the
finished students and exit 130, and the same command carries on; a worker
told to stop while writing a student's files finishes them first; and after a
kill -9 of the batch, none of its processes (workers, zygotes, the students'
processes) is left."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.course import Course
from grader.results import read_result
from tests.processes import alive, descendants

COURSE = Course.locate()
SOLUTION = COURSE.root / "solutions" / "02_losses" / "losses.py"
SLEEPER = "import time\ntime.sleep(120)\n"  # stuck at import: only a stop ends its grading early
ENV = {**os.environ, "DLGRADE_SEED": "interrupt-tests"}
STUDENT_FILES = {"report.txt", "report.html", "results.json", "result.json"}


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def start_batch(folder: Path, out: Path) -> subprocess.Popen:
    """In a session of its own, as a shell runs a job: a terminal's Ctrl-C
    goes to that whole process group, workers included."""
    return subprocess.Popen([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "losses", "-o",
                             str(out), "--jobs", "2"], cwd=COURSE.root, env=ENV, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # ended meanwhile
        return b""


def sandboxed(batch: subprocess.Popen) -> bool:
    """Both workers are grading a sleeper: batch -> worker -> zygote -> the student's processes."""
    workers = [p for p in descendants(batch.pid) if b"spawn_main" in _cmdline(p)]
    return len(workers) == 2 and all(len(descendants(w)) >= 2 for w in workers)


@pytest.fixture
def klass(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("a1", "a2"):
        shutil.copy(SOLUTION, folder / f"{name}.py")
    for name in ("s1", "s2", "s3", "s4"):
        (folder / f"{name}.py").write_text(SLEEPER)
    return folder


@pytest.mark.parametrize("how", ["ctrl-c twice", "sigterm"])
def test_a_stopped_batch_keeps_what_is_finished_and_the_same_command_carries_on(klass, tmp_path, how):
    out = tmp_path / "out"
    batch = start_batch(klass, out)
    try:
        wait_until(lambda: len(list(out.glob("students/*/result.json"))) == 2 and sandboxed(batch), 120,
                   "the batch never got to the sleepers")
        running = descendants(batch.pid)
        if how == "sigterm":  # kill PID, systemd, a CI runner's timeout: the batch's own process only
            os.kill(batch.pid, signal.SIGTERM)
        else:
            os.killpg(batch.pid, signal.SIGINT)
            time.sleep(0.2)
            os.killpg(batch.pid, signal.SIGINT)  # the impatient second Ctrl-C changes nothing
        stdout, stderr = batch.communicate(timeout=30)  # not the four sleepers' 120 s each
    finally:
        with_group_killed(batch)
    assert batch.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr
    assert stderr.rstrip().splitlines()[-1].startswith(
        "interrupted: 2 of 6 graded; run the same command again to continue")
    with open(out / "gradebook.csv", newline="") as f:
        book = {row["student"]: row["status"] for row in csv.DictReader(f)}
    assert book == {"a1": "graded", "a2": "graded", "s1": "not graded", "s2": "not graded", "s3": "not graded",
                    "s4": "not graded"}
    wait_until(lambda: not any(map(alive, running)), 10, "a worker, zygote or student's process outlived the stop")
    # Nobody caught mid-write: a student has every file or none; no temporary file is left.
    for folder in out.glob("students/*"):
        assert {p.name for p in folder.iterdir()} == STUDENT_FILES, folder
    assert not list(out.rglob("*.tmp"))
    for name in ("s1", "s2", "s3", "s4"):  # handed in again, fixed: the rerun grades only them
        shutil.copy(SOLUTION, klass / f"{name}.py")
    rerun = subprocess.run([sys.executable, "-m", "grader", "grade-batch", str(klass), "-a", "losses", "-o", str(out),
                            "--jobs", "2"], cwd=COURSE.root, env=ENV, capture_output=True, text=True)
    assert rerun.returncode == 0 and "6 submissions, 2 already graded, 4 to grade" in rerun.stdout
    with open(out / "gradebook.csv", newline="") as f:
        assert {row["status"] for row in csv.DictReader(f)} == {"graded"}


def with_group_killed(batch: subprocess.Popen) -> None:
    """What a failed test leaves running is killed (the batch's own group)."""
    if batch.poll() is None:
        os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()


def test_nothing_outlives_a_batch_killed_with_sigkill(klass, tmp_path):
    """kill -9 of the batch's process alone: its workers get SIGTERM from the
    kernel (the parent-death signal), close their sandboxes and exit; each
    zygote ends at the end of file on its socket, killing what is left."""
    out = tmp_path / "out"
    batch = start_batch(klass, out)
    running: list[int] = []
    try:
        wait_until(lambda: sandboxed(batch), 120, "the batch never got to the sleepers")
        running = descendants(batch.pid)
        os.kill(batch.pid, signal.SIGKILL)
        batch.wait()
        wait_until(lambda: not any(map(alive, running)), 10, "a worker, zygote or student's process outlived it")
    finally:
        for pid in filter(alive, running):  # what a failed test leaves running
            os.kill(pid, signal.SIGKILL)


def _worker_script(tmp_path: Path, submission: str, when: str) -> subprocess.CompletedProcess:
    """``grade_one`` in a process set up as a batch's worker is (its
    initializer, its signals), sent SIGTERM ``when`` it grades or writes."""
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, sys, threading
        from grader import batch

        signal.pthread_sigmask(signal.SIG_BLOCK, batch.STOP_SIGNALS)  # as a worker is started
        batch._start_worker(os.getppid())
        if {when!r} == "grading":
            def stop():  # once the sleeper is in its sandbox: what runs then is written down, then SIGTERM
                from tests.test_interrupts import descendants
                open({str(tmp_path / "running")!r}, "w").write(" ".join(map(str, descendants(os.getpid()))))
                os.kill(os.getpid(), signal.SIGTERM)

            threading.Timer(3, stop).start()
        else:
            write = batch.write_text_atomically

            def write_then_stop(path, text):
                write(path, text)
                if path.name == "report.txt":  # the first of the student's files
                    os.kill(os.getpid(), signal.SIGTERM)

            batch.write_text_atomically = write_then_stop
        batch.grade_one("losses", "alice", {submission!r}, {str(tmp_path / "out")!r}, "interrupt-tests", (), True)
        print("not stopped")
    """))
    return subprocess.run([sys.executable, str(script)], cwd=COURSE.root, env={**ENV, "PYTHONPATH": str(COURSE.root)},
                          capture_output=True, text=True, timeout=60)


def test_a_worker_stopped_while_writing_finishes_the_students_files_first(tmp_path):
    run = _worker_script(tmp_path, str(SOLUTION), "writing")
    assert run.returncode == 130 and "not stopped" not in run.stdout, run.stderr
    folder = tmp_path / "out" / "students" / "alice"
    assert {p.name for p in folder.iterdir()} == STUDENT_FILES
    assert read_result(folder / "result.json").percent == 100


def test_a_worker_stopped_while_grading_writes_nothing_and_ends_its_sandbox(tmp_path):
    sleeper = tmp_path / "alice.py"
    sleeper.write_text(SLEEPER)
    run = _worker_script(tmp_path, str(sleeper), "grading")  # the sleeper alone would take 60 s (import limit)
    assert run.returncode == 130 and "Traceback" not in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()
    running = [int(pid) for pid in (tmp_path / "running").read_text().split()]
    assert len(running) >= 2  # its zygote, and the sleeper's sandbox
    wait_until(lambda: not any(map(alive, running)), 10, "the sandbox outlived its worker")


def test_ctrl_c_stops_a_single_grade_in_one_line(tmp_path):
    sleeper = tmp_path / "losses.py"
    sleeper.write_text(SLEEPER)
    grade = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(sleeper)], cwd=COURSE.root, env=ENV,
                             start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(descendants(grade.pid)) >= 2, 60, "grading never started")  # zygote, sandbox
        running = descendants(grade.pid)
        os.killpg(grade.pid, signal.SIGINT)
        stdout, stderr = grade.communicate(timeout=30)
    finally:
        with_group_killed(grade)
    assert (grade.returncode, stdout, stderr) == (130, "", "dlgrade grade: interrupted\n")
    wait_until(lambda: not any(map(alive, running)), 10, "the sandbox outlived the grader")
