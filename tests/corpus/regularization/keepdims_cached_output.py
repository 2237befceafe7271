"""Dropout's cache is its output (out != 0 marks the kept units); batch-norm
statistics with keepdims=True, flattened back into the running averages."""
import numpy as np

BUG = ("batchnorm_forward", "new_mean.reshape(-1), new_var.reshape(-1)", "new_mean, new_var")


def dropout_forward(x, p, train, rng):
    out = np.where(rng.random(x.shape) < p, 0.0, x / (1 - p)) if train else x.copy()
    return out, (out, p, train)


def dropout_backward(dout, cache):
    out, p, train = cache
    if not train:
        return dout.copy()
    return np.where(out != 0, dout / (1 - p), 0.0)


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        n = len(x)
        mu = x.mean(axis=0, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=0, keepdims=True)
        new_mean = (1 - momentum) * state["running_mean"] + momentum * mu
        new_var = (1 - momentum) * state["running_var"] + momentum * var * n / (n - 1)
        state["running_mean"], state["running_var"] = new_mean.reshape(-1), new_var.reshape(-1)
    else:
        mu, var = state["running_mean"][None, :], state["running_var"][None, :]
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, inv_std, gamma)


def batchnorm_backward(dout, cache):
    xhat, inv_std, gamma = cache
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(0, keepdims=True) - xhat * (dxhat * xhat).mean(0, keepdims=True))
    return dx, (dout * xhat).sum(0), dout.sum(0)
