"""grade-batch on a real Dask cluster (``--scheduler``): a ``dask scheduler``
and two ``dask worker`` processes on 127.0.0.1, each in a session of its own
and killed by the module's teardown whatever happens. A mixed class graded
there, with one worker killed mid-batch, gets the local pool's gradebook row
for row; a task under which its worker dies twice is an ``error`` row; a
worker with another grader refuses; the secret is on no command line; GPU
assignments wait for a GPU worker; Ctrl-C cancels and keeps what finished.

The tests share the cluster and run in this file's order: the first kills one
worker for good, the later ones grade on the other."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import types
import uuid
import zipfile
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed (pip install -e '.[dev]')")

from grader import cli, cluster, exits  # noqa: E402
from grader.course import Course  # noqa: E402
from grader.suites import SUITES  # noqa: E402
from tests.processes import alive, descendants  # noqa: E402

COURSE = Course.locate()
SOLUTION = COURSE.root / "solutions" / "02_losses" / "losses.py"
EXAMPLES = COURSE.root / "solutions" / "examples" / "losses"
DASK = Path(sys.executable).parent / "dask"
SECRET = f"cluster-secret-{uuid.uuid4().hex}"  # unique: wherever it turns up, this test put it there
# The scheduler as the README ("More than one machine") starts it: a task is given up when a second worker dies under
# it, and a worker holds only the task it runs.
SCHEDULER_ENV = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
                 "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("DLGRADE_", "DASK_"))}
START_SECONDS = 60  # for the scheduler and the workers to be up
BATCH_SECONDS = 150  # for a batch, on 2 busy cores


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Its whole session killed, and what it started (zygotes, in sessions
    of their own, end with their worker)."""
    if process.poll() is None:
        with_children = [process.pid, *descendants(process.pid)]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for pid in filter(alive, with_children):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "seed.txt"
    path.write_text(SECRET + "\n")
    return path


