"""Reusable property checks: outputs judged by what makes them right rather
than by one reference value, for outputs that are not unique (a max-pool's
gradient where a window's maximum is tied, a dropout mask, random weights) or not to be shown
(the accuracy of a trained model, against labels the child never sees).

Each returns a ``Property`` (``grader.spec``); what it says is wrong never
reveals a hidden value. Closeness is judged by the one tolerance of
``grader/compare.py``, never by a formula of its own.
"""

from __future__ import annotations

import enum
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


# --------------------------------------------------------------------------- float arrays


def _finite_floats(out: np.ndarray, shape: tuple[int, ...], name: str) -> str | None:
    """What is wrong with ``out`` as a finite float array of ``shape``, if anything."""
    if out.shape != tuple(shape):
        return f"{name} has shape {out.shape}; expected shape {tuple(shape)}"
    if out.dtype.kind != "f":
        return f"{name} has dtype {out.dtype}; a float32 or float64 array is expected"
    if not np.all(np.isfinite(out)):
        return f"{name} contains NaN or infinite values"
    return None


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
    if problem := _finite_floats(out, x.shape, name):
        return problem
    got = out.astype(np.float64)
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
        # Units whose input was 0 were neither, and a dropped unit whose x / (1 - p) is within the tolerance of 0
        # is both: either gradient is accepted there.
        expected = Expected(np.where(kept, dout / (1.0 - p), 0.0), free=~(kept ^ dropped))
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


# --------------------------------------------------------------------------- random draws


class Distribution(enum.Enum):
    """A centred distribution that values are drawn from, given by its scale:
    the limit of a uniform one, the standard deviation of a normal one."""

    UNIFORM = "uniform"  # on [-scale, scale]
    NORMAL = "normal"  # N(0, scale^2)

    def variance(self, scale: float) -> float:
        return scale ** 2 / 3 if self is Distribution.UNIFORM else scale ** 2

    @property
    def second_moment_spread(self) -> float:
        """Var(v^2) / Var(v)^2 of a draw v: how widely a sample's mean square spreads around the variance."""
        return 4 / 5 if self is Distribution.UNIFORM else 2.0


# A sample is judged on at least MIN_DRAWS values, where the probability that a correct draw fails it stays below
# FALSE_FAIL: its variance (about its own mean) within SIGMAS standard errors of the target's and its mean within
# SIGMAS of 0, together below 3e-7 (Bernstein's inequality on uniform values' squares, Chernoff's bound on a
# normal's chi-square, less the margin the sample mean's square takes, at most SIGMAS^2 / MIN_DRAWS of the
# variance while the mean passes; the mean of uniform values is sub-Gaussian with their own variance, a normal
# sample's is normal), and its shape at FALSE_FAIL / 2 (a uniform sample's largest value near the limit, a
# normal sample's count beyond TAIL standard deviations by the exact binomial test).
MIN_DRAWS = 10_000
TAIL = 2.0  # a normal value lies beyond TAIL standard deviations with probability erfc(TAIL / sqrt(2)), 4.6%


def drawn_from(shape: tuple[int, ...], distribution: Distribution, scale: float, target: str,
               name: str = "weights") -> Property:
    """An array of ``shape`` drawn at random from ``distribution`` with
    ``scale`` (``target`` names it in messages, e.g. torch's initialiser),
    at FALSE_FAIL per case; the output ``again``, drawn by the same call from
    a generator seeded alike, must be the same (the numbers come from the
    generator passed in)."""
    size = math.prod(shape)
    assert size >= MIN_DRAWS, f"a sample of {size} values is too small to judge at a false-fail rate of {FALSE_FAIL:g}"
    variance = distribution.variance(scale)
    spread = SIGMAS * math.sqrt(distribution.second_moment_spread / size)  # of the mean square over the variance
    if distribution is Distribution.UNIFORM:
        # P(no |value| within reach * scale of the limit) = (1 - reach)^size = FALSE_FAIL / 2.
        reach = 1.0 - (FALSE_FAIL / 2) ** (1.0 / size)
        limit = scale + float(allowed_error(np.array(scale), TOLERANCE))
    else:
        beyond = math.erfc(TAIL / math.sqrt(2.0))
        low, high = _binomial_bounds(size, beyond, FALSE_FAIL / 2)

    def check(actual: np.ndarray, again: np.ndarray | None) -> str | None:
        if problem := _finite_floats(actual, shape, name):
            return problem
        if again is None or not np.array_equal(np.asarray(again), actual):
            return (f"{name} differs between two calls given generators seeded alike: draw every number from the "
                    f"rng passed in (not from np.random's global functions or a generator of your own)")
        got = actual.astype(np.float64).ravel()
        # The variance first, about the sample's own mean: a wrong spread then reads as one, not as a wrong mean.
        ratio = float(np.var(got)) / variance
        if abs(ratio - 1.0) > spread:
            return (f"the variance of {name} is {ratio:.3g} times the variance of {target} for this shape (a "
                    f"sample of {size} values stays within {spread:.1%} of it): check the fans and the formula")
        errors = abs(float(np.mean(got))) / math.sqrt(variance / size)
        if errors > SIGMAS:
            return (f"the mean of {name} is {errors:.0f} standard errors away from 0; a centred distribution's "
                    f"stays within {SIGMAS:g} of them")
        if distribution is Distribution.UNIFORM:
            magnitude = np.abs(got)
            if outside := int(np.sum(magnitude > limit)):
                return (f"{outside} of the {size} values of {name} lie outside the uniform distribution's range "
                        f"[-limit, limit] of {target}: is it drawn from a uniform distribution?")
            if np.max(magnitude) < scale * (1.0 - reach):
                return (f"no value of {name} comes within {reach:.2%} of the limit of {target}; {size} uniform "
                        f"values do but with probability {FALSE_FAIL / 2:g}")
            return None
        count = int(np.sum(np.abs(got) > TAIL * scale))
        if not low <= count <= high:
            return (f"{count} of the {size} values of {name} lie beyond {TAIL:g} standard deviations of {target}; "
                    f"a normal distribution puts {beyond:.1%} of its values there (a count outside [{low}, {high}] "
                    f"has probability below {FALSE_FAIL / 2:g}): is it drawn from a normal distribution?")
        return None

    return Property(check, given=("again",))
