"""`make bench`: measure what the README and the issues promise, on this machine,
and write the figures to docs/benchmarks.md.

Every speed figure is a ratio against a reference measured in the same run, or
a wall time with its breakdown; nothing here is asserted by the test suite.
Numerical libraries run on one thread, as in the grading sandbox.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import datetime  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; Python "
            f"{platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")


def median_time(fn, repeats: int = 7, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def grade_wall_times() -> list[str]:
    """One `dlgrade grade` of each assignment's solution, as a user runs it, and
    where its time goes: starting Python and importing numpy, torch and the
    suites; then grading, cold (first use of torch's code paths in the process)
    and warm (what each further student costs a batch worker)."""
    from grader.course import Course, Secret
    from grader.grade import grade_submission
    from grader.suites import SUITES

    rows = ["| assignment | cases | `dlgrade grade` wall (median of 5) | start-up and imports | grading, cold | "
            "grading, warm (median of 5) |", "|---|---|---|---|---|---|"]
    startup = statistics.median(_wall([sys.executable, "-c", "import grader.grade, grader.suites"]) for _ in range(5))
    course = Course.locate()
    for suite in SUITES.values():
        solution = ROOT / "solutions" / suite.folder
        walls = [_wall([sys.executable, "-m", "grader", "grade", str(solution)]) for _ in range(5)]
        cold = grade_submission(suite, solution, Secret("bench"), course).seconds
        warm = statistics.median(grade_submission(suite, solution, Secret("bench"), course).seconds for _ in range(5))
        cases = sum(len(f.cases(np.random.default_rng(0))) for f in suite.functions)
        rows.append(f"| {suite.assignment} | {cases} | {statistics.median(walls):.2f} s | {startup:.2f} s | "
                    f"{cold:.2f} s | {warm:.2f} s |")
    return rows


def _wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - started


def conv_vs_torch() -> list[str]:
    """The reference conv2d (forward + backward) against torch's CPU conv2d on a
    LeNet-sized layer: N=64, C=6, 14x14 input, 16 filters of 5x5."""
    path = ROOT / "solutions" / "05_conv" / "conv.py"
    if not path.is_file():
        return ["(no conv solution yet)"]
    spec = importlib.util.spec_from_file_location("conv_solution", path)
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((64, 6, 14, 14)), rng.standard_normal((16, 6, 5, 5)), rng.standard_normal(16)
    rows = ["| dtype | reference solution fwd+bwd | torch CPU conv2d fwd+bwd | ratio |", "|---|---|---|---|"]
    for dtype in (np.float64, np.float32):
        xs, ws, bs = (a.astype(dtype) for a in (x, w, b))
        dout = rng.standard_normal((64, 16, 10, 10)).astype(dtype)

        def numpy_step():
            out, cache = conv.conv_forward(xs, ws, bs, 1, 0)
            conv.conv_backward(dout, cache)

        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (xs, ws, bs))
        tdout = torch.tensor(dout)

        def torch_step():
            out = torch.nn.functional.conv2d(tx, tw, tb)
            torch.autograd.grad(out, (tx, tw, tb), tdout)

        ours, theirs = median_time(numpy_step), median_time(torch_step)
        rows.append(f"| {np.dtype(dtype).name} | {ours * 1e3:.2f} ms | {theirs * 1e3:.2f} ms | {ours / theirs:.2f}x |")
    return rows


def main() -> int:
    sections = [
        ("One grading run per assignment",
         "The solution graded through the sandbox, as `dlgrade grade solutions/<folder>` runs it (a fresh Python "
         "process each time), and where the time goes. Most of a single run is starting Python and importing torch; "
         "a warm run is one child process (Python + numpy) plus the cases' round trips. optim's cold run includes "
         "torch.optim's first optimiser, which imports torch._dynamo (about 1.5-3 s, once per process).",
         grade_wall_times()),
        ("conv2d: reference solution vs torch (one thread)",
         "Issue 3 asks the vectorised reference to stay within 4x of torch's CPU conv2d on a LeNet-sized layer.",
         conv_vs_torch()),
    ]
    lines = ["# Benchmarks", "", f"Measured by `make bench` on {datetime.date.today()}: {machine()}.", ""]
    for title, text, rows in sections:
        lines += [f"## {title}", "", text, "", *rows, ""]
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
