"""One helper draws every initialiser's weights from a variance and an enum
of distributions; the fans come back as a small named tuple."""
import enum
import math
from collections import namedtuple

BUG = ("he_normal", "rng.normal(0.0, math.sqrt(variance), size=shape)", "rng.normal(0.0, variance, size=shape)")

Fans = namedtuple("Fans", "fan_in fan_out")


class Kind(enum.Enum):
    UNIFORM = "uniform"
    NORMAL = "normal"


def fan_in_and_out(shape):
    if len(shape) == 2:
        return Fans(*shape)
    receptive = math.prod(shape[2:])
    return Fans(shape[1] * receptive, shape[0] * receptive)


def _draw(shape, rng, variance, kind):
    if kind is Kind.UNIFORM:
        bound = math.sqrt(3.0 * variance)  # U(-b, b) has variance b^2 / 3
        return rng.uniform(low=-bound, high=bound, size=shape)
    return rng.normal(0.0, math.sqrt(variance), size=shape)


def xavier_uniform(shape, rng, gain=1.0):
    fans = fan_in_and_out(shape)
    return _draw(shape, rng, gain ** 2 * 2.0 / (fans.fan_in + fans.fan_out), Kind.UNIFORM)


def xavier_normal(shape, rng, gain=1.0):
    fans = fan_in_and_out(shape)
    return _draw(shape, rng, gain ** 2 * 2.0 / (fans.fan_in + fans.fan_out), Kind.NORMAL)


def he_uniform(shape, rng):
    return _draw(shape, rng, 2.0 / fan_in_and_out(shape).fan_in, Kind.UNIFORM)


def he_normal(shape, rng):
    return _draw(shape, rng, 2.0 / fan_in_and_out(shape).fan_in, Kind.NORMAL)
