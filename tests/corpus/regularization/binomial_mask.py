"""The mask from rng.binomial(1, 1 - p), the scaled mask cached; the compact
backward formula with the inverse standard deviation."""
import numpy as np

BUG = ("batchnorm_backward", "- xhat * np.sum(dxhat * xhat, axis=0)", "")


def dropout_forward(x, p, train, rng):
    if not train:
        return x, None
    mask = rng.binomial(1, 1 - p, size=x.shape) / (1 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout if cache is None else dout * cache


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        mean, var = x.mean(0), x.var(0)
        n = len(x)
        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mean
        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * var * n / (n - 1)
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, inv_std, gamma)


def batchnorm_backward(dout, cache):
    xhat, inv_std, gamma = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dx = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
