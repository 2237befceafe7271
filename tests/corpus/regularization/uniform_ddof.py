"""The mask from rng.uniform(0, 1, size) > p, stored as floats with the scale
folded in; eval returns x.copy(); the running variance from np.var(ddof=1)."""
import numpy as np

BUG = ("batchnorm_forward", "x.var(axis=0, ddof=1)", "x.var(axis=0, ddof=0)")


def dropout_forward(x, p, train, rng):
    if not train:
        return x.copy(), {"train": False}
    mask = (rng.uniform(0.0, 1.0, size=x.shape) > p).astype(x.dtype) / (1 - p)
    return x * mask, {"train": True, "mask": mask}


def dropout_backward(dout, cache):
    return dout * cache["mask"] if cache["train"] else dout.copy()


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        mean, var = x.mean(axis=0), x.var(axis=0, ddof=0)
        m = momentum
        state["running_mean"] = m * mean + (1 - m) * state["running_mean"]
        state["running_var"] = m * x.var(axis=0, ddof=1) + (1 - m) * state["running_var"]
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv = 1 / np.sqrt(var + eps)
    xn = (x - mean) * inv
    return xn * gamma + beta, (xn, inv, gamma)


def batchnorm_backward(dout, cache):
    xn, inv, gamma = cache
    n = len(dout)
    dxn = gamma * dout
    dx = inv * (dxn - dxn.sum(0) / n - xn * (dxn * xn).sum(0) / n)
    return dx, (xn * dout).sum(0), dout.sum(0)
