"""Windows built by hand with np.lib.stride_tricks.as_strided, np.einsum for
the forward pass and dw, dx by a loop over output positions (vectorised over
the batch, filters and channels), np.add.at on index grids in max-pool backward."""
import numpy as np

BUG = ("conv_backward", "top, left = i * stride, j * stride", "top, left = i, j")


def conv_output_size(H, W, HH, WW, stride, pad):
    rows, _ = divmod(H + 2 * pad - HH, stride)
    cols, _ = divmod(W + 2 * pad - WW, stride)
    return rows + 1, cols + 1


def _patches(a, hh, ww, stride):
    N, C, Hp, Wp = a.shape
    Ho, Wo = conv_output_size(Hp, Wp, hh, ww, stride, 0)
    sn, sc, sh, sw = a.strides
    return np.lib.stride_tricks.as_strided(a, (N, C, Ho, Wo, hh, ww), (sn, sc, sh * stride, sw * stride, sh, sw),
                                           writeable=False)


def conv_forward(x, w, b, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    p = _patches(xp, w.shape[2], w.shape[3], stride)
    out = np.einsum("nchwyx,fcyx->nfhw", p, w) + b[None, :, None, None]
    return out, (xp, w, stride, pad)


def conv_backward(dout, cache):
    xp, w, stride, pad = cache
    F, C, HH, WW = w.shape
    Ho, Wo = dout.shape[2:]
    db = dout.sum(axis=(0, 2, 3))
    dw = np.einsum("nfhw,nchwyx->fcyx", dout, _patches(xp, HH, WW, stride))
    dxp = np.zeros(xp.shape)
    for i in range(Ho):
        for j in range(Wo):
            top, left = i * stride, j * stride
            dxp[:, :, top:top + HH, left:left + WW] += np.einsum("nf,fcyx->ncyx", dout[:, :, i, j], w)
    return dxp[:, :, pad:dxp.shape[2] - pad, pad:dxp.shape[3] - pad], dw, db


def max_pool_forward(x, pool_height, pool_width, stride):
    p = _patches(np.ascontiguousarray(x), pool_height, pool_width, stride)
    return p.max(axis=(4, 5)), (x.shape, pool_width, stride, p)


def max_pool_backward(dout, cache):
    shape, pw, stride, p = cache
    arg = p.reshape(p.shape[:4] + (-1,)).argmax(axis=-1)
    k, l = np.divmod(arg, pw)
    n, c, i, j = np.indices(arg.shape)
    dx = np.zeros(shape)
    np.add.at(dx, (n, c, i * stride + k, j * stride + l), dout)
    return dx
