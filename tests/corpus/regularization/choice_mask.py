"""Dropout only: the mask from rng.choice([0, 1]) with probabilities (p, 1 - p)
(an int array), the scale applied separately; eval mode returns x itself."""
import numpy as np

BUG = ("dropout_forward", "p=[p, 1 - p]", "p=[1 - p, p]")


def dropout_forward(x, p, train, rng):
    if not train:
        return x, (None, p)
    mask = rng.choice([0, 1], size=x.shape, p=[p, 1 - p])
    return x * mask / (1 - p), (mask, p)


def dropout_backward(dout, cache):
    mask, p = cache
    return dout if mask is None else dout * mask / (1 - p)
