"""Spatial batch norm whose running statistics are updated in the caller's
arrays (*=, +=), with a dict for a cache."""
import numpy as np

BUG = ("spatial_batchnorm_forward", "rm *= 1 - momentum", "rm *= momentum")


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        m = x.shape[0] * x.shape[2] * x.shape[3]
        mu = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3))
        rm, rv = state["running_mean"], state["running_var"]
        rm *= 1 - momentum
        rm += momentum * mu
        rv *= 1 - momentum
        rv += momentum * var * m / (m - 1)
    else:
        mu = state["running_mean"]
        var = state["running_var"]
    shape = (1, -1, 1, 1)
    xhat = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    out = gamma.reshape(shape) * xhat + beta.reshape(shape)
    return out, {"xhat": xhat, "std": np.sqrt(var + eps).reshape(shape), "gamma": gamma.reshape(shape)}


def spatial_batchnorm_backward(dout, cache):
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    axes = (0, 2, 3)
    g = dout * gamma
    dx = (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) / std
    return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
