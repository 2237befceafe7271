"""Tools for the public checks that students run (``dlgrade check``): gradient
checking by central differences, as in the lectures."""

from __future__ import annotations

from typing import Callable

import numpy as np

# Central differences need a step the function's precision can resolve. float32
# has about 7 significant digits: rounding noise divided by the step swamps small
# gradient elements, so float32 is held to a relative error over the whole
# gradient (its norm) rather than element by element.
STEP = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-2}
TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}


def numerical_gradient(f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray | float = 1.0,
                       h: float = 1e-6) -> np.ndarray:
    """d(sum(f() * dout)) / dx by central differences, changing ``x`` in place
    (and restoring it). ``f`` reads ``x``; ``dout`` is the upstream gradient."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        saved = x[i]
        x[i] = saved + h
        plus = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        x[i] = saved - h
        minus = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        x[i] = saved
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8), elementwise: for float64 gradients,
    below 1e-6 is a match and above 1e-3 a bug."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8))) if a.size else 0.0


def assert_gradient(f: Callable[[], np.ndarray], x: np.ndarray, analytic, dout: np.ndarray | float = 1.0,
                    name: str = "dx") -> None:
    """Assert that ``analytic`` is d(sum(f() * dout))/dx, with a step and a
    tolerance that suit the precision ``f`` computes in (float64 or float32)."""
    analytic = np.asarray(analytic)
    assert analytic.size == np.size(x), f"{name} should have shape {np.shape(x)}; got {analytic.shape}"
    precision = np.dtype(np.float32) if np.asarray(f()).dtype == np.float32 else np.dtype(np.float64)
    numeric = numerical_gradient(f, x, dout, STEP[precision])
    analytic = analytic.reshape(np.shape(x)).astype(np.float64)
    if precision == np.float32:
        err = float(np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-8))
    else:
        err = relative_error(analytic, numeric)
    assert err < TOLERANCE[precision], (
        f"{name} differs from the numerical gradient (relative error {err:.2e}, "
        f"tolerance {TOLERANCE[precision]:g} for {precision})")
