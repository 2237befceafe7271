"""Reusable property checks: outputs judged by what makes them right rather
than by one reference value, for outputs that are not unique (a max-pool's
gradient where a window's maximum is tied, a dropout mask) or not to be shown
(the accuracy of a trained model, against labels the child never sees).

Each returns a ``Property`` (``grader.spec``); what it says is wrong never
reveals a hidden value. Closeness is judged by the one tolerance of
``grader/compare.py``, never by a formula of its own.
"""

from __future__ import annotations

import math

import numpy as np

# compare's elementwise tolerance: the one formula, for the checks that judge element by element.
from grader.compare import allowed_error, compare
from grader.spec import Blocked, Expected, Property, Tolerance

# --------------------------------------------------------------------------- max-pooling with ties


def pooling_windows(x: np.ndarray, ph: int, pw: int, stride: int) -> np.ndarray:
    """``windows[n, c, i, j, k, l] = x[n, c, i * stride + k, j * stride + l]``."""
    return np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]


def routes_to_one_maximum(inputs, expected: np.ndarray, tol: Tolerance) -> Property:
    """``dx`` of max-pooling, with ties: equal to torch's where no tied window
    is involved; at the maxima of tied windows, explained by each such window
    sending its whole gradient to one of its maxima (checked per group of tied
    windows that share pixels, by search)."""
    x, dout, stride = inputs["x"], inputs["dout"], inputs["stride"]
    ph, pw = inputs["pool_height"], inputs["pool_width"]
    windows = pooling_windows(x, ph, pw, stride)
    is_max = windows == windows.max(axis=(4, 5), keepdims=True)
    tied = is_max.sum(axis=(4, 5)) > 1

    # The pixels (flat indices into x) of the maxima of each tied window.
    choices, grads = [], []
    for a, b, i, j in zip(*np.nonzero(tied)):
        rows, cols = np.nonzero(is_max[a, b, i, j])  # within the window
        choices.append([np.ravel_multi_index((a, b, i * stride + r, j * stride + s), x.shape)
                        for r, s in zip(rows, cols)])
        grads.append(float(dout[a, b, i, j]))
    free = np.zeros(x.size, dtype=bool)
    for pixels in choices:
        free[pixels] = True
    free = free.reshape(x.shape)

    # What the windows with a single maximum send to each pixel.
    untied = _untied_contributions(windows, is_max, tied, dout, stride, x.shape)
    allowed = allowed_error(expected, tol).ravel()

    def check(actual: np.ndarray) -> str | None:
        verdict = compare("dx", actual, Expected(expected, free=free), tol)
        if not verdict.ok:
            return verdict.message
        got = actual.astype(np.float64).ravel()
        groups = _groups(choices)
        wrong = sum(not _explained(group, choices, grads, got, untied, allowed) for group in groups)
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
    for r in range(ph):
        for s in range(pw):
            dx[:, :, r:r + stride * ho:stride, s:s + stride * wo:stride] += routed[..., r, s] * dout
    return dx.ravel()


def _groups(choices: list[list[int]]) -> list[list[int]]:
    """Tied windows (by number) grouped when they share a candidate pixel."""
    parent = list(range(len(choices)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}  # pixel -> the first tied window it is a maximum of
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


def _explained(group: list[int], choices, grads, got: np.ndarray, untied: np.ndarray, allowed: np.ndarray) -> bool:
    """Whether some choice of one maximum per window of ``group`` gives ``got``
    at the group's pixels (depth-first search, pruned at pixels whose windows
    are all decided; ``allowed``: the tolerance at each pixel, as compare's)."""
    pixels = sorted({p for i in group for p in choices[i]})
    residual = {p: got[p] - untied[p] for p in pixels}
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


# --------------------------------------------------------------------------- dropout

TOLERANCE = Tolerance()  # a kept unit's and the gradient's: the default
# The probability that a correct dropout fails a case, at most: the binomial test on the number of units dropped
# rejects a count with FALSE_FAIL / 2 of probability on each side, and the large cases' further checks add less
# than 1e-8 (SIGMAS: 2e-9 for a normal sum; MAX_DISPERSION: a variance ratio of 3 over 39 or 59 degrees of freedom,
# below 1e-9 for a chi-square).
FALSE_FAIL = 1e-6
SIGMAS = 6.0
# The spread of the drop counts per row or column over a binomial's: about 1 +- 0.25 for a correct mask.
MAX_DISPERSION = 3.0


def _binomial_bounds(n: int, p: float, alpha: float) -> tuple[int, int]:
    """The fewest and most of ``n`` units that may be dropped with probability
    ``p`` each: counts outside ``[low, high]`` have probability below
    ``alpha / 2`` on each side (an exact binomial test, two-sided)."""
    if p == 0.0:
        return 0, 0
    k = np.arange(n + 1)
    log_pmf = (np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k])
               + k * math.log(p) + (n - k) * math.log1p(-p))
    pmf = np.exp(log_pmf)
    below, above = np.cumsum(pmf), np.cumsum(pmf[::-1])[::-1]  # P(K <= k), P(K >= k)
    return int(np.argmax(below >= alpha / 2)), int(n - np.argmax(above[::-1] >= alpha / 2))


