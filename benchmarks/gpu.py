"""GPU figures for the CNN assignment (issue 4), written into docs/benchmarks.md
between the GPU markers (``make bench`` runs it where there is a GPU; on a
machine that only has python3 with numpy and torch: ``PYTHONPATH=. python3
benchmarks/gpu.py``).

What it measures, each timed by the harness of ``grader/child/timing.py`` after a
warm-up: the reference solution's training (time to accuracy, five seeds)
next to the classic PyTorch MNIST recipe; conv2d written four ways against
cuDNN with TF32 off, and TF32's error; what unsynchronised timing would have
reported; and the whole grading flow on the bundled submissions, the solution
graded five times for the spread.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import datasets  # noqa: E402
from grader.child.timing import time_repeats, wall_time  # noqa: E402
from grader.course import Course, Secret  # noqa: E402
from grader.engine import grade_submission  # noqa: E402
from grader.suites import get_suite  # noqa: E402

BEGIN, END = "<!-- BEGIN GPU (benchmarks/gpu.py) -->", "<!-- END GPU -->"
DEVICE = "cuda"
EXAMPLES = ROOT / "solutions" / "examples" / "cnn"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mnist():
    train_x, train_y = datasets.load("train")
    test_x, test_y = datasets.load("test")
    as_images = lambda x: torch.from_numpy(x).unsqueeze(1).float().div_(255)  # noqa: E731 - as the grader sends them
    return as_images(train_x), torch.from_numpy(train_y), as_images(test_x), torch.from_numpy(test_y)


def accuracy(module, model, test_x, test_y) -> float:
    return (module.predict(model, test_x, DEVICE).cpu() == test_y).float().mean().item()


def reference_recipe(data, seeds: int = 5) -> list[str]:
    solution = load(ROOT / "solutions" / "07_cnn" / "cnn.py", "cnn_solution")
    train_x, train_y, test_x, test_y = data
    solution.train(solution.build_model(), train_x[:4096], train_y[:4096], DEVICE, epochs=1)  # warm-up
    times, accuracies = [], []
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = solution.build_model()
        _, seconds = wall_time(lambda: solution.train(model, train_x, train_y, DEVICE), DEVICE)
        times.append(seconds)
        accuracies.append(accuracy(solution, model, test_x, test_y))
    return [
        "### Training: the reference solution and the classic recipe", "",
        "Time from `train(...)` called to the GPU idle again (CPU tensors in, as the grader passes them; "
        "CUDA and cuDNN warmed up first), then test accuracy on the 10 000 test images.", "",
        "| recipe | runs | training time: median [min, max] | test accuracy: median [min, max] |",
        "|---|---|---|---|",
        f"| reference solution (data on the GPU, batches of 512, Adam with a one-cycle schedule, bfloat16, "
        f"channels_last, a CUDA-graph-captured step; 2 epochs) | {seeds} seeds | {statistics.median(times):.3f} s "
        f"[{min(times):.3f}, {max(times):.3f}] | {100 * statistics.median(accuracies):.2f}% "
        f"[{100 * min(accuracies):.2f}, {100 * max(accuracies):.2f}] |",
    ] + classic_recipe(data)


def classic_recipe(data, max_epochs: int = 8) -> list[str]:
    """PyTorch's examples/mnist: a DataLoader of batches of 64, Adadelta, StepLR; until 99% or max_epochs."""
    classic = load(EXAMPLES / "slow_correct.py", "cnn_classic")
    train_x, train_y, test_x, test_y = data
    torch.manual_seed(0)
    model = classic.build_model().to(DEVICE)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset((train_x - 0.1307) / 0.3081, train_y),
                                         batch_size=64, shuffle=True)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    total, rows = 0.0, []
    for epoch in range(1, max_epochs + 1):
        def one_epoch():
            model.train()
            for x, y in loader:
                x, y = x.to(DEVICE), y.to(DEVICE)
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            schedule.step()

        total += wall_time(one_epoch, DEVICE)[1]
        reached = accuracy(classic, model, test_x, test_y)
        rows.append(f"{epoch}: {total:.1f} s, {100 * reached:.2f}%")
        if reached >= 0.99:
            break
    return [f"| classic PyTorch MNIST example (DataLoader, batches of 64, Adadelta, StepLR) | 1 seed, epoch by "
            f"epoch | {total:.1f} s to the last epoch | {rows[-1].split(', ')[-1]} |", "",
            "Classic recipe, cumulative training time and test accuracy after each epoch: " + "; ".join(rows) + ".",
            ""]


