"""Assignment 5, the naive way: Python loops over examples, filters and output
pixels, one window at a time. Correct, but slow on a real batch."""

import numpy as np


def conv_output_size(H, W, HH, WW, stride, pad):
    rows = 1 + (H + 2 * pad - HH) // stride
    cols = 1 + (W + 2 * pad - WW) // stride
    return int(rows), int(cols)


def conv_forward(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = conv_output_size(H, W, HH, WW, stride, pad)
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + W] = x
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    patch = xp[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    return out, (x, w, b, stride, pad)


def conv_backward(dout, cache):
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + W] = x
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w, dtype=np.float64)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    g = dout[n, f, i, j]
                    db[f] += g
                    dw[f] += g * xp[n, :, top:top + HH, left:left + WW]
                    dxp[n, :, top:top + HH, left:left + WW] += g * w[f]
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    H_out, W_out = conv_output_size(H, W, pool_height, pool_width, stride, 0)
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = np.max(x[n, c, top:top + pool_height, left:left + pool_width])
    return out, (x, pool_height, pool_width, stride)


def max_pool_backward(dout, cache):
    x, ph, pw, stride = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + ph, left:left + pw]
                    # first maximum in reading order
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, top + k, left + l] += dout[n, c, i, j]
    return dx


def avg_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    H_out, W_out = conv_output_size(H, W, pool_height, pool_width, stride, 0)
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = np.mean(x[n, c, top:top + pool_height, left:left + pool_width])
    return out, (x.shape, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    shape, ph, pw, stride = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    dx[n, c, top:top + ph, left:left + pw] += dout[n, c, i, j] / (ph * pw)
    return dx


def conv_params(C, F, HH, WW, bias=True):
    count = 0
    for _ in range(F):
        count += C * HH * WW
        if bias:
            count += 1
    return count


def linear_params(D, M, bias=True):
    count = 0
    for _ in range(M):
        count += D
        if bias:
            count += 1
    return count


def layer_summary(input_shape, layer):
    C, H, W = (int(v) for v in input_shape)
    name = layer[0]
    if name == "conv":
        F, HH, WW, stride, pad, bias = layer[1:]
        H_out, W_out = conv_output_size(H, W, HH, WW, stride, pad)
        return F, H_out, W_out, conv_params(C, F, HH, WW, bias)
    if name == "max_pool" or name == "avg_pool":
        ph, pw, stride, pad = layer[1:]
        H_out, W_out = conv_output_size(H, W, ph, pw, stride, pad)
        return C, H_out, W_out, 0
    if name == "batchnorm":
        return C, H, W, C + C
    if name == "relu":
        return C, H, W, 0
    if name == "flatten":
        return C * H * W, 1, 1, 0
    M, bias = layer[1:]
    return M, 1, 1, linear_params(C * H * W, M, bias)


def _rows(shape, layers):
    rows = []
    for layer in layers:
        if layer[0] == "residual":
            main = _rows(shape, layer[1])
            shortcut = _rows(shape, layer[2])
            params = 0
            for row in main + shortcut:
                params += row[3]
            rows.append([main[-1][0], main[-1][1], main[-1][2], params])
        else:
            rows.append(list(layer_summary(shape, layer)))
        shape = rows[-1][:3]
    return rows


def network_summary(input_shape, layers):
    rows = _rows(input_shape, layers)
    table = np.zeros((len(rows), 4), dtype=np.int64)
    for i, row in enumerate(rows):
        table[i] = row
    return table
