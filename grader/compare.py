"""Compare a student's output with the reference, and say what is wrong
without showing the expected values: the one tolerance function
(``allowed_error``) and the verdicts built on it.

Numpy only, below every other module of the grader: the declarations
(``grader.spec``) re-export ``Tolerance`` and ``Expected`` from here, and the
property checks of the suites use ``matches``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Judged(Protocol):
    """How a graded output is judged, whatever it is judged against (a
    reference value, or a check such as a dropout's keep rate): the engine
    asks every output the same question."""

    def problem(self, name: str, actual: np.ndarray, outputs: Mapping[str, np.ndarray],
                tol: "Tolerance") -> str | None:
        """What is wrong with ``actual`` (the output ``name``; ``outputs``: all
        the program's outputs), without revealing hidden values; None when right."""


@dataclass(frozen=True)
class Tolerance:
    """``|student - expected| <= atol * scale + rtol * |expected|`` elementwise, where
    ``scale = max(1, max|expected|)``.

    Scaling ``atol`` by the output's magnitude lets a float32 implementation
    pass on sums with cancellation (e.g. ``x.T @ dout`` with entries near 1000),
    while catalogued bugs are off by O(1) relative error and fail by orders of
    magnitude."""

    rtol: float = 1e-4
    atol: float = 1e-5


@dataclass(frozen=True)
class Expected:
    """A reference output, with positions where any value is accepted.

    ``free`` marks non-differentiable points (e.g. ReLU's gradient at exactly
    0), where torch's convention is one valid choice among several.
    ``departs`` is for a trajectory (axis 0: the steps): given the first step
    at which the student's differs, what the feedback adds (Adam wrong from
    step 1 points at the step counter, later at the state carried over)."""

    value: np.ndarray
    free: np.ndarray | None = None
    departs: Callable[[int], str] | None = None

    def problem(self, name: str, actual: np.ndarray, outputs: Mapping[str, np.ndarray],
                tol: Tolerance) -> str | None:
        return compare(name, actual, self, tol).message or None



@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""


def allowed_error(expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return tol.atol * scale + tol.rtol * np.abs(expected)


def _fit_shape(actual: np.ndarray, expected: np.ndarray) -> np.ndarray | None:
    """The student's array in the expected shape, or None when it differs.
    A scalar may come back as any one-element array."""
    if actual.shape == expected.shape:
        return actual
    if expected.ndim == 0 and actual.size == 1:
        return actual.reshape(())
    return None


def compare(name: str, actual: np.ndarray, expected: Expected, tol: Tolerance) -> Verdict:
    """Whether ``actual`` is within tolerance of the expected value, and if
    not, what is wrong. Errors are said as powers of ten: the student knows
    their own value at the worst index, so the error's digits would give the
    expected value there (all of it, for an output of zeros)."""
    integral = np.asarray(expected.value).dtype.kind in "iub"  # counts, sizes, labels: ints or floats will do
    ref = np.asarray(expected.value, dtype=np.float64)
    if integral and actual.dtype.kind not in "iubf":
        return Verdict(False, f"{name} has dtype {actual.dtype}; a numeric array is expected")
    if not integral and (actual.dtype.kind != "f" or actual.dtype.itemsize < 4):
        return Verdict(False, f"{name} has dtype {actual.dtype}; a float32 or float64 array is expected")
    fitted = _fit_shape(actual, ref)
    if fitted is None:
        return Verdict(False, f"{name} has shape {actual.shape}; expected shape {ref.shape}")
    got = fitted.astype(np.float64)
    checked = np.ones(ref.shape, dtype=bool) if expected.free is None else ~expected.free

    nonfinite = ~np.isfinite(got) & checked
    if nonfinite.any():
        n_nan, n_inf = int(np.isnan(got[nonfinite]).sum()), int(np.isinf(got[nonfinite]).sum())
        first = _index(np.argwhere(nonfinite)[0])
        return Verdict(False, f"{name} contains {n_nan} NaN and {n_inf} infinite values (first at {first}) "
                              f"where finite values are expected: look for overflow in exp or log(0)"
                              + _departure(expected, nonfinite))

    error = np.where(checked, np.abs(got - ref), 0.0)
    allowed = allowed_error(ref, tol)
    wrong = error > allowed
    if not wrong.any():
        return Verdict(True)
    with np.errstate(divide="ignore", invalid="ignore"):  # a tolerance of zero (bit identity) allows no error
        worst = np.unravel_index(np.argmax(np.where(wrong, error / allowed, 0.0)), ref.shape)
    wrong_nonzero = wrong & (ref != 0)
    relative = ""
    if wrong_nonzero.any():
        with np.errstate(over="ignore"):  # an error relative to a subnormal value may overflow: inf is told as such
            relative = f", max rel error {_decade(np.max(error[wrong_nonzero] / np.abs(ref[wrong_nonzero])))}"
    lines = [
        f"{name} is wrong at {int(wrong.sum())} of {ref.size} elements ({wrong.mean():.0%}): "
        f"max abs error {_decade(error.max())}{relative}, worst at {_index(worst)} "
        f"(tolerance: rtol {tol.rtol:g}, atol {tol.atol:g} x scale)"
    ]
    lines += _patterns(got, ref, checked, tol)
    return Verdict(False, "\n".join(lines) + _departure(expected, wrong))


def _departure(expected: Expected, wrong: np.ndarray) -> str:
    """A trajectory's note on the first step (index along axis 0) that is wrong."""
    if expected.departs is None or wrong.ndim == 0:
        return ""
    return "\n" + expected.departs(int(np.argmax(wrong.reshape(len(wrong), -1).any(axis=1))))


def _decade(error: float) -> str:
    """``~1e-3``: the power of ten nearest to a (positive) error; an error
    relative to a subnormal expected value can overflow to inf."""
    if not np.isfinite(error):
        return "above 1e308"
    return f"~1e{int(np.floor(np.log10(error) + 0.5))}"


def matches(actual: np.ndarray, candidate: np.ndarray, tol: Tolerance) -> bool:
    """Whether ``actual`` equals ``candidate`` (a buggy version's output) within
    tolerance, counting NaN and infinities at the same places as equal."""
    candidate = np.asarray(candidate, dtype=np.float64)
    if actual.dtype.kind not in "fiub":
        return False
    fitted = _fit_shape(actual, candidate)
    if fitted is None:
        return False
    got = fitted.astype(np.float64)
    finite = np.isfinite(candidate)
    if not np.array_equal(np.isfinite(got), finite):
        return False
    if not np.array_equal(got[~finite], candidate[~finite], equal_nan=True):
        return False
    return bool(np.all(np.abs(got[finite] - candidate[finite]) <= allowed_error(candidate[finite], tol)))


def _patterns(got: np.ndarray, ref: np.ndarray, checked: np.ndarray, tol: Tolerance) -> list[str]:
    """Shape-level clues that do not reveal values: a constant factor, a sign,
    a transposition.

    A factor or a sign is told only where the expected values differ from
    each other (or the factor is 0): the student knows their own output, and
    one constant output over a constant expected one would give the expected
    value away as output / factor."""
    clues = []
    g, r = got[checked], ref[checked]
    nonzero = np.abs(r) > 1e-12
    if nonzero.sum() >= 2:
        ratios = g[nonzero] / r[nonzero]
        factor = float(np.median(ratios))
        varies = np.ptp(r[nonzero]) > 1e-3 * np.max(np.abs(r[nonzero]))
        if np.all(np.abs(ratios - factor) <= 1e-3 * max(1.0, abs(factor))) and abs(factor - 1) > 1e-3 and \
                (varies or factor == 0):
            if abs(factor + 1) <= 1e-3:
                clues.append("clue: every element has the opposite sign")
            else:
                clues.append(f"clue: every element is {factor:.4g} times the expected value "
                             "(a missing or extra factor?)")
    if ref.ndim == 2 and ref.shape[0] == ref.shape[1] and ref.shape[0] > 1 and checked.all():
        if np.all(np.abs(got.T - ref) <= allowed_error(ref, tol)):
            clues.append("clue: the result is the transpose of the expected one")
    return clues


def _index(idx) -> str:
    return "index (" + ", ".join(str(int(i)) for i in idx) + ")"


ERROR_MAP_SIDE = 64  # elements on the longer side of an error map at most: a picture, not a copy of the output


def error_map(name: str, actual: np.ndarray, expected: Judged, tol: Tolerance) -> dict | None:
    """Where a failed array output of 2+ dimensions is wrong, for the HTML report.

    The 2-D plane (over the leading axes) holding the worst element; each wrong
    element's error rounded to its power of ten (a NaN or infinite output counts
    as infinitely wrong), 0 where the element is within tolerance; at most
    ERROR_MAP_SIDE on a side, as block maxima so that no wrong element vanishes.
    Decades rather than errors: even the map of an all-zero output (whose error
    is the expected value) tells orders of magnitude, never values. None when
    there is nothing to draw (right, another shape, a Property, fewer than 2
    dimensions)."""
    if not isinstance(expected, Expected) or np.ndim(expected.value) < 2 or actual.dtype.kind not in "fiub":
        return None
    ref = np.asarray(expected.value, dtype=np.float64)
    fitted = _fit_shape(actual, ref)
    if fitted is None:
        return None
    got = fitted.astype(np.float64)
    checked = np.ones(ref.shape, dtype=bool) if expected.free is None else ~expected.free
    with np.errstate(invalid="ignore"):
        error = np.where(checked, np.where(np.isfinite(got), np.abs(got - ref), np.inf), 0.0)
        allowed = allowed_error(ref, tol)
        wrong = error > allowed
        if not wrong.any():
            return None
        leading = np.unravel_index(np.argmax(np.where(wrong, error / allowed, 0.0)), ref.shape)[:-2]
    plane = np.where(wrong, error, 0.0)[leading]
    decades = np.zeros_like(plane)
    np.power(10.0, np.round(np.log10(plane, where=plane > 0, out=np.zeros_like(plane))), where=plane > 0, out=decades)
    block = -(-max(plane.shape) // ERROR_MAP_SIDE)
    rows, cols = -(-plane.shape[0] // block), -(-plane.shape[1] // block)
    padded = np.zeros((rows * block, cols * block))
    padded[:plane.shape[0], :plane.shape[1]] = decades
    return {
        "output": name,
        "plane": f"{name}[{', '.join(str(int(i)) for i in leading)}, :, :]" if leading else name,
        "shape": tuple(ref.shape),
        "block": block,
        "wrong": int(wrong.sum()),
        "size": int(ref.size),
        "map": padded.reshape(rows, block, cols, block).max(axis=(1, 3)),
    }
