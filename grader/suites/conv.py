"""Hidden suite of assignment 5 (conv): the output-size formula, a convolutional
layer, max-pooling and average-pooling, each layer graded on its forward
output and, separately, on the gradients of its backward pass; then the
architecture arithmetic of whole networks (output shapes and parameter counts
of each layer), against torch.nn modules the suite builds from the layers' own
description, on the meta device (VGG-16 and ResNet-18 take no memory), with
exact answers.

Every float input is rounded to a float32-representable value (still a float64
array): a student who casts to float32 then sees exactly the grader's inputs,
and ties between equal values survive the cast.

Max-pooling's gradient is not unique where a window has several equal maxima:
torch sends the window's gradient to one of them, and so may a correct
submission, to any one. Its ``dx`` is judged by a ``Property``: exact (within
tolerance) wherever no tie is involved, and elsewhere it must be explained by
every tied window sending its whole gradient to a single one of its maxima.

The speed points time each layer against the reference solution on a larger
batch, where loops over the output pixels are tens of times slower than a
vectorised layer.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grader.reference import gradients, numpy, tensors
from grader.spec import (
    BugCatalogue,
    Case,
    GradedFunction,
    Program,
    Returned,
    Speed,
    Stack,
    Suite,
    Tolerance,
    call,
    float32_exact,
)
from grader.suites.inputs import normal
from grader.suites.layers import Layer, Pass, Sample, gradients_of, output_of
from grader.suites.networks import (
    BATCHNORM,
    FLATTEN,
    RELU,
    RESNET18,
    RESNET18_TABLE,
    VGG16,
    Kind,
    Residual,
    basic_block,
    conv,
    linear,
    parameters,
    pool,
    remembered_summary_table,
    summary_table,
)
from grader.suites.properties import pooling_windows, routes_to_one_maximum

# The hints of this suite's catalogued bugs, prose kept in hints/conv.toml.
bug = BugCatalogue(__file__)

# --------------------------------------------------------------------------- functions of a few numbers

# A function of a few numbers (a size, a count, one layer's row) is called several times per case, on
# combinations of one kind: call i takes the inputs f"{argument}{i}".
_CALLS_PER_CASE = 6


def _calls_case(name: str, args: tuple[str, ...], combination: Callable[[int], tuple]) -> Case:
    """A case of _CALLS_PER_CASE combinations of the arguments ``args``, call i's drawn by ``combination(i)``."""
    inputs = {f"{a}{i}": v for i in range(_CALLS_PER_CASE) for a, v in zip(args, combination(i))}
    return Case(f"{name} ({_CALLS_PER_CASE} combinations)", inputs)


def _calls_program(function: str, args: tuple[str, ...], results: tuple[str, ...]) -> Program:
    """_CALLS_PER_CASE calls of ``function``: output ``results[k]`` stacks item k of what each call returns, or,
    for a single result, each call's whole return value."""
    def part(i: int, k: int) -> Returned:
        return Returned(i) if len(results) == 1 else Returned(i, k)

    return Program(tuple(call(function, *(f"{a}{i}" for a in args)) for i in range(_CALLS_PER_CASE)),
                   {name: Stack(tuple(part(i, k) for i in range(_CALLS_PER_CASE))) for k, name in enumerate(results)})


def _draws(rng: np.random.Generator) -> tuple[Callable[[int, int], int], Callable[[], bool]]:
    """Two ways of drawing from ``rng``: an int from lo to hi (both included), and True or False."""
    return (lambda lo, hi: int(rng.integers(lo, hi + 1))), (lambda: bool(rng.random() < 0.5))


def _arguments(inputs, args: tuple[str, ...]) -> list[tuple]:
    """The arguments of each call of a ``_calls_program``."""
    return [tuple(inputs[f"{a}{i}"] for a in args) for i in range(_CALLS_PER_CASE)]


# Sizes and counts are whole numbers: ints, or floats holding whole numbers, and exactly right (an error of 1 is
# above the tolerance even for VGG-16's 138 million parameters).
WHOLE_NUMBERS = Tolerance(rtol=0.0, atol=1e-9)

# --------------------------------------------------------------------------- conv_output_size

_SIZE_ARGS = ("H", "W", "HH", "WW", "stride", "pad")


