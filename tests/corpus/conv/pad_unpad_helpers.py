"""Shared helpers: _pad / _unpad and one fancy-index gather of every window,
used by the conv layer and by average pooling; backward scatters with np.add.at."""
import numpy as np

BUG = ("conv_backward", "return _unpad(dxp, pad), dw, db", "return dxp, dw, db")


def _pad(a, p):
    return np.pad(a, [(0, 0), (0, 0), (p, p), (p, p)], mode="constant", constant_values=0.0)


def _unpad(a, p):
    return a[:, :, p:a.shape[2] - p, p:a.shape[3] - p]


def _window_index(H, W, hh, ww, stride):
    """rows and cols of pixel (k, l) of window (i, j), broadcasting to (Ho, Wo, hh, ww)."""
    Ho, Wo = (H - hh) // stride + 1, (W - ww) // stride + 1
    rows = stride * np.arange(Ho).reshape(Ho, 1, 1, 1) + np.arange(hh).reshape(1, 1, hh, 1)
    cols = stride * np.arange(Wo).reshape(1, Wo, 1, 1) + np.arange(ww).reshape(1, 1, 1, ww)
    return rows, cols


def conv_forward(x, w, b, stride, pad):
    xp = _pad(x, pad)
    rows, cols = _window_index(xp.shape[2], xp.shape[3], w.shape[2], w.shape[3], stride)
    patches = xp[:, :, rows, cols]  # (N, C, Ho, Wo, HH, WW)
    out = np.einsum("ncyxkl,fckl->nfyx", patches, w, optimize=True) + b.reshape(-1, 1, 1)
    return out, (x, w, stride, pad)


def conv_backward(dout, cache):
    x, w, stride, pad = cache
    xp = _pad(x, pad)
    rows, cols = _window_index(xp.shape[2], xp.shape[3], w.shape[2], w.shape[3], stride)
    db = dout.sum(axis=(0, -2, -1))
    dw = np.einsum("nfyx,ncyxkl->fckl", dout, xp[:, :, rows, cols], optimize=True)
    dxp = np.zeros_like(xp)
    np.add.at(dxp, (slice(None), slice(None), rows, cols), np.einsum("nfyx,fckl->ncyxkl", dout, w, optimize=True))
    return _unpad(dxp, pad), dw, db


def avg_pool_forward(x, pool_height, pool_width, stride):
    rows, cols = _window_index(x.shape[2], x.shape[3], pool_height, pool_width, stride)
    return x[:, :, rows, cols].mean(axis=(-2, -1)), (x.shape, rows, cols)


def avg_pool_backward(dout, cache):
    shape, rows, cols = cache
    ph, pw = rows.shape[2], cols.shape[3]
    dx = np.zeros(shape)
    np.add.at(dx, (slice(None), slice(None), rows, cols), dout[..., None, None] / (ph * pw))
    return dx
