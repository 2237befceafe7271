"""Spatial batch norm in float32 throughout, the running statistics kept float32."""
import numpy as np

BUG = ("spatial_batchnorm_forward", "var * np.float32(m / (m - 1))", "var")


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    x = x.astype(np.float32)
    g = gamma.astype(np.float32)[:, None, None]
    b = beta.astype(np.float32)[:, None, None]
    mom = np.float32(momentum)
    if train:
        m = x.size // x.shape[1]
        mean = x.mean(axis=(0, 2, 3), dtype=np.float32)
        var = x.var(axis=(0, 2, 3), dtype=np.float32)
        state["running_mean"] = ((1 - mom) * state["running_mean"].astype(np.float32) + mom * mean).astype(np.float32)
        unbiased = var * np.float32(m / (m - 1))
        state["running_var"] = ((1 - mom) * state["running_var"].astype(np.float32) + mom * unbiased).astype(np.float32)
    else:
        mean = state["running_mean"].astype(np.float32)
        var = state["running_var"].astype(np.float32)
    std = np.sqrt(var + np.float32(eps))[:, None, None]
    xhat = (x - mean[:, None, None]) / std
    return (g * xhat + b).astype(np.float32), (xhat, std, g)


def spatial_batchnorm_backward(dout, cache):
    xhat, std, g = cache
    dout = dout.astype(np.float32)
    axes = (0, 2, 3)
    dxhat = dout * g
    dx = (dxhat - dxhat.mean(axis=axes, keepdims=True) - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) / std
    return dx.astype(np.float32), (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
