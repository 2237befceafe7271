"""Tools for the public checks that students run (``dlgrade check``): numerical
gradients by central differences, as in the lectures' gradient checking."""

from __future__ import annotations

from typing import Callable

import numpy as np


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
    """max |a - b| / max(|a| + |b|): below 1e-6 is a match, above 1e-3 a bug."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {b.shape}")
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0