def _size_combination(rng: np.random.Generator, kind: str) -> tuple[int, ...]:
    r, _ = _draws(rng)
    if kind == "square":
        n, k = r(5, 32), r(1, 5)
        return n, n, k, k, 1, 0
    if kind == "non-square input":
        small, k = r(5, 20), r(1, 5)
        big = small + r(4, 12)  # far enough apart that the output sizes differ too
        h, w = (small, big) if rng.random() < 0.5 else (big, small)
        return h, w, k, k, r(1, 2), r(0, 1)
    if kind == "non-square window":
        n, kh = r(8, 30), r(1, 5)
        return n, n, kh, kh + r(1, 3), 1, r(0, 2)
    if kind == "padding":
        k = r(3, 7)
        return r(k, 20), r(k, 20), k, k, r(1, 2), r(1, 3)
    if kind == "uneven stride":
        # stride 2 to 4 and a remainder of at least 1 (for W, stride - 1: rounding to nearest differs too)
        s = r(2, 4)
        k, p = r(2, 5), r(0, 2)
        h = k - 2 * p + s * r(2, 6) + r(1, s - 1)
        w = k - 2 * p + s * r(2, 6) + (s - 1)
        return h, w, k, k, s, p
    if kind == "whole input":
        h, w, p = r(3, 9), r(3, 9), r(0, 2)
        return h, w, h + 2 * p, w + 2 * p, r(1, 3), p
    h, w = r(6, 40), r(6, 40)
    return h, w, r(1, min(h, 7)), r(1, min(w, 7)), r(1, 4), r(0, 3)


def _size_cases(rng: np.random.Generator) -> list[Case]:
    kinds = [
        ("square inputs and windows, stride 1", "square"),
        ("non-square inputs", "non-square input"),
        ("non-square windows", "non-square window"),
        ("padding", "padding"),
        ("strides that do not divide evenly", "uneven stride"),
        ("window as large as the padded input", "whole input"),
        ("mixed sizes, strides and paddings", "mixed"),
    ]
    return [_calls_case(name, _SIZE_ARGS, lambda _: _size_combination(rng, kind)) for name, kind in kinds]


def _torch_output_size(h: int, w: int, hh: int, ww: int, stride: int, pad: int) -> tuple[int, int]:
    out = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, hh, ww), stride=stride, padding=pad)
    return out.shape[2], out.shape[3]


def _size_reference(inputs) -> dict:
    sizes = np.array([_torch_output_size(*args) for args in _arguments(inputs, _SIZE_ARGS)], dtype=np.int64)
    return {"H_out": sizes[:, 0], "W_out": sizes[:, 1]}


_SIZE_PROGRAM = _calls_program("conv_output_size", _SIZE_ARGS, ("H_out", "W_out"))


def _mistaken_sizes(size, h: int, w: int, hh: int, ww: int, stride: int, pad: int) -> list[float]:
    """The output's height and width when each axis's size is ``size(n, k, stride, pad)``, from the input's length
    ``n`` (a float64 tensor) and the window's ``k``."""
    return [float(size(torch.tensor(n, dtype=torch.float64), k, stride, pad)) for n, k in ((h, hh), (w, ww))]


def _padding_once(n: torch.Tensor, k: int, stride: int, pad: int) -> torch.Tensor:
    return torch.div(n - k + pad, stride, rounding_mode="floor") + 1


def _true_division(n: torch.Tensor, k: int, stride: int, pad: int) -> torch.Tensor:
    return (n - k + 2 * pad) / stride + 1


def _size_bug(size):
    """The outputs of a conv_output_size that computes each axis's size as ``size(n, k, stride, pad)``."""

    def reference(inputs) -> dict:
        sizes = np.array([_mistaken_sizes(size, *args) for args in _arguments(inputs, _SIZE_ARGS)])
        return {"H_out": sizes[:, 0], "W_out": sizes[:, 1]}

    return reference


def _sizes_swapped(inputs) -> dict:
    sizes = _size_reference(inputs)
    return {"H_out": sizes["W_out"], "W_out": sizes["H_out"]}


CONV_OUTPUT_SIZE = GradedFunction(
    name="conv_output_size", points=7,
    program=_SIZE_PROGRAM,
    cases=_size_cases,
    reference=_size_reference,
    tolerance=WHOLE_NUMBERS,
    bugs=(
        bug("output-size-h-w-swapped", _sizes_swapped),
        bug("output-size-padding-once", _size_bug(_padding_once)),
        bug("output-size-rounds-up", _size_bug(lambda n, k, stride, pad: torch.ceil((n - k + 2 * pad) / stride) + 1)),
        # torch.round, like Python's round, takes halves to the even neighbour.
        bug("output-size-rounds-to-nearest",
            _size_bug(lambda n, k, stride, pad: torch.round((n - k + 2 * pad) / stride) + 1)),
        bug("output-size-true-division", _size_bug(_true_division)),
    ),
)


# --------------------------------------------------------------------------- conv_forward, conv_backward

