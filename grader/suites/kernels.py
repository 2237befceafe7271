"""Hidden suite of assignment 11 (kernels): GPU kernels in Triton, each launched
by a Python wrapper of the student's: a vector add (the warm-up), a row-wise
softmax and a tiled matrix product.

Each wrapper is graded on its result against torch's, in float64 on float32
inputs (``torch.softmax``; ``a @ b``, never TF32), on shapes that are not
multiples of any block size: tiny, tall and wide, widths that are no power of
two, logits near +-1000. The wrappers may not call the torch operation they
implement: the kernel computes it. Without a GPU the child runs Triton's
interpreter (``TRITON_INTERPRET=1``, set by the suite's limits in CPU mode),
which executes one program after another in Python, about 5 ms per program
here: the cases stay small (a plain kernel needs at most 30 programs for one),
so that each finishes in well under a second on one CPU thread, and a whole
grading takes 2-3 s.

On a GPU, softmax and matmul also carry a speed point: their time over
torch's own kernel (``torch.softmax``; ``torch.matmul`` with TF32 off) on
course-sized shapes, timed in the student's process by the shared harness.
The limits below await calibration on a GPU (docs/benchmarks.md says what is
to be measured).
"""

from __future__ import annotations

import numpy as np
import torch

from grader.reference import numpy
from grader.spec import BugCatalogue, Case, GradedFunction, Limits, Program, Returned, Speed, Suite, Tensor, call
from grader.suites.inputs import around_1000, normal

# The hints of this suite's catalogued bugs, prose kept in hints/kernels.toml.
bug = BugCatalogue(__file__)

# The tiles the stub declares (BLOCK_M, BLOCK_N, BLOCK_K in kernels.py): the tiling bugs are described for them,
# so a student who keeps them and makes one of these mistakes is told which (tests/test_kernels.py holds the stub
# to these numbers).
TILE_M, TILE_N, TILE_K = 32, 32, 32


def _tensor(array) -> torch.Tensor:
    """A case's float32 array as a tensor."""
    return torch.from_numpy(np.ascontiguousarray(array))


# --------------------------------------------------------------------------- add

# Besides the operations themselves, "torch.ops": the raw operators (torch.ops.aten.mm...), which a wrapper that
# allocates and launches never needs. Not named one by one: a forbidden torch.ops.aten name adds the guard's
# dispatch-mode layer, whose first use imports torch._dynamo (and triton with it) in each child, 2-4 s here.
ADD_FORBIDDEN = ("torch.add", "torch.Tensor.add", "torch.Tensor.__add__", "torch.Tensor.__radd__", "torch.ops")
ADD_LENGTHS = [("one element", 1), ("less than a block", 1000), ("a length that is no power of two", 3001),
               ("several blocks", 5000)]

add = GradedFunction(
    name="add",
    program=Program((call("add", Tensor("x"), Tensor("y")),), {"out": Returned(0)}),
    cases=lambda rng: [Case(name, {"x": normal(rng, n).astype(np.float32), "y": normal(rng, n).astype(np.float32)},
                            points=0.5) for name, n in ADD_LENGTHS],
    points=2,
    reference=lambda inputs: {"out": numpy(_tensor(inputs["x"]).double() + _tensor(inputs["y"]))},
    forbidden=ADD_FORBIDDEN,
)

# --------------------------------------------------------------------------- softmax

# The exponentials are the kernel's work: a wrapper calling torch's exp would be softmax in torch, not a kernel.
SOFTMAX_FORBIDDEN = (
    "torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax", "torch.nn.Softmax",
    "torch.special.softmax", "torch.log_softmax", "torch.nn.functional.log_softmax", "torch.Tensor.log_softmax",
    "torch.exp", "torch.Tensor.exp", "torch.ops",
)
# (name, rows, cols, kind of logits). Every case but the power-of-two one has a width that is none.
SOFTMAX_SHAPES = [
    ("one row of one column", 1, 1, "normal"),
    ("rows of 37 columns", 7, 37, "normal"),
    ("rows of 64 columns", 4, 64, "normal"),
    ("a tall matrix of narrow rows", 30, 3, "normal"),
    ("wide rows: 300 columns", 2, 300, "normal"),
    ("logits near +-1000", 5, 50, "around 1000"),
    ("rows whose every logit is near +1000 or near -1000", 6, 21, "offset 1000"),
]
# Timed on a GPU only. This shape and the limit of 10x await calibration there (docs/benchmarks.md): 23 input sets
# of it (3 to warm up, 20 timed) cross the wire at once, within its 256 MiB.
SOFTMAX_SPEED_SHAPE = ("2048 rows of 781 columns", 2048, 781, "normal")


def _softmax_case(rng: np.random.Generator, shape: tuple) -> Case:
    name, rows, cols, kind = shape
    if kind == "around 1000":
        x = around_1000(rng, (rows, cols))
    elif kind == "offset 1000":  # a row's logits differ by a few units, all near +1000 or all near -1000
        x = normal(rng, (rows, cols), scale=3.0, shift=np.where(np.arange(rows) % 2, 1000.0, -1000.0)[:, None])
    else:
        x = normal(rng, (rows, cols), scale=2.0)
    return Case(name, {"x": x.astype(np.float32)})


def _softmax(x: torch.Tensor) -> dict[str, np.ndarray]:
    return {"out": numpy(torch.softmax(x.double(), dim=1))}


def _padding_counted(inputs) -> dict[str, np.ndarray]:
    """The padded lanes of a block of the width's next power of two, loaded as 0: they enter the maximum and,
    as exp(0 - max) each, the sum."""
    x = _tensor(inputs["x"]).double()
    cols = x.shape[1]
    padding = (1 << (cols - 1).bit_length()) - cols
    top = x.max(dim=1, keepdim=True).values
    if padding:
        top = top.clamp(min=0.0)
    e = torch.exp(x - top)
    return {"out": numpy(e / (e.sum(dim=1, keepdim=True) + padding * torch.exp(-top)))}


