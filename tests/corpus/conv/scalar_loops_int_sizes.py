"""Plain Python loops down to single numbers (seven of them for the conv
layer), the output size from int() of a true division, shared by every layer."""
import numpy as np

BUG = ("conv_output_size", "int((size + 2 * pad - window) / stride)",
       "int(np.ceil((size + 2 * pad - window) / stride))")


def _count(size, window, stride, pad):
    return int((size + 2 * pad - window) / stride) + 1


def conv_output_size(H, W, HH, WW, stride, pad):
    return _count(H, HH, stride, pad), _count(W, WW, stride, pad)


def _padded(x, pad):
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + W] = x
    return xp


def conv_forward(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_size(H, W, HH, WW, stride, pad)
    xp = _padded(x, pad)
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    total = b[f]
                    for c in range(C):
                        for k in range(HH):
                            for l in range(WW):
                                total += w[f, c, k, l] * xp[n, c, i * stride + k, j * stride + l]
                    out[n, f, i, j] = total
    return out, (x, w, stride, pad)


def conv_backward(dout, cache):
    x, w, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_size(H, W, HH, WW, stride, pad)
    xp = _padded(x, pad)
    dxp, dw, db = np.zeros(xp.shape), np.zeros(w.shape), np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for k in range(HH):
                            for l in range(WW):
                                dw[f, c, k, l] += g * xp[n, c, i * stride + k, j * stride + l]
                                dxp[n, c, i * stride + k, j * stride + l] += g * w[f, c, k, l]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def avg_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    Ho, Wo = conv_output_size(H, W, pool_height, pool_width, stride, 0)
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    s = 0.0
                    for k in range(pool_height):
                        for l in range(pool_width):
                            s += x[n, c, i * stride + k, j * stride + l]
                    out[n, c, i, j] = s / (pool_height * pool_width)
    return out, (x.shape, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    (N, C, H, W), ph, pw, stride = cache
    dx = np.zeros((N, C, H, W))
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    for k in range(ph):
                        for l in range(pw):
                            dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j] / (ph * pw)
    return dx