# name, (N, C, H, W), (F, HH, WW), stride, pad
_CONV_SHAPES = [
    ("random, stride 1, no padding (N=2, C=3, 7x7 input, F=5, 3x3 filters)", (2, 3, 7, 7), (5, 3, 3), 1, 0),
    ("padding 1 keeps the size (N=2, C=2, 6x6 input, F=3, 3x3 filters)", (2, 2, 6, 6), (3, 3, 3), 1, 1),
    ("non-square input, stride 2, padding 1 (N=2, C=3, 7x10 input, F=2, 3x3 filters)",
     (2, 3, 7, 10), (2, 3, 3), 2, 1),
    ("non-square filters, padding 2 (N=2, C=2, 6x5 input, F=3, 3x2 filters)", (2, 2, 6, 5), (3, 3, 2), 1, 2),
    ("stride that does not divide evenly (N=3, C=2, 8x8 input, F=2, 3x3 filters, stride 2)",
     (3, 2, 8, 8), (2, 3, 3), 2, 0),
    ("batch of 1, one channel, one filter (5x6 input, 3x3 filter)", (1, 1, 5, 6), (1, 3, 3), 1, 0),
    ("filter as large as the padded input (N=3, C=2, 4x4 input, F=3, 6x6 filters, padding 1)",
     (3, 2, 4, 4), (3, 6, 6), 1, 1),
    ("larger batch (N=8, C=3, 16x16 input, F=8, 3x3 filters, padding 1)", (8, 3, 16, 16), (8, 3, 3), 1, 1),
]
# Timed only, never a correctness case: a layer of a small CNN. Against torch's own layer (one thread, the same run),
# vectorised numpy (einsum, im2col, strided views) takes 3-8 times its time and loops over output pixels 250-700
# times (tests/corpus/conv, on a loaded 2-core machine); the threshold sits between, far from both.
_CONV_SPEED = ("a layer of 16 images, 4 channels of 20x20, 8 filters 3x3, padding 1", (16, 4, 20, 20), (8, 3, 3), 1, 1)
_CONV_MAX_RATIO = 40
# Seconds per case: far more than the correctness cases take a layer written with scalar loops over every pixel,
# channel and filter offset (under a second on a busy machine; tests/corpus/conv/scalar_loops_int_sizes.py).
_LOOP_TIME_LIMIT = 20.0


def _conv_sample(rng: np.random.Generator, shape: tuple) -> Sample:
    name, (n, c, h, w), (f, hh, ww), stride, pad = shape
    return Sample(name, {"x": normal(rng, (n, c, h, w)), "w": normal(rng, (f, c, hh, ww), 0.5),
                         "b": normal(rng, (f,)), "stride": stride, "pad": pad})


def _conv_samples(rng: np.random.Generator) -> Iterator[Sample]:
    """Yielded one by one: each backward case's dout is drawn right after its sample."""
    for shape in _CONV_SHAPES:
        yield _conv_sample(rng, shape)


def _conv(conv):
    """The layer ``conv(x, w, b, stride, pad) -> out`` (tensors, then ints), for the family."""
    return lambda t, inputs: conv(t["x"], t["w"], t["b"], inputs["stride"], inputs["pad"])


def _fold_first_window(columns: torch.Tensor, size, window, stride: int, pad: int = 0) -> torch.Tensor:
    """``F.fold`` of each window's gradient (im2col columns, (N, C * HH * WW, windows)), except that a pixel
    covered by several windows gets the first one's only (windows in row-major order), not their sum: what is
    left by a loop over the window offsets that assigns each offset's slice where it should add (the last
    offset written at a pixel is the first window's)."""
    h, w = size[0] + 2 * pad, size[1] + 2 * pad
    # The (padded) pixel under each entry of each window, and the number of the first window covering each pixel.
    pixel = F.unfold(torch.arange(h * w, dtype=torch.float64).reshape(1, 1, h, w), window, stride=stride)[0].long()
    number = torch.arange(pixel.shape[1]).expand_as(pixel)
    first = torch.full((h * w,), pixel.shape[1]).scatter_reduce(0, pixel.flatten(), number.flatten(), "amin")
    kept = (number == first[pixel]).to(columns.dtype)
    columns = (columns.reshape(len(columns), -1, *kept.shape) * kept).flatten(1, 2)
    return F.fold(columns, tuple(size), window, padding=pad, stride=stride)


def _conv_dw_of_last_example(inputs) -> dict:
    t = tensors(inputs, requires_grad=("w",))
    out = F.conv2d(t["x"][-1:], t["w"], t["b"], stride=inputs["stride"], padding=inputs["pad"])
    return gradients(out, inputs["dout"][-1:], {"w": t["w"]})


def _conv_db_per_pixel(inputs) -> dict:
    t = tensors(inputs)
    out = F.conv2d(t["x"], t["w"], stride=inputs["stride"], padding=inputs["pad"])
    bias = torch.zeros(out.shape[1:], dtype=out.dtype, requires_grad=True)  # one bias per output pixel
    return gradients(out + bias, inputs["dout"], {"b": bias})


def _conv_dx_overlaps_overwritten(inputs) -> dict:
    t = tensors(inputs)
    # Each window's gradient, sum over f of dout[n, f, window] * w[f], as im2col columns.
    columns = torch.einsum("fk,nfl->nkl", t["w"].flatten(1), t["dout"].flatten(2))
    dx = _fold_first_window(columns, inputs["x"].shape[2:], inputs["w"].shape[2:], inputs["stride"], inputs["pad"])
    return {"dx": numpy(dx)}


