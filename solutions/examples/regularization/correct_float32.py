"""Assignment 6 in single precision (float32 in, float32 out), with the
batch-norm backward pass written as the chain rule through mean and variance."""

import numpy as np


def dropout_forward(x, p, train, rng):
    x = np.asarray(x, dtype=np.float32)
    if not train:
        return x, None
    mask = (rng.random(x.shape) >= p).astype(np.float32) / np.float32(1.0 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    dout = np.asarray(dout, dtype=np.float32)
    return dout if cache is None else dout * cache


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    x = x.astype(np.float32)
    m = np.float32(momentum)
    if train:
        n = x.shape[0]
        mean = np.einsum("nd->d", x) / np.float32(n)
        centred = x - mean
        var = np.einsum("nd,nd->d", centred, centred) / np.float32(n)
        state["running_mean"] = ((1 - m) * state["running_mean"].astype(np.float32) + m * mean).astype(np.float32)
        unbiased = var * np.float32(n / (n - 1))
        state["running_var"] = ((1 - m) * state["running_var"].astype(np.float32) + m * unbiased).astype(np.float32)
    else:
        mean = state["running_mean"].astype(np.float32)
        var = state["running_var"].astype(np.float32)
        centred = x - mean
    inv_std = (np.float32(1.0) / np.sqrt(var + np.float32(eps))).astype(np.float32)
    out = gamma.astype(np.float32) * (centred * inv_std) + beta.astype(np.float32)
    return out.astype(np.float32), (centred, var, inv_std, gamma.astype(np.float32), np.float32(eps))


def batchnorm_backward(dout, cache):
    centred, var, inv_std, gamma, eps = cache
    dout = dout.astype(np.float32)
    n = np.float32(dout.shape[0])
    x_hat = centred * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("nd,nd->d", dout, x_hat)
    dx_hat = dout * gamma
    # out depends on x directly, through the mean and through the variance
    dvar = np.einsum("nd,nd->d", dx_hat, centred) * np.float32(-0.5) * inv_std ** 3
    dmean = -dx_hat.sum(axis=0) * inv_std - dvar * np.float32(2.0) * centred.sum(axis=0) / n
    dx = dx_hat * inv_std + dvar * np.float32(2.0) * centred / n + dmean / n
    return dx.astype(np.float32), dgamma.astype(np.float32), dbeta.astype(np.float32)


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    # One row per example and position, one column per channel: batch norm of the rows is per channel.
    n, c, h, w = x.shape
    rows = x.astype(np.float32).transpose(0, 2, 3, 1).reshape(n * h * w, c)
    out, cache = batchnorm_forward(rows, gamma, beta, state, train, momentum, eps)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout, cache):
    n, c, h, w = dout.shape
    drows = dout.astype(np.float32).transpose(0, 2, 3, 1).reshape(n * h * w, c)
    dx, dgamma, dbeta = batchnorm_backward(drows, cache)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta
