"""float32 throughout, the boolean mask cached with p."""
import numpy as np

BUG = ("batchnorm_forward", "np.sqrt(var + np.float32(eps))", "(np.sqrt(var) + np.float32(eps))")


def dropout_forward(x, p, train, rng):
    x = x.astype(np.float32)
    if not train:
        return x, (None, p)
    keep = rng.random(x.shape) >= p
    return (x * keep / np.float32(1 - p)).astype(np.float32), (keep, p)


def dropout_backward(dout, cache):
    keep, p = cache
    dout = dout.astype(np.float32)
    return dout if keep is None else dout * keep / np.float32(1 - p)


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    x, gamma, beta = (a.astype(np.float32) for a in (x, gamma, beta))
    if train:
        mu, var = x.mean(axis=0), x.var(axis=0)
        n = x.shape[0]
        state["running_mean"] = ((1 - momentum) * state["running_mean"] + momentum * mu).astype(np.float32)
        state["running_var"] = ((1 - momentum) * state["running_var"] + momentum * var * n / (n - 1)).astype(np.float32)
    else:
        mu, var = state["running_mean"].astype(np.float32), state["running_var"].astype(np.float32)
    std = np.sqrt(var + np.float32(eps))
    xhat = (x - mu) / std
    return gamma * xhat + beta, (xhat, std, gamma)


def batchnorm_backward(dout, cache):
    xhat, std, gamma = cache
    g = dout.astype(np.float32) * gamma
    dx = (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0)) / std
    return dx, (dout * xhat).sum(axis=0).astype(np.float32), dout.sum(axis=0).astype(np.float32)
