"""Assignment 5 in float32: im2col matrices built with as_strided, and the
gradient of the input computed as a convolution of the (dilated) upstream
gradient with the flipped filters. Max-pooling sends a tied window's gradient
to its *last* maximum (torch picks the first; both are right)."""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def conv_output_size(H, W, HH, WW, stride, pad):
    return (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1


def _patches(x, hh, ww, stride, h_out, w_out):
    """(N, C, H, W) -> (N, H_out, W_out, C, hh, ww) view of every window."""
    sn, sc, sh, sw = x.strides
    return as_strided(x, shape=(x.shape[0], h_out, w_out, x.shape[1], hh, ww),
                      strides=(sn, sh * stride, sw * stride, sc, sh, sw), writeable=False)


def _correlate(x, w, stride):
    """Cross-correlation without padding, (N, C, H, W) with (F, C, hh, ww)."""
    F, C, hh, ww = w.shape
    h_out, w_out = conv_output_size(x.shape[2], x.shape[3], hh, ww, stride, 0)
    cols = _patches(x, hh, ww, stride, h_out, w_out).reshape(-1, C * hh * ww)
    out = cols @ w.reshape(F, -1).T
    return out.reshape(x.shape[0], h_out, w_out, F).transpose(0, 3, 1, 2)


def conv_forward(x, w, b, stride, pad):
    x = np.asarray(x, np.float32)
    w = np.asarray(w, np.float32)
    b = np.asarray(b, np.float32)
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    out = _correlate(xp, w, stride) + b.reshape(1, -1, 1, 1)
    return out, (xp, w, stride, pad, x.shape)


def conv_backward(dout, cache):
    xp, w, stride, pad, x_shape = cache
    dout = np.asarray(dout, np.float32)
    N, F, h_out, w_out = dout.shape
    _, C, hh, ww = w.shape
    db = dout.sum(axis=(0, 2, 3))
    cols = _patches(xp, hh, ww, stride, h_out, w_out).reshape(-1, C * hh * ww)
    dw = (dout.transpose(0, 2, 3, 1).reshape(-1, F).T @ cols).reshape(w.shape)
    # dx: spread dout back to stride-spaced positions, then a 'full' correlation
    # with the filters rotated by 180 degrees and in/out channels swapped.
    dilated = np.zeros((N, F, (h_out - 1) * stride + 1, (w_out - 1) * stride + 1), np.float32)
    dilated[:, :, ::stride, ::stride] = dout
    dilated = np.pad(dilated, [(0, 0), (0, 0), (hh - 1, hh - 1), (ww - 1, ww - 1)])
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    dxp_covered = _correlate(dilated, flipped, 1)
    dxp = np.zeros(xp.shape, np.float32)
    dxp[:, :, :dxp_covered.shape[2], :dxp_covered.shape[3]] = dxp_covered
    H, W = x_shape[2:]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def _pool_windows(x, ph, pw, stride):
    h_out, w_out = conv_output_size(x.shape[2], x.shape[3], ph, pw, stride, 0)
    sn, sc, sh, sw = x.strides
    return as_strided(x, shape=x.shape[:2] + (h_out, w_out, ph, pw),
                      strides=(sn, sc, sh * stride, sw * stride, sh, sw), writeable=False)


def max_pool_forward(x, pool_height, pool_width, stride):
    x = np.ascontiguousarray(x, np.float32)
    win = _pool_windows(x, pool_height, pool_width, stride)
    return win.max(axis=(4, 5)), (x, pool_height, pool_width, stride)


def _window_pixels(shape, ph, pw, stride, h_out, w_out):
    """Flat index into x of pixel (k, l) of window (n, c, i, j), shape (N, C, h_out, w_out, ph, pw)."""
    N, C, H, W = shape
    n, c, i, j, k, l = np.ix_(range(N), range(C), range(h_out), range(w_out), range(ph), range(pw))
    return ((n * C + c) * H + i * stride + k) * W + j * stride + l


def max_pool_backward(dout, cache):
    x, ph, pw, stride = cache
    dout = np.asarray(dout, np.float32)
    win = _pool_windows(x, ph, pw, stride)
    flat = win.reshape(win.shape[:4] + (ph * pw,))
    last = ph * pw - 1 - np.argmax(flat[..., ::-1], axis=-1)
    pixels = _window_pixels(x.shape, ph, pw, stride, *win.shape[2:4]).reshape(flat.shape)
    chosen = np.take_along_axis(pixels, last[..., None], axis=-1)[..., 0]
    dx = np.zeros(x.size, np.float32)
    np.add.at(dx, chosen.ravel(), dout.ravel())
    return dx.reshape(x.shape)


def avg_pool_forward(x, pool_height, pool_width, stride):
    x = np.ascontiguousarray(x, np.float32)
    win = _pool_windows(x, pool_height, pool_width, stride)
    return win.mean(axis=(4, 5), dtype=np.float32), (x.shape, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    shape, ph, pw, stride = cache
    dout = np.asarray(dout, np.float32)
    pixels = _window_pixels(shape, ph, pw, stride, dout.shape[2], dout.shape[3])
    share = np.broadcast_to((dout / np.float32(ph * pw))[..., None, None], pixels.shape)
    dx = np.zeros(int(np.prod(shape)), np.float32)
    np.add.at(dx, pixels.ravel(), share.ravel())
    return dx.reshape(shape)


def conv_params(C, F, HH, WW, bias=True):
    return F * (C * HH * WW + int(bias))


def linear_params(D, M, bias=True):
    return M * (D + int(bias))


# Each kind of layer: (C, H, W) and the layer's other entries -> ((C, H, W) out, parameters).
_LAYERS = {
    "conv": lambda C, H, W, F, HH, WW, stride, pad, bias: (
        (F, *conv_output_size(H, W, HH, WW, stride, pad)), conv_params(C, F, HH, WW, bias)),
    "max_pool": lambda C, H, W, ph, pw, stride, pad: ((C, *conv_output_size(H, W, ph, pw, stride, pad)), 0),
    "avg_pool": lambda C, H, W, ph, pw, stride, pad: ((C, *conv_output_size(H, W, ph, pw, stride, pad)), 0),
    "batchnorm": lambda C, H, W: ((C, H, W), 2 * C),
    "relu": lambda C, H, W: ((C, H, W), 0),
    "flatten": lambda C, H, W: ((C * H * W, 1, 1), 0),
    "linear": lambda C, H, W, M, bias: ((M, 1, 1), linear_params(C * H * W, M, bias)),
}


def layer_summary(input_shape, layer):
    kind, *entries = layer
    shape, params = _LAYERS[kind](*input_shape, *entries)
    return (*shape, params)


def network_summary(input_shape, layers):
    """A float64 table (whole numbers): counts stay exact far beyond VGG-16's 138 million, unlike float32."""
    table = np.zeros((len(layers), 4))
    shape = input_shape
    for row, layer in zip(table, layers):
        if layer[0] == "residual":
            main, shortcut = (network_summary(shape, path) for path in layer[1:])
            row[:3], row[3] = main[-1, :3], main[:, 3].sum() + shortcut[:, 3].sum()
        else:
            row[:] = layer_summary(shape, layer)
        shape = tuple(int(v) for v in row[:3])
    return table