def _conv_dx_at_stride_1(inputs) -> dict:
    t = tensors(inputs, requires_grad=("x",))
    (h_out, w_out), (hh, ww) = inputs["dout"].shape[2:], inputs["w"].shape[2:]
    # Window (i, j) at row i and column j of the padded input: a stride-1 convolution over the corner that holds
    # as many windows as the output has pixels.
    corner = F.pad(t["x"], (inputs["pad"],) * 4)[:, :, :h_out + hh - 1, :w_out + ww - 1]
    return gradients(F.conv2d(corner, t["w"]), inputs["dout"], {"x": t["x"]})


_CONV_SPEED_RATIO = Speed(points=1, max_ratio=_CONV_MAX_RATIO)

CONV_FORWARD, CONV_BACKWARD = Layer(
    "conv", ("x", "w", "b", "stride", "pad"), _conv_samples,
    _conv(lambda x, w, b, stride, pad: F.conv2d(x, w, b, stride=stride, padding=pad)), grads=("x", "w", "b"),
    forward=Pass(points=8, speed=_CONV_SPEED_RATIO, timed=lambda rng: _conv_sample(rng, _CONV_SPEED),
                 time_limit=_LOOP_TIME_LIMIT, bugs=(
        bug("conv-flipped-kernel",
            output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(x, w.flip(-1, -2), b, stride=stride, padding=pad)))),
        # b broadcast along the last axis, W_out: it cannot run unless W_out is F (or one of them is 1).
        bug("conv-bias-wrong-axis",
            output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(x, w, stride=stride, padding=pad) + b))),
        bug("conv-padding-one-side",
            output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(F.pad(x, (0, pad, 0, pad)), w, b, stride=stride)))),
        bug("conv-forward-ignores-stride",
            output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(x, w, b, padding=pad)))),
    )),
    backward=Pass(points=8, speed=_CONV_SPEED_RATIO, timed=lambda rng: _conv_sample(rng, _CONV_SPEED),
              time_limit=_LOOP_TIME_LIMIT, bugs=(
        bug("conv-dw-not-summed-over-batch", _conv_dw_of_last_example),
        bug("conv-db-not-summed-over-pixels", _conv_db_per_pixel),
        bug("conv-dx-overlaps-overwritten", _conv_dx_overlaps_overwritten),
        bug("conv-backward-ignores-stride", _conv_dx_at_stride_1),
    )),
).functions


# --------------------------------------------------------------------------- pooling

# name, (N, C, H, W), (pool_height, pool_width), stride
_POOL_SHAPES = {
    "random": ("2x2 windows, stride 2 (N=2, C=3, 8x8 input)", (2, 3, 8, 8), (2, 2), 2),
    "overlapping": ("overlapping 3x3 windows, stride 2 (N=2, C=2, 9x9 input)", (2, 2, 9, 9), (3, 3), 2),
    "non-square": ("non-square 2x3 windows, stride 1, non-square input (N=2, C=2, 6x9 input)",
                   (2, 2, 6, 9), (2, 3), 1),
    "batch of 1": ("batch of 1, one channel, stride that does not divide evenly (8x8 input, 3x3 windows, stride 2)",
                   (1, 1, 8, 8), (3, 3), 2),
    "negative": ("all values negative (N=2, C=2, 6x6 input, 2x2 windows, stride 2)", (2, 2, 6, 6), (2, 2), 2),
    "integer ties": ("ties: small integer values (N=2, C=3, 8x8 input, 2x2 windows, stride 2)",
                     (2, 3, 8, 8), (2, 2), 2),
    "overlapping ties": ("ties in overlapping windows (N=2, C=2, 9x9 input, 3x3 windows, stride 2)",
                         (2, 2, 9, 9), (3, 3), 2),
    "larger": ("larger batch (N=16, C=8, 16x16 input, 2x2 windows, stride 2)", (16, 8, 16, 16), (2, 2), 2),
}
# Timed only: a feature map of a small CNN. torch's pooling is a tight kernel: vectorised numpy takes 10-25 times its
# time (the round trip of the arrays included), loops over output pixels 220-360 times; the threshold sits between.
_POOL_SPEED = ("16 images, 8 channels of 32x32, 2x2 windows, stride 2", (16, 8, 32, 32), (2, 2), 2)
_POOL_MAX_RATIO = 70


def _plant_ties(rng: np.random.Generator, x: np.ndarray, pool: tuple[int, int], stride: int) -> np.ndarray:
    """A copy of ``x`` where some windows' maximum is repeated at another pixel of the window."""
    x = x.copy()
    ph, pw = pool
    windows = pooling_windows(x, ph, pw, stride)
    n, c, ho, wo = windows.shape[:4]
    for idx in zip(*(rng.integers(0, d, size=6) for d in (n, c, ho, wo))):
        a, b, i, j = (int(v) for v in idx)
        block = x[a, b, i * stride:i * stride + ph, j * stride:j * stride + pw]
        r, s = np.unravel_index(np.argmax(block), block.shape)
        others = [(p, q) for p in range(ph) for q in range(pw) if (p, q) != (r, s)]
        p, q = others[rng.integers(len(others))]
        block[p, q] = block[r, s]
    return x


