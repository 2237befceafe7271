"""`grade-batch --scheduler` against the local pool: throughput of two local
Dask workers (one thread each, as dlgrade requires) and of `--jobs 2` on the
same generated class, and what one task costs on top of its grading.

    python benchmarks/cluster.py [--count 100] [--rounds 2]

Prints a markdown section (``make bench`` writes it into docs/benchmarks.md). The
cluster (a `dask scheduler` and two `dask worker` processes on 127.0.0.1) is
started here and killed at the end. Figures:

- wall time of the whole command (client or pool start-up included), local
  pool against a warm cluster (its workers have graded once: a cluster lives
  across batches), and the cold cluster's first batch;
- steady throughput: students per second between the first and the last
  result file written (start-up excluded);
- per-task overhead: a no-op task's round trip through the scheduler (one at
  a time, and 200 at once on the two workers), and what dlgrade adds to each
  task on the client (packing the submission, the fingerprint) and on the
  wire (the pickled task).
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import distributed  # noqa: E402

from grader import cluster  # noqa: E402

from make_class import make  # noqa: E402 - benchmarks/make_class.py, beside this file

KINDS = ["correct", "correct_loops", "correct_float32", "buggy", "stub"]  # as bench.py's batch throughput
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("DLGRADE_", "DASK_"))}
SCHEDULER_ENV = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
                 "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
DASK = Path(sys.executable).parent / "dask"


def batch(folder: Path, out: Path, *engine: str) -> tuple[float, float]:
    """(wall seconds, steady students per second) of one grade-batch --regrade."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade-batch", str(folder), "-a", "losses", "-o", str(out),
                    "--no-html", "--regrade", *engine], cwd=ROOT, check=True, capture_output=True,
                   env={**ENV, "DLGRADE_SEED": "bench"})
    wall = time.perf_counter() - started
    written = sorted(p.stat().st_mtime for p in out.glob("students/*/result.json"))
    return wall, (len(written) - 1) / (written[-1] - written[0])


def start_cluster(logs: Path) -> tuple[str, list[subprocess.Popen]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    processes = []
    for name, command, env in [("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port)],
                                {**ENV, **SCHEDULER_ENV}),
                               *[(f"worker{i}", ["worker", address, "--nthreads", "1", "--name", f"w{i}"], ENV)
                                 for i in (1, 2)]]:
        with open(logs / f"{name}.log", "w") as log:
            processes.append(subprocess.Popen([str(DASK), *command, "--no-dashboard"], cwd=ROOT, env=env,
                                              start_new_session=True, stdout=log, stderr=subprocess.STDOUT))
    return address, processes


def overhead(address: str, folder: Path) -> list[str]:
    with distributed.Client(address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        one = []
        for i in range(50):
            started = time.perf_counter()
            client.submit(int, i, pure=False).result()
            one.append(time.perf_counter() - started)
        started = time.perf_counter()
        client.gather(client.map(int, range(200), pure=False))
        many = (time.perf_counter() - started) / 200
    submissions = sorted(folder.iterdir())
    started = time.perf_counter()
    packed = [cluster.pack(p) for p in submissions]
    pack = (time.perf_counter() - started) / len(submissions)
    started = time.perf_counter()
    for _ in range(20):
        fingerprint = cluster.Fingerprint.here("losses")
    fingerprint_time = (time.perf_counter() - started) / 20
    sizes = [len(pickle.dumps(cluster.Task("losses", i, p.stem, str(folder), entries, "bench", False, "exclude", False,
                                           fingerprint)))
             for i, (p, entries) in enumerate(zip(submissions, packed))]
    return [f"- a no-op task's round trip through the scheduler: {statistics.median(one) * 1e3:.1f} ms one at a time "
            f"(median of 50); {many * 1e3:.2f} ms a task with 200 at once on the two workers",
            f"- dlgrade's own per task, on the client: packing the submission {pack * 1e3:.2f} ms, the fingerprint "
            f"{fingerprint_time * 1e3:.2f} ms (the worker computes it again for each task); the pickled task "
            f"{statistics.median(sizes) / 1024:.1f} KiB (median; the submission's bytes are most of it)"]


def section(count: int = 100, rounds: int = 2) -> list[str]:
    """The markdown rows of the figures (``make bench`` puts them in docs/benchmarks.md)."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-cluster-bench-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "class"
        make("losses", count, folder, KINDS)
        address, processes = start_cluster(tmp)
        try:
            with distributed.Client(address, timeout=60, set_as_default=False) as client:
                client.wait_for_workers(2, timeout=60)
            cold = batch(folder, tmp / "cluster", "--scheduler", address)
            local, warm = [], []
            for _ in range(rounds):
                local.append(batch(folder, tmp / "local", "--jobs", "2"))
                warm.append(batch(folder, tmp / "cluster", "--scheduler", address))
            costs = overhead(address, folder)
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def median(runs, i):
        return statistics.median(r[i] for r in runs)

    rows = [f"`grade-batch` of {count} losses submissions ({', '.join(KINDS)} in turn), {os.cpu_count()} cores; "
            f"median of {rounds} alternated runs.", "",
            "| engine | wall (start-up included) | students / s | steady students / s |", "|---|---|---|---|"]
    for name, runs in (("local pool, `--jobs 2`", local), ("2 Dask workers, warm", warm),
                       ("2 Dask workers, cold (first batch)", [cold])):
        wall = median(runs, 0)
        rows.append(f"| {name} | {wall:.1f} s | {count / wall:.2f} | {median(runs, 1):.2f} |")
    rows += ["", f"Warm cluster over local pool: {median(local, 0) / median(warm, 0):.2f}x by wall time, "
             f"{median(warm, 1) / median(local, 1):.2f}x steady.", ""]
    return rows + costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="students in the class (default: 100)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, alternated (default: 2)")
    args = parser.parse_args()
    print("\n".join(section(args.count, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
