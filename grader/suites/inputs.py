"""Random inputs for the suites' cases.

Every float is rounded to a float32-representable value (still float64): a
student who casts the inputs to float32 then computes from exactly the
grader's inputs, which matters for values near ±1000 (float32's spacing there
is 6e-5) and keeps ties between equal values through the cast.
"""

from __future__ import annotations

import numpy as np

from grader.spec import float32_exact


def scalar32(x: float) -> float:
    return float(np.float32(x))


def uniform32(rng: np.random.Generator, low: float, high: float) -> float:
    return scalar32(rng.uniform(low, high))


def normal(rng: np.random.Generator, shape, scale: float | np.ndarray = 1.0,
           shift: float | np.ndarray = 0.0) -> np.ndarray:
    return float32_exact(shift + scale * rng.standard_normal(shape))


def signs(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def around_1000(rng: np.random.Generator, shape) -> np.ndarray:
    """Both signs, magnitudes between 900 and 1100: where a naive exp overflows."""
    return float32_exact(signs(rng, shape) * rng.uniform(900.0, 1100.0, size=shape))


def with_zeros(rng: np.random.Generator, x: np.ndarray, fraction: float = 0.3) -> np.ndarray:
    """A copy of ``x`` with about ``fraction`` of its entries (at least one) set to exactly 0."""
    x = x.copy()
    zero = rng.random(x.shape) < fraction
    zero.flat[rng.integers(x.size)] = True
    x[zero] = 0.0
    return x


def seed(rng: np.random.Generator) -> int:
    """A seed for a generator the child makes (``builtin:rng``)."""
    return int(rng.integers(0, 2**31 - 1))


def pick(rng: np.random.Generator, values: tuple[float, ...]) -> float:
    return float(values[rng.integers(len(values))])
