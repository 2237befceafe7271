"""Loops: over features for batch norm, over units for dropout."""
import numpy as np

BUG = ("batchnorm_forward", "out[:, j] = gamma[j] * xhat[:, j] + beta[j]", "out[:, j] = xhat[:, j] + beta[j]")


def dropout_forward(x, p, train, rng):
    out = np.array(x, dtype=float)
    keep = np.ones(x.shape, dtype=bool)
    if train:
        u = rng.random(x.shape)
        for i in np.ndindex(x.shape):
            keep[i] = u[i] >= p
            out[i] = x[i] / (1 - p) if keep[i] else 0.0
    return out, (keep, p, train)


def dropout_backward(dout, cache):
    keep, p, train = cache
    dx = np.array(dout, dtype=float)
    if train:
        for i in np.ndindex(dout.shape):
            dx[i] = dout[i] / (1 - p) if keep[i] else 0.0
    return dx


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    n, d = x.shape
    out, xhat, std = np.empty((n, d)), np.empty((n, d)), np.empty(d)
    new_mean, new_var = np.array(state["running_mean"], dtype=float), np.array(state["running_var"], dtype=float)
    for j in range(d):
        column = x[:, j]
        if train:
            mu, var = column.mean(), ((column - column.mean()) ** 2).mean()
            new_mean[j] = (1 - momentum) * new_mean[j] + momentum * mu
            new_var[j] = (1 - momentum) * new_var[j] + momentum * var * n / (n - 1)
        else:
            mu, var = state["running_mean"][j], state["running_var"][j]
        std[j] = np.sqrt(var + eps)
        xhat[:, j] = (column - mu) / std[j]
        out[:, j] = gamma[j] * xhat[:, j] + beta[j]
    state["running_mean"], state["running_var"] = new_mean, new_var
    return out, (xhat, std, gamma)


def batchnorm_backward(dout, cache):
    xhat, std, gamma = cache
    dx = np.empty_like(dout, dtype=float)
    for j in range(dout.shape[1]):
        g = dout[:, j] * gamma[j]
        dx[:, j] = (g - g.mean() - xhat[:, j] * (g * xhat[:, j]).mean()) / std[j]
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
