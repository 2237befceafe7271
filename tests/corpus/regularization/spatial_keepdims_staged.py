"""Spatial batch norm written directly with keepdims=True and (1, C, 1, 1)
parameters; the backward pass staged node by node, as on a computation graph."""
import numpy as np

BUG = ("spatial_batchnorm_backward", "m = dout.shape[0] * dout.shape[2] * dout.shape[3]", "m = dout.shape[0]")


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    C = x.shape[1]
    if train:
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        count = x.shape[0] * x.shape[2] * x.shape[3]
        state["running_mean"] = momentum * mean.reshape(C) + (1 - momentum) * state["running_mean"]
        state["running_var"] = momentum * var.reshape(C) * count / (count - 1) + (1 - momentum) * state["running_var"]
    else:
        mean = state["running_mean"].reshape(1, C, 1, 1)
        var = state["running_var"].reshape(1, C, 1, 1)
    xmu = x - mean
    ivar = 1.0 / np.sqrt(var + eps)
    xhat = xmu * ivar
    out = gamma.reshape(1, C, 1, 1) * xhat + beta.reshape(1, C, 1, 1)
    return out, (xhat, xmu, ivar, gamma.reshape(1, C, 1, 1))


def spatial_batchnorm_backward(dout, cache):
    xhat, xmu, ivar, gamma = cache
    m = dout.shape[0] * dout.shape[2] * dout.shape[3]
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(axis=(0, 2, 3), keepdims=True)
    dvar = -0.5 * ivar ** 3 * divar
    dxmu = dxhat * ivar + 2.0 * xmu * dvar / m
    dmean = -dxmu.sum(axis=(0, 2, 3), keepdims=True)
    dx = dxmu + dmean / m
    return dx, (dout * xhat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
