"""Hidden suite of assignment 5 (conv): the output-size formula, a convolutional
layer, max-pooling and average-pooling, each layer graded on its forward
output and, separately, on the gradients of its backward pass.

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
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from grader.reference import gradients, numpy, tensors
from grader.spec import (
    Bug,
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
from grader.suites.properties import pooling_windows, routes_to_one_maximum

# --------------------------------------------------------------------------- conv_output_size

# Each case checks several (H, W, HH, WW, stride, pad) combinations of one kind,
# one call of conv_output_size each.
_SIZES_PER_CASE = 6
_SIZE_ARGS = ("H", "W", "HH", "WW", "stride", "pad")


def _size_combination(rng: np.random.Generator, kind: str) -> tuple[int, ...]:
    r = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731
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
    cases = []
    for name, kind in kinds:
        inputs = {}
        for i in range(_SIZES_PER_CASE):
            values = _size_combination(rng, kind)
            inputs.update({f"{a}{i}": v for a, v in zip(_SIZE_ARGS, values)})
        cases.append(Case(f"{name} ({_SIZES_PER_CASE} combinations)", inputs))
    return cases


def _torch_output_size(h: int, w: int, hh: int, ww: int, stride: int, pad: int) -> tuple[int, int]:
    out = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, hh, ww), stride=stride, padding=pad)
    return out.shape[2], out.shape[3]


def _size_reference(inputs) -> dict:
    sizes = np.array([_torch_output_size(*(inputs[f"{a}{i}"] for a in _SIZE_ARGS)) for i in range(_SIZES_PER_CASE)],
                     dtype=np.int64)
    return {"H_out": sizes[:, 0], "W_out": sizes[:, 1]}


_SIZE_PROGRAM = Program(
    tuple(call("conv_output_size", *(f"{a}{i}" for a in _SIZE_ARGS)) for i in range(_SIZES_PER_CASE)),
    {
        "H_out": Stack(tuple(Returned(i, 0) for i in range(_SIZES_PER_CASE))),
        "W_out": Stack(tuple(Returned(i, 1) for i in range(_SIZES_PER_CASE))),
    },
)



def _size_bug(size):
    """The outputs of a conv_output_size that computes each axis's size as ``size(n, k, stride, pad)``, from the
    input's length ``n`` (a float64 tensor) and the window's ``k``."""

    def reference(inputs) -> dict:
        def axes(i: int) -> list:
            h, w, hh, ww, stride, pad = (inputs[f"{a}{i}"] for a in _SIZE_ARGS)
            return [size(torch.tensor(n, dtype=torch.float64), k, stride, pad) for n, k in ((h, hh), (w, ww))]

        sizes = torch.tensor([axes(i) for i in range(_SIZES_PER_CASE)], dtype=torch.float64)
        return {"H_out": numpy(sizes[:, 0]), "W_out": numpy(sizes[:, 1])}

    return reference


def _sizes_swapped(inputs) -> dict:
    sizes = _size_reference(inputs)
    return {"H_out": sizes["W_out"], "W_out": sizes["H_out"]}


CONV_OUTPUT_SIZE = GradedFunction(
    name="conv_output_size",
    points=7,
    program=_SIZE_PROGRAM,
    cases=_size_cases,
    reference=_size_reference,
    # Sizes are whole numbers: ints, or floats holding whole numbers, and exactly right.
    tolerance=Tolerance(rtol=0.0, atol=1e-9),
    bugs=(
        Bug(
            name="output-size-h-w-swapped",
            hint="Your height and width are swapped: they agree only for square inputs and windows. The number "
            "of output rows comes from the input's height H and the window's height HH, the number of columns "
            "from W and WW.",
            reference=_sizes_swapped,
        ),
        Bug(
            name="output-size-padding-once",
            hint="Your sizes count the padding once. The zeros are added on both sides (top and bottom, left and "
            "right), so the padded size is H + 2 * pad.",
            reference=_size_bug(lambda n, k, stride, pad: torch.div(n - k + pad, stride, rounding_mode="floor") + 1),
        ),
        Bug(
            name="output-size-rounds-up",
            hint="Your sizes round up when the stride does not divide evenly. A window that would stick out of "
            "the (padded) input is not computed: the division rounds down, as in PyTorch.",
            reference=_size_bug(lambda n, k, stride, pad: torch.ceil((n - k + 2 * pad) / stride) + 1),
        ),
        Bug(
            name="output-size-rounds-to-nearest",
            hint="Your sizes round to the nearest integer when the stride does not divide evenly. A window that "
            "would stick out of the (padded) input is not computed: the division always rounds down.",
            # torch.round, like Python's round, takes halves to the even neighbour.
            reference=_size_bug(lambda n, k, stride, pad: torch.round((n - k + 2 * pad) / stride) + 1),
        ),
        Bug(
            name="output-size-true-division",
            hint="Your sizes are fractions when the stride does not divide evenly: '/' is true division. Count "
            "whole windows with integer division '//'.",
            reference=_size_bug(lambda n, k, stride, pad: (n - k + 2 * pad) / stride + 1),
        ),
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
        Bug(
            name="conv-flipped-kernel",
            hint="Your output is a convolution with the filter turned by 180 degrees. A convolutional layer (as "
            "torch's conv2d) computes a cross-correlation: filter entry w[f, c, k, l] multiplies the input "
            "pixel k rows and l columns after the window's top-left corner, without flipping.",
            reference=output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(x, w.flip(-1, -2), b, stride=stride,
                                                                            padding=pad))),
        ),
        Bug(
            name="conv-bias-wrong-axis",
            hint="Your bias is added along the wrong axis of the output (along its columns). Each filter f has "
            "one bias b[f], added to every pixel of output channel f: reshape b so that it broadcasts along "
            "axis 1 of an (N, F, H_out, W_out) array.",
            # b broadcast along the last axis, W_out: it cannot run unless W_out is F (or one of them is 1).
            reference=output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(x, w, stride=stride, padding=pad) + b)),
        ),
        Bug(
            name="conv-padding-one-side",
            hint="Your output is too small when pad > 0: the zeros are added on one side only. Padding adds pad "
            "rows at the top and at the bottom, and pad columns on the left and on the right.",
            reference=output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(F.pad(x, (0, pad, 0, pad)), w, b,
                                                                            stride=stride))),
        ),
        Bug(
            name="conv-forward-ignores-stride",
            hint="Your output has a window at every position, as if the stride were 1. With stride S, "
            "consecutive windows start S rows (or columns) apart.",
            reference=output_of(_conv(lambda x, w, b, stride, pad: F.conv2d(x, w, b, padding=pad))),
        ),
    )),
    backward=Pass(points=8, speed=_CONV_SPEED_RATIO, timed=lambda rng: _conv_sample(rng, _CONV_SPEED),
              time_limit=_LOOP_TIME_LIMIT, bugs=(
        Bug(
            name="conv-dw-not-summed-over-batch",
            hint="Your dw holds the contribution of one example only. The filters are shared by every example "
            "of the batch, so dw adds up the contributions of all N examples (as well as of every output pixel).",
            reference=_conv_dw_of_last_example,
        ),
        Bug(
            name="conv-db-not-summed-over-pixels",
            hint="Your db has one value per output pixel. Each filter has a single bias, added at every pixel "
            "of its output channel in every example: its gradient sums dout over the batch and both spatial "
            "axes, shape (F,).",
            reference=_conv_db_per_pixel,
        ),
        Bug(
            name="conv-dx-overlaps-overwritten",
            hint="Your dx keeps only one window's contribution where windows overlap. A pixel covered by several "
            "windows (stride smaller than the filter) influences each of their outputs, so its gradient is the "
            "sum of what every window sends back: accumulate (+=), do not assign.",
            reference=_conv_dx_overlaps_overwritten,
        ),
        Bug(
            name="conv-backward-ignores-stride",
            hint="Your dx sends each window's gradient back as if the stride were 1. With stride S, window "
            "(i, j) starts at row i * S and column j * S of the padded input, in the backward pass as in the "
            "forward pass.",
            reference=_conv_dx_at_stride_1,
        ),
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
        Bug(
            name="pool-stride-equals-window",
            hint="Your windows are as far apart as they are wide: you use the window size as the stride. The "
            "stride is its own argument; windows overlap when it is smaller than the window.",
            reference=output_of(_pooling(lambda x, pool, stride: F.max_pool2d(x, pool, pool))),
        ),
        Bug(
            name="max-pool-starts-at-zero",
            hint="Your maximum is never below 0: it starts from 0 instead of from the window's values. A window "
            "of negative values has a negative maximum.",
            reference=output_of(_pooling(lambda x, pool, stride: F.max_pool2d(x, pool, stride).clamp(min=0.0))),
        ),
    )),
    backward=Pass(
        points=8, reference=_max_pool_backward_reference, tolerance=MAX_POOL_TOLERANCE,
        # Timed against torch's own max-pool backward (the reference also judges ties, which is not the operation).
        speed=dataclasses.replace(_POOL_SPEED_RATIO, torch=lambda inputs: gradients_of(_MAX_POOL)(inputs)["dx"]),
        timed=lambda rng: _pool_sample(rng, "random", _POOL_SPEED), time_limit=_LOOP_TIME_LIMIT, bugs=(
        Bug(
            name="max-pool-gradient-to-every-maximum",
            hint="Your dx sends a window's gradient to every pixel that equals its maximum. When several pixels "
            "tie, the output still depends on one of them at a time: the window's whole gradient goes to a "
            "single one of the tied pixels (any one), not a copy to each.",
            reference=_pool_backward_bug(_to_every_maximum),
        ),
        Bug(
            name="max-pool-overlaps-overwritten",
            hint="Your dx keeps only one window's contribution where windows overlap. A pixel that is the "
            "maximum of several overlapping windows receives the sum of their gradients: accumulate (+=), do "
            "not assign.",
            reference=_pool_backward_bug(_to_first_maximum, fold=_fold_first_window),
        ),
    )),
).functions

AVG_POOL_FORWARD, AVG_POOL_BACKWARD = Layer(
    "avg_pool", _POOL_ARGS, _pool_samples, _pooling(F.avg_pool2d),
    forward=Pass(points=8, bugs=(
        Bug(
            name="avg-pool-sum-not-mean",
            hint="Your output is the sum of each window, pool_height * pool_width times the average. Divide by "
            "the number of pixels in a window.",
            reference=output_of(_pooling(lambda x, pool, stride: F.avg_pool2d(x, pool, stride, divisor_override=1))),
        ),
    )),
    backward=Pass(points=8, bugs=(
        Bug(
            name="avg-pool-gradient-not-shared",
            hint="Your dx passes each window's whole gradient to every one of its pixels. Each pixel weighs "
            "1 / (pool_height * pool_width) in the window's mean, so it receives that share of dout.",
            # The gradient of sum-pooling (every pixel of a window weighing 1).
            reference=gradients_of(_pooling(lambda x, pool, stride: F.avg_pool2d(x, pool, stride, divisor_override=1))),
        ),
        Bug(
            name="avg-pool-overlaps-overwritten",
            hint="Your dx keeps only one window's share where windows overlap. A pixel in several overlapping "
            "windows receives a share from each of them: accumulate (+=), do not assign.",
            reference=_pool_backward_bug(_avg_shares, fold=_fold_first_window),
        ),
    )),
).functions


SUITE = Suite(
    assignment="conv",
    folder="05_conv",
    module="conv",
    title="Convolution and pooling layers",
    functions=(
        CONV_OUTPUT_SIZE,
        CONV_FORWARD, CONV_BACKWARD,
        MAX_POOL_FORWARD, MAX_POOL_BACKWARD,
        AVG_POOL_FORWARD, AVG_POOL_BACKWARD,
    ),
)
