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

import numpy as np
import torch
import torch.nn.functional as F

from grader.compare import compare
from grader.reference import gradients, numpy, tensors
from grader.spec import (
    Bug,
    Case,
    Expected,
    GradedFunction,
    Program,
    Property,
    Returned,
    Speed,
    Stack,
    Suite,
    Tolerance,
    backward_program,
    call,
    float32_exact,
    forward_program,
)

# --------------------------------------------------------------------------- helpers


def _normal(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    return float32_exact(scale * rng.standard_normal(shape))


def _windows(x: np.ndarray, ph: int, pw: int, stride: int) -> np.ndarray:
    """``windows[n, c, i, j, k, l] = x[n, c, i * stride + k, j * stride + l]``."""
    return np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]


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
    return tuple(out.shape[2:])


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

_H_LINE = "H_out = (H - HH + 2 * pad) // stride + 1"
_W_LINE = "W_out = (W - WW + 2 * pad) // stride + 1"

CONV_OUTPUT_SIZE = GradedFunction(
    name="conv_output_size",
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
            edits=(("return H_out, W_out", "return W_out, H_out"),),
        ),
        Bug(
            name="output-size-padding-once",
            hint="Your sizes count the padding once. The zeros are added on both sides (top and bottom, left and "
            "right), so the padded size is H + 2 * pad.",
            edits=((_H_LINE, "H_out = (H - HH + pad) // stride + 1"),
                   (_W_LINE, "W_out = (W - WW + pad) // stride + 1")),
        ),
        Bug(
            name="output-size-rounds-up",
            hint="Your sizes round up when the stride does not divide evenly. A window that would stick out of "
            "the (padded) input is not computed: the division rounds down, as in PyTorch.",
            edits=((_H_LINE, "H_out = -(-(H - HH + 2 * pad) // stride) + 1"),
                   (_W_LINE, "W_out = -(-(W - WW + 2 * pad) // stride) + 1")),
        ),
        Bug(
            name="output-size-rounds-to-nearest",
            hint="Your sizes round to the nearest integer when the stride does not divide evenly. A window that "
            "would stick out of the (padded) input is not computed: the division always rounds down.",
            edits=((_H_LINE, "H_out = round((H - HH + 2 * pad) / stride) + 1"),
                   (_W_LINE, "W_out = round((W - WW + 2 * pad) / stride) + 1")),
        ),
        Bug(
            name="output-size-true-division",
            hint="Your sizes are fractions when the stride does not divide evenly: '/' is true division. Count "
            "whole windows with integer division '//'.",
            edits=((_H_LINE, "H_out = (H - HH + 2 * pad) / stride + 1"),
                   (_W_LINE, "W_out = (W - WW + 2 * pad) / stride + 1")),
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
_CONV_TIMED = len(_CONV_SHAPES) - 1
# Loops over examples, filters and output pixels take about 100 (forward) and
# 150 (backward) times the reference's time on the timed case; an einsum or
# im2col layer about 1 to 3 times.
_CONV_MAX_RATIO = 10
# Seconds per case: the timed cases take a layer written with scalar loops over
# every pixel, channel and filter offset about a second on a busy machine; it
# loses the speed point, not the case.
_LOOP_TIME_LIMIT = 20.0


def _conv_cases(backward: bool):
    def cases(rng: np.random.Generator) -> list[Case]:
        result = []
        for name, (n, c, h, w), (f, hh, ww), stride, pad in _CONV_SHAPES:
            inputs = {"x": _normal(rng, (n, c, h, w)), "w": _normal(rng, (f, c, hh, ww), 0.5),
                      "b": _normal(rng, (f,)), "stride": stride, "pad": pad}
            if backward:
                ho, wo = (h - hh + 2 * pad) // stride + 1, (w - ww + 2 * pad) // stride + 1
                inputs["dout"] = _normal(rng, (n, f, ho, wo))
            result.append(Case(name, inputs))
        return result

    return cases


def _conv_reference(backward: bool):
    def reference(inputs) -> dict:
        t = tensors(inputs, requires_grad=("x", "w", "b") if backward else ())
        out = F.conv2d(t["x"], t["w"], t["b"], stride=inputs["stride"], padding=inputs["pad"])
        if not backward:
            return {"out": numpy(out)}
        return gradients(out, inputs["dout"], {"x": t["x"], "w": t["w"], "b": t["b"]})

    return reference


_CONV_ARGS = ("x", "w", "b", "stride", "pad")
_DX_SCATTER = "dx_pad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += dwindows[:, :, k, l]"

CONV_FORWARD = GradedFunction(
    name="conv_forward",
    program=forward_program("conv", *_CONV_ARGS),
    cases=_conv_cases(backward=False),
    reference=_conv_reference(backward=False),
    speed=Speed(points=1, max_ratio=_CONV_MAX_RATIO, case=_CONV_TIMED),
    time_limit=_LOOP_TIME_LIMIT,
    bugs=(
        Bug(
            name="conv-flipped-kernel",
            hint="Your output is a convolution with the filter turned by 180 degrees. A convolutional layer (as "
            "torch's conv2d) computes a cross-correlation: filter entry w[f, c, k, l] multiplies the input "
            "pixel k rows and l columns after the window's top-left corner, without flipping.",
            edits=(("np.einsum('ncijkl,fckl->nfij', windows, w, optimize=True)",
                    "np.einsum('ncijkl,fckl->nfij', windows, w[:, :, ::-1, ::-1], optimize=True)"),),
        ),
        Bug(
            name="conv-bias-wrong-axis",
            hint="Your bias is added along the wrong axis of the output (along its columns). Each filter f has "
            "one bias b[f], added to every pixel of output channel f: reshape b so that it broadcasts along "
            "axis 1 of an (N, F, H_out, W_out) array.",
            edits=(("+ b[:, None, None]", "+ b"),),
        ),
        Bug(
            name="conv-padding-one-side",
            hint="Your output is too small when pad > 0: the zeros are added on one side only. Padding adds pad "
            "rows at the top and at the bottom, and pad columns on the left and on the right.",
            edits=(("np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
                    "np.pad(x, ((0, 0), (0, 0), (0, pad), (0, pad)))"),),
        ),
        Bug(
            name="conv-forward-ignores-stride",
            hint="Your output has a window at every position, as if the stride were 1. With stride S, "
            "consecutive windows start S rows (or columns) apart.",
            edits=(("sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]",
                    "sliding_window_view(x_pad, (HH, WW), axis=(2, 3))"),),
        ),
    ),
)

CONV_BACKWARD = GradedFunction(
    name="conv_backward",
    program=backward_program("conv", *_CONV_ARGS, grads=("dx", "dw", "db")),
    cases=_conv_cases(backward=True),
    reference=_conv_reference(backward=True),
    speed=Speed(points=1, max_ratio=_CONV_MAX_RATIO, case=_CONV_TIMED),
    time_limit=_LOOP_TIME_LIMIT,
    bugs=(
        Bug(
            name="conv-dw-not-summed-over-batch",
            hint="Your dw holds the contribution of one example only. The filters are shared by every example "
            "of the batch, so dw adds up the contributions of all N examples (as well as of every output pixel).",
            edits=(("dw = np.einsum('nfij,ncijkl->fckl', dout, windows, optimize=True)",
                    "dw = np.einsum('nfij,ncijkl->fckl', dout[-1:], windows[-1:], optimize=True)"),),
        ),
        Bug(
            name="conv-db-not-summed-over-pixels",
            hint="Your db has one value per output pixel. Each filter has a single bias, added at every pixel "
            "of its output channel in every example: its gradient sums dout over the batch and both spatial "
            "axes, shape (F,).",
            edits=(("db = np.sum(dout, axis=(0, 2, 3))", "db = np.sum(dout, axis=0)"),),
        ),
        Bug(
            name="conv-dx-overlaps-overwritten",
            hint="Your dx keeps only one window's contribution where windows overlap. A pixel covered by several "
            "windows (stride smaller than the filter) influences each of their outputs, so its gradient is the "
            "sum of what every window sends back: accumulate (+=), do not assign.",
            edits=((_DX_SCATTER, _DX_SCATTER.replace("+=", "=")),),
        ),
        Bug(
            name="conv-backward-ignores-stride",
            hint="Your dx sends each window's gradient back as if the stride were 1. With stride S, window "
            "(i, j) starts at row i * S and column j * S of the padded input, in the backward pass as in the "
            "forward pass.",
            edits=((_DX_SCATTER, "dx_pad[:, :, k:k + H_out, l:l + W_out] += dwindows[:, :, k, l]"),),
        ),
    ),
)


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
_POOL_TIMED = list(_POOL_SHAPES).index("larger")
# A window's maximum is little work: loops over output pixels (with numpy inside
# a window) are only about 30 times slower than the reference here, vectorised
# layers about as fast; the threshold sits between, away from timing noise.
_POOL_MAX_RATIO = 6


def _plant_ties(rng: np.random.Generator, x: np.ndarray, pool: tuple[int, int], stride: int) -> np.ndarray:
    """A copy of ``x`` where some windows' maximum is repeated at another pixel of the window."""
    x = x.copy()
    ph, pw = pool
    windows = _windows(x, ph, pw, stride)
    n, c, ho, wo = windows.shape[:4]
    for idx in zip(*(rng.integers(0, d, size=6) for d in (n, c, ho, wo))):
        a, b, i, j = (int(v) for v in idx)
        block = x[a, b, i * stride:i * stride + ph, j * stride:j * stride + pw]
        k, l = np.unravel_index(np.argmax(block), block.shape)
        others = [(p, q) for p in range(ph) for q in range(pw) if (p, q) != (k, l)]
        p, q = others[rng.integers(len(others))]
        block[p, q] = block[k, l]
    return x


def _pool_input(rng: np.random.Generator, kind: str, shape, pool, stride) -> np.ndarray:
    if kind == "negative":
        return float32_exact(-np.abs(rng.standard_normal(shape)) - 0.125)
    if kind == "integer ties":
        return rng.integers(-1, 2, size=shape).astype(np.float64)
    x = _normal(rng, shape)
    return _plant_ties(rng, x, pool, stride) if kind == "overlapping ties" else x


def _pool_cases(backward: bool):
    def cases(rng: np.random.Generator) -> list[Case]:
        result = []
        for kind, (name, shape, pool, stride) in _POOL_SHAPES.items():
            x = _pool_input(rng, kind, shape, pool, stride)
            inputs = {"x": x, "pool_height": pool[0], "pool_width": pool[1], "stride": stride}
            if backward:
                n, c, h, w = shape
                inputs["dout"] = _normal(rng, (n, c, (h - pool[0]) // stride + 1, (w - pool[1]) // stride + 1))
            result.append(Case(name, inputs))
        return result

    return cases


def _pool_torch(inputs, pooling, backward: bool):
    t = tensors(inputs, requires_grad=("x",) if backward else ())
    out = pooling(t["x"], (inputs["pool_height"], inputs["pool_width"]), inputs["stride"])
    if not backward:
        return numpy(out)
    return gradients(out, inputs["dout"], {"x": t["x"]})["dx"]


def _max_pool_forward_reference(inputs) -> dict:
    return {"out": _pool_torch(inputs, F.max_pool2d, backward=False)}


def _avg_pool_reference(backward: bool):
    def reference(inputs) -> dict:
        return {"dx" if backward else "out": _pool_torch(inputs, F.avg_pool2d, backward)}

    return reference


# ---- max-pool gradient with ties


def _routes_to_one_maximum(inputs, expected: np.ndarray, tol: Tolerance) -> Property:
    """``dx`` of max-pooling, with ties: equal to torch's where no tied window
    is involved; at the maxima of tied windows, explained by each such window
    sending its whole gradient to one of its maxima (checked per group of tied
    windows that share pixels, by search)."""
    x, dout, stride = inputs["x"], inputs["dout"], inputs["stride"]
    ph, pw = inputs["pool_height"], inputs["pool_width"]
    windows = _windows(x, ph, pw, stride)
    is_max = windows == windows.max(axis=(4, 5), keepdims=True)
    tied = is_max.sum(axis=(4, 5)) > 1

    # The pixels (flat indices into x) of the maxima of each tied window.
    choices, grads = [], []
    for a, b, i, j in zip(*np.nonzero(tied)):
        ks, ls = np.nonzero(is_max[a, b, i, j])
        choices.append([np.ravel_multi_index((a, b, i * stride + k, j * stride + l), x.shape) for k, l in zip(ks, ls)])
        grads.append(float(dout[a, b, i, j]))
    free = np.zeros(x.size, dtype=bool)
    for pixels in choices:
        free[pixels] = True
    free = free.reshape(x.shape)

    # What the windows with a single maximum send to each pixel.
    untied = _untied_contributions(windows, is_max, tied, dout, stride, x.shape)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))

    def check(actual: np.ndarray) -> str | None:
        verdict = compare("dx", actual, Expected(expected, free=free), tol)
        if not verdict.ok:
            return verdict.message
        got = actual.astype(np.float64).ravel()
        groups = _groups(choices)
        wrong = sum(not _explained(group, choices, grads, got, untied, scale, tol) for group in groups)
        if wrong:
            return (f"dx is wrong where a window has several equal maxima ({wrong} of {len(groups)} groups of such "
                    f"windows): each window sends its whole gradient to one of its maxima")
        return None

    return Property(check)


def _untied_contributions(windows, is_max, tied, dout, stride, shape) -> np.ndarray:
    """dx from the windows with a single maximum only (flat)."""
    n, c, ho, wo, ph, pw = windows.shape
    routed = is_max & ~tied[..., None, None]
    dx = np.zeros(shape)
    for k in range(ph):
        for l in range(pw):
            dx[:, :, k:k + stride * ho:stride, l:l + stride * wo:stride] += routed[..., k, l] * dout
    return dx.ravel()


def _groups(choices: list[list[int]]) -> list[list[int]]:
    """Tied windows (by number) grouped when they share a candidate pixel."""
    parent = list(range(len(choices)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner = {}
    for i, pixels in enumerate(choices):
        for p in pixels:
            if p in owner:
                parent[root(i)] = root(owner[p])
            else:
                owner[p] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(choices)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _explained(group: list[int], choices, grads, got: np.ndarray, untied: np.ndarray, scale: float,
               tol: Tolerance) -> bool:
    """Whether some choice of one maximum per window of ``group`` gives ``got``
    at the group's pixels (depth-first search, pruned at pixels whose windows
    are all decided)."""
    pixels = sorted({p for i in group for p in choices[i]})
    residual = {p: got[p] - untied[p] for p in pixels}
    allowed = {p: tol.atol * scale + tol.rtol * abs(got[p]) for p in pixels}
    pending = {p: sum(p in choices[i] for i in group) for p in pixels}

    def search(d: int) -> bool:
        if d == len(group):
            return True
        i = group[d]
        for p in choices[i]:
            pending_before = dict(pending)
            residual[p] -= grads[i]
            for q in choices[i]:
                pending[q] -= 1
            ok = all(pending[q] or abs(residual[q]) <= allowed[q] for q in choices[i]) and search(d + 1)
            residual[p] += grads[i]
            pending.update(pending_before)
            if ok:
                return True
        return False

    return search(0)


def _max_pool_backward_reference(inputs) -> dict:
    dx = _pool_torch(inputs, F.max_pool2d, backward=True)
    return {"dx": _routes_to_one_maximum(inputs, dx, MAX_POOL_TOLERANCE)}


MAX_POOL_TOLERANCE = Tolerance()
_POOL_ARGS = ("x", "pool_height", "pool_width", "stride")
_MAX_SCATTER = "dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += dwindows[..., k, l]"
_AVG_SCATTER = "dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += share"

MAX_POOL_FORWARD = GradedFunction(
    name="max_pool_forward",
    program=forward_program("max_pool", *_POOL_ARGS),
    cases=_pool_cases(backward=False),
    reference=_max_pool_forward_reference,
    speed=Speed(points=1, max_ratio=_POOL_MAX_RATIO, case=_POOL_TIMED),
    time_limit=_LOOP_TIME_LIMIT,
    bugs=(
        Bug(
            name="pool-stride-equals-window",
            hint="Your windows are as far apart as they are wide: you use the window size as the stride. The "
            "stride is its own argument; windows overlap when it is smaller than the window.",
            edits=(("windows = windows[:, :, ::stride, ::stride]",
                    "windows = windows[:, :, ::pool_height, ::pool_width]"),),
        ),
        Bug(
            name="max-pool-starts-at-zero",
            hint="Your maximum is never below 0: it starts from 0 instead of from the window's values. A window "
            "of negative values has a negative maximum.",
            edits=(("out = windows.max(axis=(4, 5))", "out = np.maximum(windows.max(axis=(4, 5)), 0.0)"),),
        ),
    ),
)

MAX_POOL_BACKWARD = GradedFunction(
    name="max_pool_backward",
    program=backward_program("max_pool", *_POOL_ARGS, grads=("dx",)),
    cases=_pool_cases(backward=True),
    reference=_max_pool_backward_reference,
    tolerance=MAX_POOL_TOLERANCE,
    speed=Speed(points=1, max_ratio=_POOL_MAX_RATIO, case=_POOL_TIMED),
    time_limit=_LOOP_TIME_LIMIT,
    bugs=(
        Bug(
            name="max-pool-gradient-to-every-maximum",
            hint="Your dx sends a window's gradient to every pixel that equals its maximum. When several pixels "
            "tie, the output still depends on one of them at a time: the window's whole gradient goes to a "
            "single one of the tied pixels (any one), not a copy to each.",
            edits=(("mask = (np.arange(ph * pw) == first_max[..., None]).reshape(windows.shape)",
                    "mask = windows == windows.max(axis=(4, 5), keepdims=True)"),),
        ),
        Bug(
            name="max-pool-overlaps-overwritten",
            hint="Your dx keeps only one window's contribution where windows overlap. A pixel that is the "
            "maximum of several overlapping windows receives the sum of their gradients: accumulate (+=), do "
            "not assign.",
            edits=((_MAX_SCATTER, _MAX_SCATTER.replace("+=", "=")),),
        ),
    ),
)

AVG_POOL_FORWARD = GradedFunction(
    name="avg_pool_forward",
    program=forward_program("avg_pool", *_POOL_ARGS),
    cases=_pool_cases(backward=False),
    reference=_avg_pool_reference(backward=False),
    bugs=(
        Bug(
            name="avg-pool-sum-not-mean",
            hint="Your output is the sum of each window, pool_height * pool_width times the average. Divide by "
            "the number of pixels in a window.",
            edits=((".mean(axis=(4, 5))", ".sum(axis=(4, 5))"),),
        ),
    ),
)

AVG_POOL_BACKWARD = GradedFunction(
    name="avg_pool_backward",
    program=backward_program("avg_pool", *_POOL_ARGS, grads=("dx",)),
    cases=_pool_cases(backward=True),
    reference=_avg_pool_reference(backward=True),
    bugs=(
        Bug(
            name="avg-pool-gradient-not-shared",
            hint="Your dx passes each window's whole gradient to every one of its pixels. Each pixel weighs "
            "1 / (pool_height * pool_width) in the window's mean, so it receives that share of dout.",
            edits=(("share = dout / (ph * pw)", "share = dout"),),
        ),
        Bug(
            name="avg-pool-overlaps-overwritten",
            hint="Your dx keeps only one window's share where windows overlap. A pixel in several overlapping "
            "windows receives a share from each of them: accumulate (+=), do not assign.",
            edits=((_AVG_SCATTER, _AVG_SCATTER.replace("+=", "=")),),
        ),
    ),
)


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
