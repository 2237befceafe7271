"""Spatial batch norm as CS231n sets it: the channel axis moved last, the maps
flattened to (N * H * W, C) rows, and the module's own (N, D) batch norm."""
import numpy as np

BUG = ("spatial_batchnorm_forward", "rows = np.moveaxis(x, 1, -1).reshape(-1, c)", "rows = x.reshape(-1, c)")


def _to_maps(rows, shape):
    """(N * H * W, C) rows back to (N, C, H, W) maps."""
    n, c, h, w = shape
    return np.moveaxis(rows.reshape(n, h, w, c), -1, 1)


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)
    out, cache = batchnorm_forward(rows, gamma, beta, state, train, momentum, eps)
    return _to_maps(out, x.shape), cache


def spatial_batchnorm_backward(dout, cache):
    drows = np.moveaxis(dout, 1, -1).reshape(-1, dout.shape[1])
    dx, dgamma, dbeta = batchnorm_backward(drows, cache)
    return _to_maps(dx, dout.shape), dgamma, dbeta