def _pool_input(rng: np.random.Generator, kind: str, shape, pool, stride) -> np.ndarray:
    if kind == "negative":
        return float32_exact(-np.abs(rng.standard_normal(shape)) - 0.125)
    if kind == "integer ties":
        return rng.integers(-1, 2, size=shape).astype(np.float64)
    x = normal(rng, shape)
    return _plant_ties(rng, x, pool, stride) if kind == "overlapping ties" else x


def _pool_sample(rng: np.random.Generator, kind: str, shape: tuple) -> Sample:
    name, size, pool, stride = shape
    return Sample(name, {"x": _pool_input(rng, kind, size, pool, stride), "pool_height": pool[0],
                         "pool_width": pool[1], "stride": stride})


def _pool_samples(rng: np.random.Generator) -> Iterator[Sample]:
    """Yielded one by one: each backward case's dout is drawn right after its sample."""
    for kind, shape in _POOL_SHAPES.items():
        yield _pool_sample(rng, kind, shape)


def _pooling(pooling):
    """The layer ``pooling(x, pool, stride)`` (a tensor, a pair, an int), for the family."""
    return lambda t, inputs: pooling(t["x"], (inputs["pool_height"], inputs["pool_width"]), inputs["stride"])


_MAX_POOL = _pooling(F.max_pool2d)


def _max_pool_backward_reference(inputs) -> dict:
    dx = gradients_of(_MAX_POOL)(inputs)["dx"]
    return {"dx": routes_to_one_maximum(inputs, dx, MAX_POOL_TOLERANCE)}


MAX_POOL_TOLERANCE = Tolerance()

# ---- catalogued pooling bugs


def _pool_backward_bug(columns_of, fold=F.fold):
    """The dx of a pooling backward that sends ``columns_of(windows, dout)`` back onto the input: ``windows``
    the input's (N, C, ph * pw, windows), ``dout`` the upstream gradient as (N, C, 1, windows), and the result
    (N, C, ph * pw, windows) the gradient of each window's pixels, put back by ``fold`` (``F.fold`` adds up
    where windows overlap)."""

    def reference(inputs) -> dict:
        x, dout = torch.tensor(inputs["x"]), torch.tensor(inputs["dout"])
        pool, stride = (inputs["pool_height"], inputs["pool_width"]), inputs["stride"]
        windows = F.unfold(x, pool, stride=stride).unflatten(1, (x.shape[1], -1))
        columns = columns_of(windows, dout.flatten(2).unsqueeze(2))
        return {"dx": numpy(fold(columns.flatten(1, 2), x.shape[2:], pool, stride=stride))}

    return reference


def _to_first_maximum(windows: torch.Tensor, dout: torch.Tensor) -> torch.Tensor:
    """dout to the first maximum of each window (row-major; torch.argmax takes the first of ties)."""
    return F.one_hot(windows.argmax(2), windows.shape[2]).transpose(2, 3) * dout


def _to_every_maximum(windows: torch.Tensor, dout: torch.Tensor) -> torch.Tensor:
    return (windows == windows.max(2, keepdim=True).values) * dout


def _avg_shares(windows: torch.Tensor, dout: torch.Tensor) -> torch.Tensor:
    return (dout / windows.shape[2]).expand_as(windows)


_POOL_ARGS = ("x", "pool_height", "pool_width", "stride")
_POOL_SPEED_RATIO = Speed(points=1, max_ratio=_POOL_MAX_RATIO)

MAX_POOL_FORWARD, MAX_POOL_BACKWARD = Layer(
    "max_pool", _POOL_ARGS, _pool_samples, _MAX_POOL,
    forward=Pass(points=8, speed=_POOL_SPEED_RATIO, timed=lambda rng: _pool_sample(rng, "random", _POOL_SPEED),
                 time_limit=_LOOP_TIME_LIMIT, bugs=(
        bug("pool-stride-equals-window", output_of(_pooling(lambda x, pool, stride: F.max_pool2d(x, pool, pool)))),
        bug("max-pool-starts-at-zero",
            output_of(_pooling(lambda x, pool, stride: F.max_pool2d(x, pool, stride).clamp(min=0.0)))),
    )),
    backward=Pass(
        points=8, reference=_max_pool_backward_reference, tolerance=MAX_POOL_TOLERANCE,
        # Timed against torch's own max-pool backward (the reference also judges ties, which is not the operation).
        speed=dataclasses.replace(_POOL_SPEED_RATIO, torch=lambda inputs: gradients_of(_MAX_POOL)(inputs)["dx"]),
        timed=lambda rng: _pool_sample(rng, "random", _POOL_SPEED), time_limit=_LOOP_TIME_LIMIT, bugs=(
        bug("max-pool-gradient-to-every-maximum", _pool_backward_bug(_to_every_maximum)),
        bug("max-pool-overlaps-overwritten", _pool_backward_bug(_to_first_maximum, fold=_fold_first_window)),
    )),
).functions

