"""Batch norm only: sums divided by N for the statistics, the running averages
as r += momentum * (batch - r), and the compact backward that reuses d_beta and
d_gamma, dx = gamma / (N std) (N dout - d_beta - xhat d_gamma)."""
import numpy as np

BUG = ("batchnorm_backward", "(N * dout - d_beta", "(dout - d_beta")


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    N = x.shape[0]
    if train:
        mu = x.sum(axis=0) / N
        var = ((x - mu) ** 2).sum(axis=0) / N
        state["running_mean"] = state["running_mean"] + momentum * (mu - state["running_mean"])
        state["running_var"] = state["running_var"] + momentum * (var * N / (N - 1) - state["running_var"])
    else:
        mu, var = (state[k] for k in ("running_mean", "running_var"))
    std = (var + eps) ** 0.5
    xhat = (x - mu) / std
    return gamma * xhat + beta, (xhat, gamma, std)


def batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    N = dout.shape[0]
    d_beta = dout.sum(axis=0)
    d_gamma = np.sum(xhat * dout, axis=0)
    dx = gamma / (N * std) * (N * dout - d_beta - xhat * d_gamma)
    return dx, d_gamma, d_beta
