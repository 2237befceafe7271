"""The cache is a closure: the forward pass returns the function that
computes its own backward pass."""
import numpy as np

BUG = ("dropout_backward", "lambda dout: dout * scale", "lambda dout: dout * (scale > 0)")


def dropout_forward(x, p, train, rng):
    if not train:
        return x, lambda dout: dout
    scale = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * scale, lambda dout: dout * scale


def dropout_backward(dout, cache):
    return cache(dout)


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        mu, var, n = x.mean(0), x.var(0), x.shape[0]
        for key, batch in (("running_mean", mu), ("running_var", var * n / (n - 1))):
            state[key] = (1 - momentum) * state[key] + momentum * batch
    else:
        mu = state["running_mean"]
        var = state["running_var"]
    std = (var + eps) ** 0.5
    xhat = (x - mu) / std

    def backward(dout):
        dxhat = dout * gamma
        dx = (dxhat - dxhat.mean(0) - xhat * (dxhat * xhat).mean(0)) / std
        return dx, (dout * xhat).sum(0), dout.sum(0)

    return gamma * xhat + beta, backward


def batchnorm_backward(dout, cache):
    return cache(dout)
