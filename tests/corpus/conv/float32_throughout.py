"""float32 throughout: every input cast once, windows from sliding_window_view,
np.tensordot for the contractions, all results float32."""
import numpy as np

BUG = ("conv_forward", "np.tensordot(win, w32,", "np.tensordot(win, w32[:, :, ::-1, ::-1],")

f32 = np.float32


def conv_output_size(H, W, HH, WW, stride, pad):
    return int(np.floor((H - HH + 2 * pad) / stride)) + 1, int(np.floor((W - WW + 2 * pad) / stride)) + 1


def _win32(a, hh, ww, stride):
    return np.lib.stride_tricks.sliding_window_view(a, (hh, ww), axis=(-2, -1))[:, :, ::stride, ::stride]


def _scatter32(dst, pieces, stride):
    """dst[:, :, i * stride + k, j * stride + l] += pieces[:, :, i, j, k, l]"""
    Ho, Wo, ph, pw = pieces.shape[2:]
    for k in range(ph):
        for l in range(pw):
            dst[:, :, slice(k, k + stride * (Ho - 1) + 1, stride), slice(l, l + stride * (Wo - 1) + 1, stride)] += \
                pieces[:, :, :, :, k, l]
    return dst


def conv_forward(x, w, b, stride, pad):
    x32, w32, b32 = (np.asarray(a, dtype=f32) for a in (x, w, b))
    xp = np.pad(x32, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    win = _win32(xp, w32.shape[2], w32.shape[3], stride)
    out = np.tensordot(win, w32, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + b32.reshape(1, -1, 1, 1)
    return out.astype(f32), (xp, w32, stride, pad)


def conv_backward(dout, cache):
    xp, w32, stride, pad = cache
    g = dout.astype(f32)
    F, C, HH, WW = w32.shape
    win = _win32(xp, HH, WW, stride)
    db = g.sum(axis=(0, 2, 3), dtype=f32)
    dw = np.tensordot(g, win, axes=([0, 2, 3], [0, 2, 3])).astype(f32)
    dwin = np.tensordot(g, w32, axes=([1], [0])).transpose(0, 3, 1, 2, 4, 5)  # (N, C, Ho, Wo, HH, WW)
    dxp = _scatter32(np.zeros(xp.shape, f32), dwin, stride)
    return dxp[:, :, pad:xp.shape[2] - pad, pad:xp.shape[3] - pad], dw, db


def max_pool_forward(x, pool_height, pool_width, stride):
    win = _win32(x.astype(f32), pool_height, pool_width, stride)
    flat = win.reshape(win.shape[:4] + (-1,))
    idx = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
    return out, (x.shape, pool_height, pool_width, stride, idx)


def max_pool_backward(dout, cache):
    shape, ph, pw, stride, idx = cache
    g = dout.astype(f32)
    dflat = np.zeros(g.shape + (ph * pw,), f32)
    np.put_along_axis(dflat, idx[..., None], g[..., None], axis=-1)
    return _scatter32(np.zeros(shape, f32), dflat.reshape(g.shape + (ph, pw)), stride)


def avg_pool_forward(x, pool_height, pool_width, stride):
    win = _win32(x.astype(f32), pool_height, pool_width, stride)
    return win.mean(axis=(4, 5), dtype=f32), (x.shape, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    shape, ph, pw, stride = cache
    share = dout.astype(f32) / f32(ph * pw)
    return _scatter32(np.zeros(shape, f32), np.broadcast_to(share[..., None, None], share.shape + (ph, pw)), stride)
