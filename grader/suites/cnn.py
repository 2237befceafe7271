"""Hidden suite of assignment 7 (cnn): a convolution written in torch tensor
operations, and a digit classifier trained on the GPU by the student's own code.

``conv2d`` is graded on its output and on the gradients autograd takes through
it, against torch's convolution in float64 on exactly float32-representable
inputs (so a float32 implementation is judged on its own arithmetic, and cuDNN's
TF32 never enters the reference), and, on a GPU, on its speed against
``F.conv2d`` with TF32 off, measured in the student's process by the shared
harness. Measured on an H100 (docs/benchmarks.md), bare: im2col with
``F.unfold`` and one product runs 13-22x cuDNN's time at course shapes, a
strided view with ``einsum`` 3-5x, a loop over output positions 37-1100x (the
more positions, the slower). Inside the grader, where both sides pay the
forbidden-call guard's overhead, the reference solution measures 4-5x and the
position loop 173x on the speed case (28x28 outputs): the limit of 50x sits
far from both.

The classifier (``build_model``, ``train``, ``predict``) is graded by
``grader/training.py``: test accuracy with the labels kept here, the model on
the GPU, training time, and throughput against the reference solution.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch.nn.functional as F

from grader import datasets
from grader.reference import gradients, numpy, tensors
from grader.spec import (
    BugCatalogue,
    Case,
    GradedFunction,
    Gradient,
    Limits,
    Mode,
    Program,
    Returned,
    Speed,
    Suite,
    Tensor,
    Training,
    call,
    float32_exact,
)

# The hints of this suite's catalogued bugs, prose kept in hints/cnn.toml.
bug = BugCatalogue(__file__)

# --------------------------------------------------------------------------- conv2d

CONV2D_FORBIDDEN = (
    "torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d", "torch.convolution", "torch._convolution",
    "torch.nn.functional.conv_transpose2d", "torch.cudnn_convolution", "torch.ops.aten.convolution",
    "torch.ops.aten._convolution", "torch.ops.aten.conv2d", "torch.ops.aten.cudnn_convolution",
    "torch.ops.aten.mkldnn_convolution", "torch.ops.aten._slow_conv2d_forward",
)

# (name, N, C, H, W, F, HH, WW, stride, padding). Correctness cases stay small: at most CORRECTNESS_POSITIONS
# output positions (N x out_h x out_w) each, so that a plain loop over output positions, autograd included, finishes
# in about a second on one CPU thread, far inside the case's time limit (tests/test_cnn.py grades one). Course-sized
# layers are only timed (SPEED_SHAPE).
CORRECTNESS_POSITIONS = 2048
CONV2D_SHAPES = [
    ("one channel, 3x3 filters", 2, 1, 8, 8, 4, 3, 3, 1, 0),
    ("several channels, padding 1, non-square input", 3, 3, 9, 11, 5, 3, 3, 1, 1),
    ("5x5 filters, stride 2, padding 2", 2, 4, 12, 12, 6, 5, 5, 2, 2),
    ("1x1 filters", 2, 6, 5, 7, 3, 1, 1, 1, 0),
    ("a batch of one, 3x2 filters", 1, 2, 10, 6, 3, 3, 2, 1, 1),
    ("8 images, 8 channels of 16x16, 8 filters, padding 1", 8, 8, 16, 16, 8, 3, 3, 1, 1),
    ("stride 2: 4 images, 6 channels of 20x20, 10 filters", 4, 6, 20, 20, 10, 3, 3, 2, 1),
]
SPEED_SHAPE = ("a first layer: 128 images, 8 channels of 28x28, 16 filters", 128, 8, 28, 28, 16, 3, 3, 1, 1)


def _conv2d_case(rng: np.random.Generator, shape: tuple) -> Case:
    name, n, c, h, w, f, hh, ww, stride, padding = shape
    out_h, out_w = (h + 2 * padding - hh) // stride + 1, (w + 2 * padding - ww) // stride + 1
    # float32 arrays: the child makes float32 tensors of them, as a GPU course would.
    return Case(name, {
        "x": float32_exact(rng.standard_normal((n, c, h, w))).astype(np.float32),
        "weight": float32_exact(rng.standard_normal((f, c, hh, ww)) / np.sqrt(c * hh * ww)).astype(np.float32),
        "bias": float32_exact(rng.standard_normal(f)).astype(np.float32),
        "dout": float32_exact(rng.standard_normal((n, f, out_h, out_w))).astype(np.float32),
        "stride": stride,
        "padding": padding,
    })


def _conv2d_cases(rng: np.random.Generator) -> list[Case]:
    return [_conv2d_case(rng, shape) for shape in CONV2D_SHAPES]


def _conv2d_outputs(conv):
    """The graded outputs of a conv2d computing ``conv(x, weight, bias, stride, padding)`` (tensors, then ints):
    ``out`` and its gradients, in float64."""

    def reference(inputs) -> dict[str, np.ndarray]:
        exact = {k: v.astype(np.float64) if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
        t = tensors(exact, requires_grad=("x", "weight", "bias"))
        out = conv(t["x"], t["weight"], t["bias"], inputs["stride"], inputs["padding"])
        return {"out": numpy(out), **gradients(out, exact["dout"], {k: t[k] for k in ("x", "weight", "bias")})}

    return reference


_conv2d_reference = _conv2d_outputs(lambda x, w, b, stride, padding: F.conv2d(x, w, b, stride, padding))


_CONV2D_CALL = call("conv2d", Tensor("x", True), Tensor("weight", True), Tensor("bias", True), "stride", "padding")

conv2d = GradedFunction(
    name="conv2d",
    program=Program((_CONV2D_CALL,), {
        "out": Returned(0),
        **{f"d{name}": Gradient(Returned(0), name, "dout") for name in ("x", "weight", "bias")},
    }),
    cases=_conv2d_cases,
    points=7,
    reference=_conv2d_reference,
    forbidden=CONV2D_FORBIDDEN,
    speed=Speed.against_gpu_builtin("conv2d", 50.0, lambda rng: _conv2d_case(rng, SPEED_SHAPE)),
    bugs=(
        # dbias: zeros, as the child's autograd gives for a bias the output does not depend on.
        bug("no-bias", _conv2d_outputs(lambda x, w, b, stride, padding: F.conv2d(x, w, None, stride, padding))),
        bug("flipped-kernel",
            _conv2d_outputs(lambda x, w, b, stride, padding: F.conv2d(x, w.flip(2, 3), b, stride, padding))),
        bug("transposed-kernel",
            _conv2d_outputs(lambda x, w, b, stride, padding: F.conv2d(x, w.transpose(2, 3), b, stride, padding))),
    ),
)

# --------------------------------------------------------------------------- the classifier


@lru_cache(maxsize=None)
def _mnist() -> tuple:
    return (*datasets.load("train"), *datasets.load("test"))


def _subset(images: np.ndarray, labels: np.ndarray, size: int | None, rng: np.random.Generator):
    if size is None or size >= len(images):
        return images, labels
    pick = np.sort(rng.choice(len(images), size, replace=False))
    return images[pick], labels[pick]


def _digits(mode: Mode, rng: np.random.Generator) -> tuple:
    """MNIST (a random subset in CPU mode); in CPU mode without the files,
    synthetic digits in MNIST's format, said so in the report."""
    try:
        train_x, train_y, test_x, test_y = _mnist()
        what = "MNIST"
    except datasets.DatasetError:
        if mode.device == "cuda" or mode.train_size is None or mode.test_size is None:
            raise  # no stand-in for a whole split
        train_x, train_y = datasets.synthetic_digits(mode.train_size, rng)
        test_x, test_y = datasets.synthetic_digits(mode.test_size, rng)
        what = "synthetic seven-segment digits (the MNIST files were not found)"
    return (*_subset(train_x, train_y, mode.train_size, rng), *_subset(test_x, test_y, mode.test_size, rng), what)