def _kept_mask(out: np.ndarray, x: np.ndarray, p: float, name: str) -> tuple[np.ndarray, np.ndarray] | str:
    """Which units a train-mode output kept and which it dropped, or what is
    wrong with it: every unit must be 0 or ``x / (1 - p)``. A unit whose input
    is 0 is neither told kept nor dropped."""
    if out.shape != x.shape:
        return f"{name} has shape {out.shape}; expected shape {x.shape}"
    if out.dtype.kind != "f":
        return f"{name} has dtype {out.dtype}; a float32 or float64 array is expected"
    got = out.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return f"{name} contains NaN or infinite values"
    scaled = x / (1.0 - p)
    allowed = allowed_error(scaled, TOLERANCE)
    informative = x != 0
    dropped, kept = (got == 0) & informative, (np.abs(got - scaled) <= allowed) & informative
    bad = int(np.sum(informative & ~dropped & ~kept) + np.sum(~informative & (got != 0)))
    if bad:
        return (f"{name} has {bad} of {x.size} units that are neither 0 (dropped) nor x / (1 - p) (kept and "
                f"rescaled)")
    return kept, dropped


def valid_dropout(x: np.ndarray, p: float, independence: bool) -> Property:
    """Any valid inverted dropout of ``x``: every unit 0 or ``x / (1 - p)``,
    and the number dropped consistent with ``p`` (``_binomial_bounds`` at
    FALSE_FAIL). With ``independence`` (the large cases) also: the drop counts
    per row and per column spread as independent units' do, and the sum is
    kept within SIGMAS of its standard deviation."""
    n = int(np.sum(x != 0))
    low, high = _binomial_bounds(n, p, FALSE_FAIL)

    def check(actual: np.ndarray) -> str | None:
        judged = _kept_mask(actual, x, p, "out")
        if isinstance(judged, str):
            return judged
        _, dropped = judged
        count = int(dropped.sum())
        if not low <= count <= high:
            return (f"out drops {count} of its {n} units; with p = {p:g} a count outside [{low}, {high}] has "
                    f"probability below {FALSE_FAIL:g}: each unit is dropped with probability p, kept with 1 - p")
        if not independence:
            return None
        # A mask shared by a whole row or column spreads the counts per row (column) far more than a binomial's.
        grid = dropped.reshape(x.shape[0], -1)
        for axis in (0, 1):
            counts = grid.sum(axis=axis)
            if np.var(counts) > MAX_DISPERSION * grid.shape[axis] * p * (1.0 - p):
                return ("out drops whole rows or columns together more often than chance allows: draw one "
                        "independent number per unit, with the shape of x")
        # E[sum] = sum(x); Var[sum] = sum(x^2) * p / (1 - p).
        spread = SIGMAS * np.sqrt(np.sum(x ** 2) * p / (1.0 - p))
        if abs(np.sum(actual.astype(np.float64)) - np.sum(x)) > spread:
            return ("the mean of out is far from the mean of x; inverted dropout keeps it the same on average: is "
                    "the mask independent of the values?")
        return None

    return Property(check)


def backward_through_own_mask(inputs) -> Property:
    """``dx = dout / (1 - p)`` where the student's own forward (its output
    ``out``, sent back beside ``dx``) kept a unit, 0 where it dropped one."""
    x, p, dout = inputs["x"], inputs["p"], inputs["dout"]

    def check(dx: np.ndarray, out: np.ndarray | None) -> str | None:
        judged = "its output was not returned" if out is None else _kept_mask(out, x, p, "its output")
        if isinstance(judged, str):
            return Blocked("dropout_forward", judged)
        kept, dropped = judged
        # Units whose input was 0 were neither: either gradient is accepted there.
        expected = Expected(np.where(kept, dout / (1.0 - p), 0.0), free=~(kept | dropped))
        return compare("dx", dx, expected, TOLERANCE).message or None

    return Property(check, given=("out",))


# --------------------------------------------------------------------------- trained models


def accuracy(labels: np.ndarray, threshold: float, task: str, predicted: str, advice: str) -> Property:
    """Labels right on at least ``threshold`` of the ``task``'s test examples, whose ``labels`` the child never
    sees; ``predicted``: how the labels came (the message's subject), ``advice``: what to check when too few."""

    def check(actual: np.ndarray) -> str | None:
        actual = np.asarray(actual)
        if actual.shape != labels.shape:
            return f"labels has shape {actual.shape}; expected shape {labels.shape} (one class per test example)"
        if not np.all(np.isfinite(actual)):
            return "labels contains NaN or infinite values"
        right = float(np.mean(actual == labels))
        if right < threshold:
            return (f"{predicted} gets {right:.0%} of the {len(labels)} {task} test examples right; "
                    f"at least {threshold:.0%} is required. {advice}")
        return None

    return Property(check)