def client_env(seed_file: Path, **extra) -> dict[str, str]:
    return {**BASE_ENV, "DLGRADE_SEED_FILE": str(seed_file), **extra}


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    """60 students: the solution and four example submissions (each copy one
    comment apart, so that every student draws hidden inputs of their own),
    and one of every other kind: folders with and without the module, a zip,
    a notebook, an empty file, a broken zip, a symbolic link (alone and in a
    folder), a FIFO, binary junk."""
    folder = tmp_path_factory.mktemp("cluster") / "class"
    folder.mkdir()
    sources = [SOLUTION, EXAMPLES / "buggy.py", EXAMPLES / "correct_loops.py", EXAMPLES / "correct_float32.py",
               COURSE.root / "assignments" / "02_losses" / "losses.py"]
    for i in range(50):
        (folder / f"student{i:02d}.py").write_text(sources[i % len(sources)].read_text() + f"\n# student {i}\n")
    (folder / "folder").mkdir()
    shutil.copy(EXAMPLES / "correct_loops.py", folder / "folder" / "losses.py")
    (folder / "folder" / "helpers.py").write_text("HELP = 1\n")
    (folder / "folder" / "test_public.py").write_text("raise SystemExit\n")
    (folder / "no_module").mkdir()
    (folder / "no_module" / "loss.py").write_text(SOLUTION.read_text())
    with zipfile.ZipFile(folder / "zipped.zip", "w") as z:
        z.writestr("work/losses.py", SOLUTION.read_text())
    (folder / "notebook.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code",
                                                                  "source": SOLUTION.read_text()}]}))
    (folder / "empty.py").write_text("")
    (folder / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    (folder / "linked.py").symlink_to(SOLUTION)
    (folder / "junk.py").write_bytes(bytes(range(256)) * 4)
    os.mkfifo(folder / "pipe.py")
    (folder / "folder_link").mkdir()
    (folder / "folder_link" / "losses.py").symlink_to(SOLUTION)
    assert len(list(folder.iterdir())) == 60
    return folder


@pytest.fixture(scope="module")
def local_gradebook(klass, seed_file):
    """The local pool's batch of the class, started before the cluster so
    that the two start-ups overlap; the test waits for it."""
    out = klass.parent / "local"
    batch = subprocess.Popen([sys.executable, "-m", "grader", "grade-batch", str(klass), "-a", "losses", "-o", str(out),
                              "--jobs", "2", "--no-html"], cwd=COURSE.root, env=client_env(seed_file),
                             start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finished() -> list[dict]:
        try:
            _, stderr = batch.communicate(timeout=BATCH_SECONDS)
        finally:
            stop(batch)
        assert batch.returncode == 0, stderr
        return read_gradebook(out)

    yield finished
    stop(batch)


@pytest.fixture(scope="module")
def dask_cluster(local_gradebook, tmp_path_factory):
    """A scheduler and two workers (one thread each, as dlgrade requires),
    each in a session of its own; a client of the test's own to look at the
    scheduler. Everything is killed at the end, whatever happened."""
    logs = tmp_path_factory.mktemp("dask-logs")
    address = f"tcp://127.0.0.1:{free_port()}"
    processes: list[subprocess.Popen] = []

    def start(name: str, *command: str, env: dict) -> subprocess.Popen:
        with open(logs / f"{name}.log", "w") as log:
            process = subprocess.Popen([str(DASK), *command], cwd=COURSE.root, env=env, start_new_session=True,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    client = None
    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard",
              env={**BASE_ENV, **SCHEDULER_ENV})
        workers = [start(f"worker{i}", "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}",
                         env=BASE_ENV) for i in (1, 2)]
        client = distributed.Client(address, timeout=START_SECONDS, set_as_default=False)
        client.wait_for_workers(2, timeout=START_SECONDS)
        yield address, client, workers, logs
    finally:
        if client is not None:
            client.close()
        for process in processes:
            stop(process)


def read_gradebook(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="") as f:
        return list(csv.DictReader(f))


def on_cluster(klass: Path, out: Path, address: str, seed_file: Path, assignment: str = "losses",
               env: dict | None = None) -> subprocess.Popen:
    """The batch in a session of its own, as a shell runs a job (Ctrl-C goes to its process group)."""
    return subprocess.Popen([sys.executable, "-m", "grader", "grade-batch", str(klass), "-a", assignment, "-o",
                             str(out), "--no-html", "--scheduler", address], cwd=COURSE.root,
                            env=env or client_env(seed_file), start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def secret_in(pid: int, what: str) -> bool:
    try:
        return SECRET.encode() in Path(f"/proc/{pid}/{what}").read_bytes()
    except OSError:  # ended meanwhile, or not ours to read
        return False


def test_a_class_on_two_workers_one_killed_mid_batch_gets_the_local_gradebook(klass, local_gradebook, dask_cluster,
                                                                              seed_file):
    address, client, workers, _ = dask_cluster
    out = klass.parent / "cluster"
    batch = on_cluster(klass, out, address, seed_file)
    exposed: set[str] = set()
    killed: list[int] = []
    try:
        deadline = time.monotonic() + BATCH_SECONDS
        while batch.poll() is None:
            assert time.monotonic() < deadline, "the batch did not finish"
            # Every process of the machine: no command line holds the secret. Nor does the environment of any
            # process of the cluster (scheduler, nannies, workers, their zygotes and the students' processes).
            exposed |= {f"{p.name} cmdline" for p in Path("/proc").glob("[0-9]*") if secret_in(int(p.name), "cmdline")}
            cluster_processes = [w.pid for w in workers] + [p for w in workers for p in descendants(w.pid)]
            exposed |= {f"{pid} environ" for pid in cluster_processes if secret_in(pid, "environ")}
            if not killed and len(list(out.glob("students/*/result.json"))) >= 15:
                worker = client.scheduler_info(n_workers=-1)["workers"]
                second = next(a for a, w in worker.items() if w["name"] == "w2")
                if client.processing(workers=[second])[second]:  # it holds a task: its death must reschedule it
                    killed = [workers[1].pid, *descendants(workers[1].pid)]
                    os.killpg(workers[1].pid, signal.SIGKILL)
                    workers[1].wait()
            time.sleep(0.1)
        stdout, stderr = batch.communicate()
    finally:
        stop(batch)
    assert killed, "the batch ended before a worker could be killed under it"
    assert batch.returncode == 0, stderr
    assert "Traceback" not in stdout + stderr, stderr
    assert "(53 graded, 7 invalid)" in stdout
    assert not exposed
    # The killed worker's task went to the other worker, and nobody was graded twice or lost.
    rescheduled = client.run_on_scheduler(lambda dask_scheduler: sum(
        p.suspicious for p in dask_scheduler.task_prefixes.values() if p.name.startswith("dlgrade-")))
    assert rescheduled >= 1
    wait_until(lambda: not any(map(alive, killed)), 10, "a process of the killed worker outlived it")
    rows = read_gradebook(out)
    assert len(rows) == len({row["student"] for row in rows}) == 60
    local = local_gradebook()
    assert rows == local  # every column: status, points, total, message (which names the submission as here)
    assert {row["status"] for row in rows} == {"graded", "invalid"}
    by_name = {row["student"]: row for row in rows}
    assert by_name["linked"]["status"] == "invalid" and "symbolic link" in by_name["linked"]["message"]
    assert by_name["folder_link"]["message"].startswith("folder_link/losses.py is a symbolic link")
    assert by_name["pipe"]["message"].startswith("pipe.py is a FIFO")
    assert by_name["no_module"]["message"].startswith(f"{klass / 'no_module'} has no losses.py")
    assert by_name["folder"]["percent"] == by_name["zipped"]["percent"] == by_name["notebook"]["percent"] == "100.0"
    for student in by_name:
        assert {p.name for p in (out / "students" / student).iterdir()} == {"report.txt", "results.json",
                                                                            "result.json"}
    assert not list(out.rglob("*.tmp"))


def test_a_task_under_which_its_worker_dies_twice_is_an_error_row_and_the_others_are_graded(tmp_path, dask_cluster,
                                                                                            seed_file):
    """A worker plugin of the test's own kills the worker as the third
    student's task starts (what a grader that runs out of memory on one
    submission does): the worker's nanny starts it again, and the task kills it
    again."""
    address, client, _, _ = dask_cluster

    class KillUnderTask(distributed.WorkerPlugin):
        name = "kill-under-the-third-task"

        def transition(self, key, start, finish, **kwargs):
            if finish == "executing" and isinstance(key, tuple) and key[0].startswith("dlgrade-") and key[1] == 2:
                os.kill(os.getpid(), signal.SIGKILL)

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice", "bob", "carol"):  # carol is #2
        shutil.copy(SOLUTION, folder / f"{name}.py")
    client.register_plugin(KillUnderTask())
    try:
        batch = on_cluster(folder, tmp_path / "out", address, seed_file)
        try:
            stdout, stderr = batch.communicate(timeout=BATCH_SECONDS)
        finally:
            stop(batch)
    finally:
        client.unregister_worker_plugin(KillUnderTask.name)
    assert batch.returncode == 3 and "Traceback" not in stderr, stderr
    book = {row["student"]: row for row in read_gradebook(tmp_path / "out")}
    assert book["alice"]["status"] == book["bob"]["status"] == "graded"
    assert book["carol"]["status"] == "error" and "worker died twice" in book["carol"]["message"]
    assert "no result recorded for 1 student(s) (carol)" in stderr
    client.wait_for_workers(1, timeout=START_SECONDS)  # its nanny has started it again, for the next tests


def test_a_worker_with_another_grader_refuses_naming_both(tmp_path, dask_cluster, seed_file):
    address, client, _, _ = dask_cluster
    # Another solution on the client's side (a course checkout one commit apart): the batch stops at the refusal.
    course = tmp_path / "course"
    changed = course / "solutions" / "02_losses" / "losses.py"
    changed.parent.mkdir(parents=True)
    changed.write_text(SOLUTION.read_text() + "\n# changed\n")
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    batch = on_cluster(folder, tmp_path / "out", address, seed_file,
                       env=client_env(seed_file, DLGRADE_COURSE=str(course)))
    try:
        stdout, stderr = batch.communicate(timeout=BATCH_SECONDS)
    finally:
        stop(batch)
    assert batch.returncode == 2 and "Traceback" not in stderr, stderr
    last = stderr.rstrip().splitlines()[-1]
    theirs, ours = (hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in (SOLUTION, changed))
    assert "refuses to grade" in last and f"solution sha256 {theirs}" in last and f"solution sha256 {ours}" in last
    assert "stopped with 0 of 1 graded" in last
    assert read_gradebook(tmp_path / "out")[0]["status"] == "not graded"
    # Another dlgrade: a task sent straight to a worker.
    fingerprint = cluster.Fingerprint.here("losses")
    other = cluster.Fingerprint("0.0.1", "losses", fingerprint.suite, fingerprint.solution)
    task = cluster.Task("losses", 0, "alice", str(folder), cluster.pack(folder / "alice.py"), "seed", False,
                        "exclude", False, other)
    refused = client.submit(cluster.grade_task, task, pure=False)
    with pytest.raises(cluster.Refused, match=f"it has dlgrade {exits.version()}.*the client has dlgrade 0.0.1"):
        refused.result(timeout=60)
    refused.release()


def test_a_worker_with_more_than_one_thread_refuses(tmp_path, monkeypatch):
    """One grading at a time per worker process: a worker started without
    --nthreads 1 (Dask's default is a thread per core) refuses."""
    worker = types.SimpleNamespace(address="tcp://10.0.0.7:40123", state=types.SimpleNamespace(nthreads=4),
                                   local_directory=str(tmp_path))
    monkeypatch.setattr(distributed, "get_worker", lambda: worker)
    shutil.copy(SOLUTION, tmp_path / "alice.py")
    task = cluster.Task("losses", 0, "alice", str(tmp_path), cluster.pack(tmp_path / "alice.py"), "seed", False,
                        "exclude", False, cluster.Fingerprint.here("losses"))
    with pytest.raises(cluster.Refused, match=r"worker tcp://10.0.0.7:40123 runs 4 threads: .*--nthreads 1"):
        cluster.grade_task(task)


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, seed_file):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    run = subprocess.run([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "losses", "-o",
                          str(tmp_path / "out"), "--scheduler", address], cwd=COURSE.root, capture_output=True,
                         text=True, timeout=60,
                         env=client_env(seed_file, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s"))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(
        f"dlgrade grade-batch: cannot use the Dask scheduler at {address}: "), run.stderr


def batch_args(*args: str):
    return cli.build_parser().parse_args(["grade-batch", *args])


def test_a_missing_scheduler_file_or_extra_is_one_line_and_exit_2(tmp_path, seed_file, monkeypatch, capsys):
    from grader.commands import grade_batch

    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    monkeypatch.setenv("DLGRADE_SEED_FILE", str(seed_file))
    common = (str(folder), "-a", "losses", "-o", str(tmp_path / "out"))
    assert grade_batch.run(batch_args(*common, "--scheduler-file", str(tmp_path / "none.json"))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--scheduler-file {tmp_path / 'none.json'}: No such file or directory" in err
    (tmp_path / "broken.json").write_text("{")
    assert grade_batch.run(batch_args(*common, "--scheduler-file", str(tmp_path / "broken.json"))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a Dask scheduler file" in err
    assert grade_batch.run(batch_args(*common, "--scheduler", "tcp://no:such:address")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot use the Dask scheduler at tcp://no:such:address: ValueError" in err
    # Without the extra: the import of distributed fails, as where dlgrade[cluster] was never installed. Said
    # before anything else is done.
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "grader.cluster")
    common = (str(folder), "-a", "losses", "-o", str(tmp_path / "elsewhere"))
    assert grade_batch.run(batch_args(*common, "--scheduler", "tcp://127.0.0.1:8786")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'dlgrade[cluster]'" in err
    assert not (tmp_path / "elsewhere").exists()
    with pytest.raises(SystemExit) as both:
        batch_args(*common, "--scheduler", "tcp://127.0.0.1:8786", "--scheduler-file", "f.json")
    assert both.value.code == 2


def test_a_gpu_assignment_waits_for_a_gpu_worker_and_ctrl_c_cancels_it(tmp_path, dask_cluster, seed_file):
    address, client, _, _ = dask_cluster
    assert SUITES["cnn"].gpu and not SUITES["losses"].gpu
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(COURSE.root / "solutions" / "07_cnn" / "cnn.py", folder / "alice.py")
    batch = on_cluster(folder, tmp_path / "out", address, seed_file, assignment="cnn")

    def waiting() -> list:
        return client.run_on_scheduler(lambda dask_scheduler: [
            (ts.state, ts.resource_restrictions) for ts in dask_scheduler.tasks.values()
            if ts.prefix.name == "dlgrade-cnn"])

    try:
        # No worker here offers the GPU resource: the task waits, on no worker, for one that does.
        wait_until(lambda: waiting() == [("no-worker", {"GPU": 1})], 60, "the task never reached the scheduler")
        os.killpg(batch.pid, signal.SIGINT)
        stdout, stderr = batch.communicate(timeout=30)
    finally:
        stop(batch)
    assert batch.returncode == 130 and "Traceback" not in stderr, stderr
    assert "graded on GPU workers, and none has joined the scheduler yet" in stderr
    assert read_gradebook(tmp_path / "out")[0]["status"] == "not graded"
    wait_until(lambda: waiting() == [], 10, "the cancelled task stayed on the scheduler")


def test_ctrl_c_cancels_the_queued_tasks_and_keeps_what_finished(tmp_path, dask_cluster, seed_file):
    """Last: the task running when Ctrl-C comes finishes on its worker (Dask
    does not interrupt a running task), its result dropped."""
    address, client, _, _ = dask_cluster
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("a1", "a2"):
        shutil.copy(SOLUTION, folder / f"{name}.py")
    for name in ("s1", "s2", "s3"):
        (folder / f"{name}.py").write_text("import time\ntime.sleep(20)\n")  # stuck at import
    out = tmp_path / "out"
    batch = on_cluster(folder, out, address, seed_file)
    try:
        wait_until(lambda: len(list(out.glob("students/*/result.json"))) == 2, BATCH_SECONDS, "a1 and a2 not graded")
        time.sleep(0.5)
        os.killpg(batch.pid, signal.SIGINT)
        time.sleep(0.2)
        os.killpg(batch.pid, signal.SIGINT)  # the impatient second Ctrl-C changes nothing
        stdout, stderr = batch.communicate(timeout=30)
    finally:
        stop(batch)
    assert batch.returncode == 130 and "Traceback" not in stdout + stderr, stderr
    assert stderr.rstrip().splitlines()[-1].startswith(
        "interrupted: 2 of 5 graded; run the same command again to continue")
    assert {row["student"]: row["status"] for row in read_gradebook(out)} == {
        "a1": "graded", "a2": "graded", "s1": "not graded", "s2": "not graded", "s3": "not graded"}
    for student in ("a1", "a2"):
        assert {p.name for p in (out / "students" / student).iterdir()} == {"report.txt", "results.json",
                                                                            "result.json"}
    assert not (out / "students" / "s1").exists()
    wait_until(lambda: client.run_on_scheduler(lambda dask_scheduler: [
        key for key in dask_scheduler.tasks if key[0].startswith("dlgrade-")]) == [], 10,
        "the cancelled tasks stayed on the scheduler")