def conv_variants() -> list[str]:
    solution = load(ROOT / "solutions" / "07_cnn" / "cnn.py", "cnn_solution")
    strided = load(EXAMPLES / "correct_strided.py", "cnn_strided")
    positions = load(EXAMPLES / "slow_correct.py", "cnn_positions")

    def offsets(x, w, b, stride, padding):  # one product per kernel offset
        padded = F.pad(x, (padding,) * 4)
        kh, kw = w.shape[2:]
        oh, ow = (padded.shape[2] - kh) // stride + 1, (padded.shape[3] - kw) // stride + 1
        out = b.view(1, -1, 1, 1)
        for k in range(kh):
            for j in range(kw):
                patch = padded[:, :, k:k + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
                out = out + torch.einsum("nchw,fc->nfhw", patch, w[:, :, k, j])
        return out

    variants = {"F.unfold + matmul (reference solution)": solution.conv2d, "strided view + einsum": strided.conv2d,
                "a product per kernel offset": offsets, "a loop over output positions": positions.conv2d}
    lines = ["### conv2d against cuDNN", "",
             "Forward pass, float32, median of 30 after 5 warm-up runs, CUDA events; `F.conv2d` with TF32 off "
             "(cuDNN's default would use TF32). Ratio = time / `F.conv2d`'s time in the same run.", "",
             "| N, C, H=W, F, kernel, stride, padding | `F.conv2d` | TF32's relative error | "
             + " | ".join(variants) + " |", "|---|---|---|" + "---|" * len(variants)]
    torch.backends.cudnn.allow_tf32 = False
    for n, c, h, f, k, s, p in [(128, 1, 28, 32, 3, 1, 1), (128, 8, 28, 16, 3, 1, 1), (128, 32, 14, 64, 3, 1, 1),
                                (128, 64, 7, 128, 3, 1, 1), (64, 16, 28, 32, 3, 2, 1)]:
        x, w, b = (torch.randn(*shape, device=DEVICE) for shape in ((n, c, h, h), (f, c, k, k), (f,)))
        baseline = time_repeats(lambda: F.conv2d(x, w, b, s, p), DEVICE, 5, 30).median
        exact = F.conv2d(x.double(), w.double(), b.double(), s, p)
        torch.backends.cudnn.allow_tf32 = True
        tf32 = ((F.conv2d(x, w, b, s, p).double() - exact).abs().max() / exact.abs().max()).item()
        torch.backends.cudnn.allow_tf32 = False
        ratios = []
        for fn in variants.values():
            repeats = 5 if fn is positions.conv2d else 30
            ratios.append(f"{time_repeats(lambda: fn(x, w, b, s, p), DEVICE, 2, repeats).median / baseline:.1f}x")
        lines.append(f"| {n}, {c}, {h}, {f}, {k}x{k}, {s}, {p} | {baseline * 1e6:.0f} µs | {tf32:.1e} | "
                     + " | ".join(ratios) + " |")
    return lines + [""]


def unsynchronised() -> list[str]:
    x = torch.randn(4096, 4096, device=DEVICE)

    def work():
        for _ in range(20):
            x @ x

    work()
    torch.cuda.synchronize()
    started = time.perf_counter()
    work()
    naive = time.perf_counter() - started
    torch.cuda.synchronize()
    harness = time_repeats(work, DEVICE, 1, 5).median
    return ["### Why the harness synchronises", "",
            f"Twenty 4096x4096 float32 products: a host clock read right after launching them says "
            f"{naive * 1e3:.2f} ms; the harness (synchronised, CUDA events) says {harness * 1e3:.2f} ms "
            f"({harness / naive:.0f}x more): without synchronisation one times the launch, not the work.", ""]


def grading(runs: int = 5) -> list[str]:
    suite, course = get_suite("cnn"), Course.locate()
    secret = Secret("gpu-benchmark")
    submissions = [("solution", course.solution_dir(suite))] + [(p.stem, p) for p in sorted(EXAMPLES.glob("*.py"))
                                                                if p.stem != "stub"]
    lines = ["### Grading on the GPU", "",
             "`grade_submission` of each bundled submission, as `dlgrade grade` runs it (the first run of the "
             "process also starts the fork server, which imports torch once).", "",
             "| submission | score | conv2d speed | training | test accuracy | throughput | lost points | wall |",
             "|---|---|---|---|---|---|---|---|"]
    solution_runs = []
    for label, path in submissions:
        for run in range(runs if label == "solution" else 1):
            started = time.perf_counter()
            result = grade_submission(suite, path, secret, course)
            wall = time.perf_counter() - started
            notes = {n.split(":")[0].split(" ")[0]: n for f in result.functions for n in f.notes}
            board = {e["name"]: e["value"] for e in result.leaderboard}
            lost = "; ".join(f"{f.name}/{c.name} (-{c.max_score - c.score:g})" for f in result.functions
                             for c in f.cases if c.score < c.max_score) or "-"
            speed = notes.get("speed", "-").replace("speed: ", "")
            row = (label if run == 0 else f"solution, run {run + 1}", f"{result.score:g}/{result.max_score:g}", speed,
                   f"{board['Training time (s)']:.2f} s" if "Training time (s)" in board else "-",
                   f"{board['Test accuracy (%)']:.2f}%" if "Test accuracy (%)" in board else "-",
                   f"{board['Images/s (one epoch)']:,} images/s" if "Images/s (one epoch)" in board else "-",
                   lost, f"{wall:.1f} s")
            lines.append("| " + " | ".join(row) + " |")
            print(row, flush=True)
            if label == "solution":
                solution_runs.append(board)
    times = [b["Training time (s)"] for b in solution_runs]
    accuracies = [b["Test accuracy (%)"] for b in solution_runs]
    speeds = [b["Images/s (one epoch)"] for b in solution_runs]
    lines += ["", f"Stability, the solution graded {runs} times: test accuracy {min(accuracies):.2f}-"
                  f"{max(accuracies):.2f}% (median {statistics.median(accuracies):.2f}%), training time "
                  f"{min(times):.3f}-{max(times):.3f} s (median {statistics.median(times):.3f} s), throughput "
                  f"{min(speeds):,}-{max(speeds):,} images/s over one epoch.", ""]
    return lines


def section() -> str:
    name = torch.cuda.get_device_name()
    head = [BEGIN, "## GPU: the CNN assignment", "",
            f"Measured by `benchmarks/gpu.py` on {datetime.date.today()}: {name}, torch {torch.__version__}, "
            f"CUDA {torch.version.cuda}, numpy {np.__version__}.", ""]
    data = mnist()
    parts = reference_recipe(data) + conv_variants() + unsynchronised() + grading()
    return "\n".join(head + parts + [END]) + "\n"


def existing(target: Path) -> str:
    """The GPU section already in ``target`` (markers included), or ""."""
    old = target.read_text() if target.exists() else ""
    if BEGIN in old and END in old:
        return old[old.index(BEGIN):old.index(END) + len(END)] + "\n"
    return ""


def write(text: str, target: Path) -> None:
    old = target.read_text() if target.exists() else ""
    if previous := existing(target):
        new = old.replace(previous, text)
    else:
        new = old.rstrip("\n") + "\n\n" + text
    target.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="the Markdown file whose GPU section is (re)written")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("benchmarks/gpu.py: no CUDA GPU here; the GPU section of docs/benchmarks.md is left as it is")
        return 0
    text = section()
    write(text, args.out)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
