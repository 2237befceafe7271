"""CS231n style: the mask from np.random.rand(...) < keep (the grader's rng
unused), caches of the inputs, the staged computational-graph backward."""
import numpy as np

BUG = ("dropout_forward", "mask = (np.random.rand(*x.shape) < keep) / keep", "mask = np.random.rand(*x.shape) < keep")


def dropout_forward(x, p, train, rng):
    keep = 1 - p
    if train:
        mask = (np.random.rand(*x.shape) < keep) / keep
        out = x * mask
    else:
        mask = None
        out = x.copy()
    return out, (p, train, mask)


def dropout_backward(dout, cache):
    p, train, mask = cache
    return dout * mask if train else dout


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    if train:
        N = x.shape[0]
        sample_mean = x.mean(axis=0)
        xmu = x - sample_mean
        sq = xmu ** 2
        sample_var = sq.sum(axis=0) / N
        sqrtvar = np.sqrt(sample_var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        out = gamma * xhat + beta
        state["running_mean"] = momentum * sample_mean + (1 - momentum) * state["running_mean"]
        state["running_var"] = momentum * sample_var * N / (N - 1) + (1 - momentum) * state["running_var"]
        cache = (xhat, gamma, xmu, ivar, sqrtvar, sample_var, eps)
    else:
        xhat = (x - state["running_mean"]) / np.sqrt(state["running_var"] + eps)
        out = gamma * xhat + beta
        cache = None
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dsq = 1.0 / N * np.ones((N, D)) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    dx2 = 1.0 / N * np.ones((N, D)) * dmu
    return dx1 + dx2, dgamma, dbeta
