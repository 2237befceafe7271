"""Running statistics updated in place in the caller's arrays (*=, +=);
the mask drawn as rng.random(x.shape) < 1 - p."""
import numpy as np

BUG = ("batchnorm_forward", "rv += momentum * var * n / (n - 1)", "rv += momentum * var")


def dropout_forward(x, p, train, rng):
    if train:
        keep = rng.random(x.shape) < 1 - p
        return np.where(keep, x / (1 - p), 0.0), (keep, p, True)
    return x.copy(), (None, p, False)


def dropout_backward(dout, cache):
    keep, p, train = cache
    if not train:
        return dout.copy()
    return np.where(keep, dout / (1 - p), 0.0)


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        n = x.shape[0]
        mu, var = x.mean(axis=0), x.var(axis=0)
        rm, rv = state["running_mean"], state["running_var"]
        rm *= 1 - momentum
        rm += momentum * mu
        rv *= 1 - momentum
        rv += momentum * var * n / (n - 1)
    else:
        mu = state["running_mean"]
        var = state["running_var"]
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, {"xhat": xhat, "var": var, "eps": eps, "gamma": gamma}


def batchnorm_backward(dout, cache):
    xhat, gamma = cache["xhat"], cache["gamma"]
    std = np.sqrt(cache["var"] + cache["eps"])
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
    return dx, np.einsum("nd,nd->d", dout, xhat), dout.sum(axis=0)
