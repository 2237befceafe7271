"""TensorFlow 1's dropout, floor(keep_prob + uniform) as the mask; batch norm's
cache a dict of its inputs, the backward pass through dvar and dmu (the
equations of the batch-norm paper)."""
import numpy as np

BUG = ("batchnorm_backward", "dvar * 2.0 * xmu / n", "dvar * xmu / n")


def dropout_forward(x, p, train, rng):
    if not train:
        return np.array(x, copy=True), {"mode": "eval"}
    keep_prob = 1.0 - p
    binary = np.floor(keep_prob + rng.random(x.shape))
    return x / keep_prob * binary, {"mode": "train", "binary": binary, "keep_prob": keep_prob}


def dropout_backward(dout, cache):
    if cache["mode"] == "eval":
        return dout.copy()
    return dout / cache["keep_prob"] * cache["binary"]


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if not train:
        xhat = (x - state["running_mean"]) / np.sqrt(state["running_var"] + eps)
        return gamma * xhat + beta, None
    n = len(x)
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu ** 2).mean(axis=0)
    state["running_mean"] = momentum * mu + (1 - momentum) * state["running_mean"]
    state["running_var"] = momentum * var * (n / (n - 1)) + (1 - momentum) * state["running_var"]
    xhat = xmu / np.sqrt(var + eps)
    return gamma * xhat + beta, {"x": x, "mu": mu, "var": var, "eps": eps, "gamma": gamma, "xhat": xhat}


def batchnorm_backward(dout, cache):
    x, mu, var, eps, gamma = (cache[k] for k in ("x", "mu", "var", "eps", "gamma"))
    n = len(x)
    xmu = x - mu
    istd = (var + eps) ** -0.5
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xmu, axis=0) * -0.5 * istd ** 3
    dmu = -np.sum(dxhat, axis=0) * istd + dvar * np.mean(-2.0 * xmu, axis=0)
    dx = dxhat * istd + dvar * 2.0 * xmu / n + dmu / n
    return dx, np.sum(dout * cache["xhat"], axis=0), np.sum(dout, axis=0)
