"""Spatial batch norm with einsum for every per-channel sum and broadcast."""
import numpy as np

BUG = ("spatial_batchnorm_forward", 'np.einsum("nchw,c->nchw", x_hat, gamma)', 'np.einsum("nchw,w->nchw", x_hat, gamma)')


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    m = x.shape[0] * x.shape[2] * x.shape[3]
    if train:
        mean = np.einsum("nchw->c", x) / m
        centred = x - mean[None, :, None, None]
        var = np.einsum("nchw,nchw->c", centred, centred) / m
        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mean
        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * var * (m / (m - 1))
    else:
        mean, var = state["running_mean"], state["running_var"]
        centred = x - mean[None, :, None, None]
    scale = 1.0 / np.sqrt(var + eps)
    x_hat = np.einsum("nchw,c->nchw", centred, scale)
    out = np.einsum("nchw,c->nchw", x_hat, gamma) + beta[None, :, None, None]
    return out, (x_hat, scale, gamma, m)


def spatial_batchnorm_backward(dout, cache):
    x_hat, scale, gamma, m = cache
    g = np.einsum("nchw,c->nchw", dout, gamma)
    dx = np.einsum("c,nchw->nchw", scale, g - (np.einsum("nchw->c", g) / m)[None, :, None, None]
                   - x_hat * (np.einsum("nchw,nchw->c", g, x_hat) / m)[None, :, None, None])
    return dx, np.einsum("nchw,nchw->c", dout, x_hat), np.einsum("nchw->c", dout)