def _max_not_subtracted(inputs) -> dict[str, np.ndarray]:
    # In float32, as the kernel computes: exp overflows to inf past 88, and the rows near +-1000 become NaN.
    e = torch.exp(_tensor(inputs["x"]).float())
    return {"out": numpy(e / e.sum(dim=1, keepdim=True))}


softmax = GradedFunction(
    name="softmax",
    program=Program((call("softmax", Tensor("x")),), {"out": Returned(0)}),
    cases=lambda rng: [_softmax_case(rng, shape) for shape in SOFTMAX_SHAPES],
    points=7,
    reference=lambda inputs: _softmax(_tensor(inputs["x"])),
    forbidden=SOFTMAX_FORBIDDEN,
    speed=Speed.against_gpu_builtin("softmax", 10.0, lambda rng: _softmax_case(rng, SOFTMAX_SPEED_SHAPE)),
    bugs=(
        bug("max-not-subtracted", _max_not_subtracted),
        bug("padding-counted", _padding_counted),
        bug("wrong-axis", lambda inputs: {"out": numpy(torch.softmax(_tensor(inputs["x"]).double(), dim=0))}),
    ),
)

# --------------------------------------------------------------------------- matmul

MATMUL_FORBIDDEN = (
    "torch.matmul", "torch.mm", "torch.bmm", "torch.einsum", "torch.addmm", "torch.addbmm", "torch.baddbmm",
    "torch.tensordot", "torch.inner", "torch.mv", "torch.dot", "torch.chain_matmul", "torch.linalg.matmul",
    "torch.linalg.multi_dot", "torch.nn.functional.linear", "torch.nn.Linear", "torch.Tensor.matmul",
    "torch.Tensor.__matmul__", "torch.Tensor.__rmatmul__", "torch.Tensor.mm", "torch.Tensor.bmm", "torch.ops",
)
# (name, M, K, N): at most 25 tiles of 32 x 32 and 4 slices of K each.
MATMUL_SHAPES = [
    ("1x1 times 1x1", 1, 1, 1),
    ("a row times a matrix", 1, 40, 33),
    ("an outer product (K = 1)", 37, 1, 29),
    ("tall: 130 rows, 3 columns", 130, 20, 3),
    ("wide: 3 rows, 140 columns", 3, 50, 140),
    ("square, 45 x 45", 45, 45, 45),
    ("K of 100, over several slices", 33, 100, 35),
    ("sizes that are powers of two", 64, 64, 32),
]
# As for softmax: shape and limit (15x) await calibration on a GPU.
MATMUL_SPEED_SHAPE = ("1000 x 700 times 700 x 900", 1000, 700, 900)


def _matmul_case(rng: np.random.Generator, shape: tuple) -> Case:
    name, m, k, n = shape
    return Case(name, {"a": normal(rng, (m, k)).astype(np.float32),
                       "b": normal(rng, (k, n), scale=1 / np.sqrt(k)).astype(np.float32)})


def _product(inputs, whole_tiles: bool = False, whole_slices: bool = False) -> dict[str, np.ndarray]:
    """``a @ b`` in float64; with ``whole_slices``, over the whole BLOCK_K slices of K only; with
    ``whole_tiles``, 0 in the rows and columns of ``c`` past its last whole tile."""
    a, b = _tensor(inputs["a"]).double(), _tensor(inputs["b"]).double()
    (m, k), n = a.shape, b.shape[1]
    inner = k - k % TILE_K if whole_slices else k
    c = a[:, :inner] @ b[:inner]
    if whole_tiles:
        c[m - m % TILE_M:] = 0.0
        c[:, n - n % TILE_N:] = 0.0
    return {"c": numpy(c)}


matmul = GradedFunction(
    name="matmul",
    program=Program((call("matmul", Tensor("a"), Tensor("b")),), {"c": Returned(0)}),
    cases=lambda rng: [_matmul_case(rng, shape) for shape in MATMUL_SHAPES],
    points=8,
    reference=_product,
    forbidden=MATMUL_FORBIDDEN,
    speed=Speed.against_gpu_builtin("matmul", 15.0, lambda rng: _matmul_case(rng, MATMUL_SPEED_SHAPE)),
    bugs=(
        bug("last-k-tile-missing", lambda inputs: _product(inputs, whole_slices=True)),
        bug("edge-tiles-dropped", lambda inputs: _product(inputs, whole_tiles=True)),
    ),
)

SUITE = Suite(
    folder="11_kernels",
    title="GPU kernels in Triton: a vector add, a row-wise softmax and a tiled matrix product",
    functions=(add, softmax, matmul),
    gpu=True,
    case_time_limit=30.0,
    submission_time_limit=600.0,
    # Triton is imported by each child, never by the zygote: its interpreter must be chosen before the import.
    # CUDA maps the GPU's memory into the address space: no address-space limit (the cgroup's memory limit holds).
    # CuPy and Numba would be other ways to a GPU kernel, or to the operations themselves.
    limits=Limits(memory_bytes=None, forbidden_modules=("tensorflow", "jax", "keras", "cupy", "numba"),
                  preload=("numpy", "torch"), packages=("numpy", "torch", "triton"), gpu=True,
                  cpu_environment=(("TRITON_INTERPRET", "1"),), cpu_setup=("kernels.autotune_on_the_cpu",),
                  # Triton's assemblers: ptxas, and ptxas-blackwell (for Blackwell GPUs; its version is read for any).
                  executables=("triton/backends/nvidia/bin/ptxas", "triton/backends/nvidia/bin/ptxas-blackwell")),
)