AVG_POOL_FORWARD, AVG_POOL_BACKWARD = Layer(
    "avg_pool", _POOL_ARGS, _pool_samples, _pooling(F.avg_pool2d),
    forward=Pass(points=8, bugs=(
        bug("avg-pool-sum-not-mean",
            output_of(_pooling(lambda x, pool, stride: F.avg_pool2d(x, pool, stride, divisor_override=1)))),
    )),
    backward=Pass(points=8, bugs=(
        # The gradient of sum-pooling (every pixel of a window weighing 1).
        bug("avg-pool-gradient-not-shared",
            gradients_of(_pooling(lambda x, pool, stride: F.avg_pool2d(x, pool, stride, divisor_override=1)))),
        bug("avg-pool-overlaps-overwritten", _pool_backward_bug(_avg_shares, fold=_fold_first_window)),
    )),
).functions


# --------------------------------------------------------------------------- architecture arithmetic



# ---- conv_params, linear_params

_CONV_PARAMS_ARGS = ("C", "F", "HH", "WW", "bias")
_LINEAR_PARAMS_ARGS = ("D", "M", "bias")


def _conv_params_cases(rng: np.random.Generator) -> list[Case]:
    r, coin = _draws(rng)

    def square(bias: bool) -> tuple:
        k = r(1, 7)
        return r(1, 512), r(1, 512), k, k, bias

    def non_square(_: int) -> tuple:
        k = r(1, 5)
        return r(1, 256), r(1, 256), k, k + r(1, 4), coin()

    def resnet_like(_: int) -> tuple:
        k = int(rng.choice([1, 7]))
        return r(1, 8) * 64, r(1, 8) * 64, k, k, coin()

    return [
        _calls_case("with biases", _CONV_PARAMS_ARGS, lambda _: square(True)),
        _calls_case("without biases", _CONV_PARAMS_ARGS, lambda _: square(False)),
        _calls_case("non-square filters, with and without biases", _CONV_PARAMS_ARGS, non_square),
        _calls_case("1x1 and 7x7 filters, many channels (as in ResNet-18)", _CONV_PARAMS_ARGS, resnet_like),
    ]


def _parameter_counts(args: tuple[str, ...], layer: Callable[..., nn.Module]):
    """The outputs of a count of one layer's parameters, called as a ``_calls_program`` on ``args``: what torch
    counts of ``layer(*arguments)`` for each call's arguments (built on the meta device: no weights are drawn)."""

    def reference(inputs) -> dict:
        with torch.device("meta"):
            counts = [parameters(layer(*arguments)) for arguments in _arguments(inputs, args)]
        return {"params": np.array(counts, dtype=np.int64)}

    return reference


def _layer_count(name: str, points: int, args: tuple[str, ...], cases: Callable[[np.random.Generator], list[Case]],
                 layer: Callable[..., nn.Module], mistakes: Mapping[str, Callable[..., nn.Module]]) -> GradedFunction:
    """A function that counts the parameters of the layer ``layer(*arguments)`` builds from its arguments ``args``,
    graded against what torch counts; each catalogued mistake counts another layer instead."""
    return GradedFunction(
        name=name, points=points, program=_calls_program(name, args, ("params",)), cases=cases,
        reference=_parameter_counts(args, layer), tolerance=WHOLE_NUMBERS,
        bugs=tuple(bug(mistake, _parameter_counts(args, counted)) for mistake, counted in mistakes.items()))


CONV_PARAMS = _layer_count(
    "conv_params", 4, _CONV_PARAMS_ARGS, _conv_params_cases,
    lambda c, f, hh, ww, bias: nn.Conv2d(c, f, (hh, ww), bias=bias), {
        "conv-params-bias-forgotten": lambda c, f, hh, ww, bias: nn.Conv2d(c, f, (hh, ww), bias=False),
        "conv-params-channels-forgotten": lambda c, f, hh, ww, bias: nn.Conv2d(1, f, (hh, ww), bias=bias),
    })


def _linear_params_cases(rng: np.random.Generator) -> list[Case]:
    r, coin = _draws(rng)
    return [
        _calls_case("with biases", _LINEAR_PARAMS_ARGS, lambda _: (r(1, 5000), r(1, 5000), True)),
        _calls_case("without biases", _LINEAR_PARAMS_ARGS, lambda _: (r(1, 5000), r(1, 5000), False)),
        # Flattened feature maps: C * H * W inputs, as the first fully connected layer of a CNN has.
        _calls_case("flattened feature maps in, with and without biases", _LINEAR_PARAMS_ARGS,
                    lambda _: (r(16, 512) * r(1, 7) ** 2, r(2, 4096), coin())),
    ]


