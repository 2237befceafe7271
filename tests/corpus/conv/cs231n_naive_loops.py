"""CS231n's *_naive layers: four nested loops over (n, f, i, j) with numpy
inside each window, the inputs and a conv_param / pool_param dict as the cache,
np.argmax per window in max-pool backward."""
import numpy as np

BUG = ("conv_backward", "dw[f] += window * dout[n, f, i, j]", "dw[f] = window * dout[n, f, i, j]")


def conv_output_size(H, W, HH, WW, stride, pad):
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def conv_forward(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    conv_param = {"stride": stride, "pad": pad}
    H_out, W_out = conv_output_size(H, W, HH, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    out[n, f, i, j] = np.sum(xp[n, :, hs:hs + HH, ws:ws + WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dxp, dw, db = np.zeros_like(xp), np.zeros_like(w), np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = xp[n, :, hs:hs + HH, ws:ws + WW]
                    db[f] += dout[n, f, i, j]
                    dw[f] += window * dout[n, f, i, j]
                    dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    H_out = 1 + (H - pool_height) // stride
    W_out = 1 + (W - pool_width) // stride
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    out[n, c, i, j] = np.max(x[n, c, hs:hs + pool_height, ws:ws + pool_width])
    pool_param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    return out, (x, pool_param)


def max_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, hs + k, ws + l] += dout[n, c, i, j]
    return dx
