"""Parameter counts as the sizes of the weight and bias arrays a layer would
hold (np.prod of their shapes), returned as numpy integers."""
import numpy as np

BUG = ("linear_params", "np.prod((M,)) if bias else 0", "0")


def conv_params(C, F, HH, WW, bias=True):
    weights = np.prod((F, C, HH, WW), dtype=np.int64)
    biases = np.prod((F,), dtype=np.int64) if bias else 0
    return weights + biases


def linear_params(D, M, bias=True):
    weights = np.prod((D, M), dtype=np.int64)
    return weights + (np.prod((M,)) if bias else 0)