LINEAR_PARAMS = _layer_count(
    "linear_params", 3, _LINEAR_PARAMS_ARGS, _linear_params_cases, lambda d, m, bias: nn.Linear(d, m, bias=bias),
    {"linear-params-bias-forgotten": lambda d, m, bias: nn.Linear(d, m, bias=False)})

# ---- layer_summary

_LAYER_ARGS = ("input_shape", "layer")
_ROW = ("C_out", "H_out", "W_out", "params")


# One layer and its input shape (C, H, W), for call i of a case of layer_summary, drawn by r and coin (_draws).
_Input = tuple[tuple[int, int, int], tuple]


def _shape(r) -> tuple[int, int, int]:
    return r(1, 64), r(5, 40), r(5, 40)


def _padded_conv(_, r, coin) -> _Input:
    k = r(3, 7)
    return (r(1, 64), r(k, 40), r(k, 40)), conv(r(1, 128), k, r(1, 2), r(1, 3), coin())


def _uneven_window(_, r, coin) -> _Input:
    """A convolution or a pooling of stride 2 to 4 that leaves a remainder of at least 1 (for W, stride - 1), its
    padding at most half the window (torch's pooling allows no more)."""
    s, k = r(2, 4), r(2, 5)
    p = r(0, k // 2)
    h = k - 2 * p + s * r(2, 6) + r(1, s - 1)
    w = k - 2 * p + s * r(2, 6) + (s - 1)
    windows = (conv(r(1, 64), k, s, p, coin()), pool(Kind.MAX_POOL, k, s, p), pool(Kind.AVG_POOL, k, s, p))
    return (r(1, 64), h, w), windows[r(0, 2)]


def _non_square_conv(_, r, coin) -> _Input:
    kh = r(1, 4)
    kw = kh + r(1, 3)
    return (r(1, 64), r(kh, 40), r(kw, 40)), conv(r(1, 128), kh, r(1, 2), r(0, 2), bias=False, width=kw)


def _padded_pooling(_, r, coin) -> _Input:
    k = r(2, 4)
    return _shape(r), pool(Kind.MAX_POOL if coin() else Kind.AVG_POOL, k, r(1, 3), r(0, k // 2))


_LAYER_CASES: tuple[tuple[str, Callable[..., _Input]], ...] = (
    ("convolutions, stride 1, no padding", lambda _, r, coin: (_shape(r), conv(r(1, 128), r(1, 5)))),
    ("convolutions with padding", _padded_conv),
    ("convolutions and pooling, strides that do not divide evenly", _uneven_window),
    ("convolutions without bias, non-square filters", _non_square_conv),
    ("max and average pooling, with and without padding", _padded_pooling),
    ("batch norm, ReLU, flatten", lambda i, r, coin: (_shape(r), (BATCHNORM, RELU, FLATTEN)[i % 3])),
    ("linear layers, with and without biases",
     lambda _, r, coin: ((r(1, 5000), 1, 1), linear(r(1, 4096), coin()))),
)


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    draws = _draws(rng)
    return [_calls_case(name, _LAYER_ARGS, lambda i: draw(i, *draws)) for name, draw in _LAYER_CASES]


def _layer_rows(inputs, count: Callable[[nn.Module], int] = parameters) -> np.ndarray:
    """Each call's row, from torch: (_CALLS_PER_CASE, 4)."""
    return np.concatenate([summary_table(shape, [layer], count) for shape, layer in _arguments(inputs, _LAYER_ARGS)])


def _named_rows(rows: np.ndarray) -> dict:
    return {name: rows[:, k] for k, name in enumerate(_ROW)}


# The window of each kind of layer that has one: where its (HH, WW, stride, pad) are in its tuple.
_WINDOWS = {Kind.CONV: slice(2, 6), Kind.MAX_POOL: slice(1, 5), Kind.AVG_POOL: slice(1, 5)}


def _layer_size_bug(size):
    """layer_summary's outputs where a convolution's or a pooling's output size along each axis is
    ``size(n, k, stride, pad)`` (see ``_mistaken_sizes``), the rest right."""

    def reference(inputs) -> dict:
        rows = _layer_rows(inputs).astype(np.float64)
        for row, ((_, h, w), layer) in zip(rows, _arguments(inputs, _LAYER_ARGS)):
            if Kind(layer[0]) in _WINDOWS:
                hh, ww, stride, pad = layer[_WINDOWS[Kind(layer[0])]]
                row[1:3] = _mistaken_sizes(size, h, w, hh, ww, stride, pad)
        return _named_rows(rows)

    return reference


def _with_running_statistics(module: nn.Module) -> int:
    statistics = [module.running_mean, module.running_var] if isinstance(module, nn.BatchNorm2d) else []
    return parameters(module) + sum(s.numel() for s in statistics if s is not None)


LAYER_SUMMARY = GradedFunction(
    name="layer_summary", points=7,
    program=_calls_program("layer_summary", _LAYER_ARGS, _ROW),
    cases=_layer_cases,
    reference=lambda inputs: _named_rows(_layer_rows(inputs)),
    tolerance=WHOLE_NUMBERS,
    bugs=(
        bug("layer-size-padding-once", _layer_size_bug(_padding_once)),
        bug("layer-size-true-division", _layer_size_bug(_true_division)),
        bug("batchnorm-counts-running-statistics",
            lambda inputs: _named_rows(_layer_rows(inputs, _with_running_statistics))),
    ),
)

# ---- network_summary


def _plain_cnn(rng: np.random.Generator) -> tuple[tuple[int, int, int], list]:
    """A random small CNN of 2 to 4 stages (a convolution of odd size, stride and padding, with or without bias,
    sometimes batch norm, a ReLU, sometimes a pooling), then two fully connected layers."""
    r, coin = _draws(rng)
    shape = (r(1, 4), r(17, 48), r(17, 48))
    layers: list = []

    def smallest_side() -> int:
        """Of the output so far: a window must fit."""
        return int(min(summary_table(shape, layers)[-1, 1:3] if layers else shape[1:]))

    for _ in range(r(2, 4)):
        layers += [conv(r(2, 24), r(1, min(5, smallest_side())), r(1, 3), r(0, 2), coin()),
                   *((BATCHNORM,) if coin() else ()), RELU]
        if smallest_side() >= 8 and coin():
            k = r(2, 3)
            layers.append(pool(Kind.MAX_POOL if coin() else Kind.AVG_POOL, k, 2, r(0, k // 2)))
    return shape, [*layers, FLATTEN, linear(r(8, 64), coin()), RELU, linear(r(2, 10))]


def _small_resnet(rng: np.random.Generator) -> tuple[tuple[int, int, int], list]:
    """A random small residual network: a stem, a block with the identity as shortcut, one that halves the size of
    an odd-sized input and doubles the channels (a projection shortcut), a third of either kind."""
    r, _ = _draws(rng)
    channels = r(4, 16)
    layers = [conv(channels, 3, 1, 1, bias=False), BATCHNORM, RELU]
    for filters, stride in ((channels, 1), (2 * channels, 2), (2 * channels, r(1, 2))):
        layers += basic_block(filters, stride, conv(filters, 3, stride, 1, bias=False),
                               conv(filters, 3, 1, 1, bias=False))
    return (r(1, 3), 2 * r(5, 12) + 1, 2 * r(5, 12) + 1), [*layers, FLATTEN, linear(r(2, 10))]


def _network_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, network: tuple[tuple[int, int, int], list], points: float = 1.0) -> Case:
        # Tuples and lists of ints: they reach the student's function as JSON does, as lists.
        inputs: dict[str, Any] = dict(zip(("input_shape", "layers"), network))
        return Case(name, inputs, points)

    return [
        case("VGG-16 on a 224x224 RGB image (the lectures' table)", ((3, 224, 224), VGG16), 2),
        case("ResNet-18 as torchvision builds it: batch norm, projection shortcuts", ((3, 224, 224), RESNET18), 2),
        case("the lectures' ResNet-18 table: 227x227 input, convolutions with biases, no shortcuts",
             ((3, 227, 227), RESNET18_TABLE)),
        case("a random small CNN", _plain_cnn(rng)),
        case("another random small CNN", _plain_cnn(rng)),
        case("a random small residual network, odd sizes", _small_resnet(rng)),
    ]


def _without_shortcut(module: nn.Module) -> int:
    return parameters(module.main) if isinstance(module, Residual) else parameters(module)


NETWORK_SUMMARY = GradedFunction(
    name="network_summary", points=8,
    program=Program((call("network_summary", "input_shape", "layers"),), {"table": Returned(0)}),
    cases=_network_cases,
    reference=lambda inputs: {"table": remembered_summary_table(inputs["input_shape"], inputs["layers"])},
    tolerance=WHOLE_NUMBERS,
    bugs=(
        bug("residual-shortcut-not-counted", lambda inputs: {
            "table": remembered_summary_table(inputs["input_shape"], inputs["layers"], _without_shortcut)}),
    ),
)


SUITE = Suite(
    folder="05_conv",
    title="Convolution and pooling layers, and counting a network's shapes and parameters",
    functions=(
        CONV_OUTPUT_SIZE,
        CONV_FORWARD, CONV_BACKWARD,
        MAX_POOL_FORWARD, MAX_POOL_BACKWARD,
        AVG_POOL_FORWARD, AVG_POOL_BACKWARD,
        CONV_PARAMS, LINEAR_PARAMS, LAYER_SUMMARY, NETWORK_SUMMARY,
    ),
    support=("architectures.py",),
)
