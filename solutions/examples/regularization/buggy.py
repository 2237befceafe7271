"""Assignment 6, a plausible first attempt with some classic mistakes."""

import numpy as np


def dropout_forward(x, p, train, rng):
    if train:
        mask = (rng.random(x.shape) >= p) / (1 - p)
        out = x * mask
    else:
        mask = None
        out = x * (1 - p)  # BUG: dropout-scaled-at-eval
    return out, (mask, p)


def dropout_backward(dout, cache):
    mask, p = cache
    if mask is None:
        return dout
    return dout * mask / (1 - p)  # BUG: dropout-backward-scaled-twice


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        n = len(x)
        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mean  # BUG: bn-momentum-swapped
        state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var * n / (n - 1)
    else:
        mean = state["running_mean"]
        var = state["running_var"]
    sigma = np.sqrt(var) + eps  # BUG: bn-eps-outside-sqrt
    xn = (x - mean) / sigma
    return gamma * xn + beta, (xn, sigma, gamma)


def batchnorm_backward(dout, cache):
    xn, sigma, gamma = cache
    dgamma = (dout * xn).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx = dout * gamma / sigma  # BUG: bn-backward-mean-var-constant
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mean.flatten()
        new_var = var.flatten()  # BUG: spatial-bn-running-var-biased
        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * new_var
    else:
        mean = state["running_mean"].reshape(1, -1, 1, 1)
        var = state["running_var"].reshape(1, -1, 1, 1)
    xn = (x - mean) / np.sqrt(var + eps)
    return gamma * xn + beta, (xn, var, eps, gamma)  # BUG: spatial-bn-gamma-wrong-axis


def spatial_batchnorm_backward(dout, cache):
    xn, var, eps, gamma = cache
    n = dout.shape[0]  # BUG: spatial-bn-backward-count-n
    g = dout * gamma.reshape(1, -1, 1, 1)
    dmean = g.sum(axis=(0, 2, 3), keepdims=True) / n
    dvar = (g * xn).sum(axis=(0, 2, 3), keepdims=True) / n
    dx = (g - dmean - xn * dvar) / np.sqrt(var + eps)
    return dx, (dout * xn).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