classifier = Training(
    name="classifier",
    data=_digits,
    # On an H100 the reference solution reaches 99.34-99.41% in 0.7-0.9 s as graded (0.32 s warm); the
    # classic PyTorch MNIST example (DataLoader, batch 64, Adadelta) 98.9% in 3 epochs, about 8 s; a
    # CPU-only submission about 40-60k images/s against the reference's 310-350k.
    gpu=Mode("cuda", train_size=None, test_size=None, time_limit=180.0, time_budget=60.0,
             full_accuracy=0.985, zero_accuracy=0.90),
    # One CPU thread, 1000 images: the reference solution reaches 94-97% in about 6 s, a plainer
    # correct submission (solutions/examples/cnn/correct_strided.py) about 87%.
    cpu=Mode("cpu", train_size=1000, test_size=1000, time_limit=120.0, time_budget=60.0,
             full_accuracy=0.80, zero_accuracy=0.40),
    min_throughput_ratio=0.15,
)

SUITE = Suite(
    folder="07_cnn",
    title="A CNN in PyTorch on the GPU: convolution by hand, then training on MNIST",
    functions=(conv2d,),
    training=classifier,
    gpu=True,
    case_time_limit=60.0,
    submission_time_limit=900.0,
    # CUDA maps the GPU's memory into the address space: no address-space limit (the
    # cgroup's memory limit holds). torch is the point here, and in the view.
    limits=Limits(memory_bytes=None, forbidden_modules=("tensorflow", "jax", "keras"),
                  preload=("numpy", "torch"), packages=("numpy", "torch"), gpu=True),
)
