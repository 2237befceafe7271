"""Initialisers that scale numpy's standard draws: rng.random mapped onto
[-limit, limit], rng.standard_normal times the standard deviation."""
import math

import numpy as np

BUG = ("he_uniform", "math.sqrt(6.0 / fi)", "math.sqrt(2.0 / fi)")


def xavier_uniform(shape, rng, gain=1.0):
    fi, fo = fan_in_and_out(shape)
    limit = gain * math.sqrt(6.0 / (fi + fo))
    return limit * (2.0 * rng.random(shape) - 1.0)


def xavier_normal(shape, rng, gain=1.0):
    fi, fo = fan_in_and_out(shape)
    return gain * math.sqrt(2.0 / (fi + fo)) * rng.standard_normal(shape)


def he_uniform(shape, rng):
    fi = fan_in_and_out(shape)[0]
    limit = math.sqrt(6.0 / fi)
    return limit * (2.0 * rng.random(shape) - 1.0)


def he_normal(shape, rng):
    fi = fan_in_and_out(shape)[0]
    return math.sqrt(2.0 / fi) * rng.standard_normal(shape)
