"""Assignment 6, written one unit (and one feature) at a time."""

import math

import numpy as np


def dropout_forward(x, p, train, rng):
    if not train:
        return x.copy(), {"train": False}
    draws = rng.random(x.shape)
    flat_x = x.reshape(-1)
    flat_u = draws.reshape(-1)
    factors = np.zeros(flat_x.size)
    out = np.zeros(flat_x.size)
    for i in range(flat_x.size):
        if flat_u[i] >= p:  # this unit survives
            factors[i] = 1.0 / (1.0 - p)
            out[i] = flat_x[i] * factors[i]
    return out.reshape(x.shape), {"train": True, "factors": factors.reshape(x.shape)}


def dropout_backward(dout, cache):
    if not cache["train"]:
        return dout.copy()
    factors = cache["factors"]
    dx = np.zeros(dout.shape)
    for idx in np.ndindex(dout.shape):
        dx[idx] = dout[idx] * factors[idx]
    return dx


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    n, d = x.shape
    out = np.zeros((n, d))
    x_hat = np.zeros((n, d))
    inv_std = np.zeros(d)
    new_mean = np.array(state["running_mean"], dtype=float)
    new_var = np.array(state["running_var"], dtype=float)
    for j in range(d):
        column = [float(x[i, j]) for i in range(n)]
        if train:
            mean = sum(column) / n
            squares = sum((c - mean) ** 2 for c in column)
            var = squares / n
            new_mean[j] = (1 - momentum) * new_mean[j] + momentum * mean
            new_var[j] = (1 - momentum) * new_var[j] + momentum * squares / (n - 1)
        else:
            mean, var = float(state["running_mean"][j]), float(state["running_var"][j])
        inv_std[j] = 1.0 / math.sqrt(var + eps)
        for i in range(n):
            x_hat[i, j] = (column[i] - mean) * inv_std[j]
            out[i, j] = gamma[j] * x_hat[i, j] + beta[j]
    if train:
        state["running_mean"] = new_mean
        state["running_var"] = new_var
    return out, (x_hat, inv_std, gamma)


def batchnorm_backward(dout, cache):
    x_hat, inv_std, gamma = cache
    n, d = dout.shape
    dx = np.zeros((n, d))
    dgamma = np.zeros(d)
    dbeta = np.zeros(d)
    for j in range(d):
        g = [dout[i, j] * gamma[j] for i in range(n)]  # gradient reaching x_hat
        mean_g = sum(g) / n
        mean_gx = sum(g[i] * x_hat[i, j] for i in range(n)) / n
        for i in range(n):
            dbeta[j] += dout[i, j]
            dgamma[j] += dout[i, j] * x_hat[i, j]
            dx[i, j] = inv_std[j] * (g[i] - mean_g - x_hat[i, j] * mean_gx)
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    n, c, h, w = x.shape
    count = n * h * w
    out = np.zeros(x.shape)
    x_hat = np.zeros(x.shape)
    inv_std = np.zeros(c)
    new_mean = np.array(state["running_mean"], dtype=float)
    new_var = np.array(state["running_var"], dtype=float)
    for k in range(c):
        values = [float(x[i, k, r, s]) for i in range(n) for r in range(h) for s in range(w)]
        if train:
            mean = sum(values) / count
            squares = sum((v - mean) ** 2 for v in values)
            var = squares / count
            new_mean[k] = (1 - momentum) * new_mean[k] + momentum * mean
            new_var[k] = (1 - momentum) * new_var[k] + momentum * squares / (count - 1)
        else:
            mean, var = float(state["running_mean"][k]), float(state["running_var"][k])
        inv_std[k] = 1.0 / math.sqrt(var + eps)
        for i, r, s in np.ndindex(n, h, w):
            x_hat[i, k, r, s] = (x[i, k, r, s] - mean) * inv_std[k]
            out[i, k, r, s] = gamma[k] * x_hat[i, k, r, s] + beta[k]
    if train:
        state["running_mean"] = new_mean
        state["running_var"] = new_var
    return out, (x_hat, inv_std, gamma)


def spatial_batchnorm_backward(dout, cache):
    x_hat, inv_std, gamma = cache
    n, c, h, w = dout.shape
    count = n * h * w
    dx = np.zeros(dout.shape)
    dgamma = np.zeros(c)
    dbeta = np.zeros(c)
    for k in range(c):
        positions = list(np.ndindex(n, h, w))
        g = {p: dout[p[0], k, p[1], p[2]] * gamma[k] for p in positions}  # gradient reaching x_hat
        mean_g = sum(g.values()) / count
        mean_gx = sum(g[p] * x_hat[p[0], k, p[1], p[2]] for p in positions) / count
        for i, r, s in positions:
            dbeta[k] += dout[i, k, r, s]
            dgamma[k] += dout[i, k, r, s] * x_hat[i, k, r, s]
            dx[i, k, r, s] = inv_std[k] * (g[i, r, s] - mean_g - x_hat[i, k, r, s] * mean_gx)
    return dx, dgamma, dbeta
