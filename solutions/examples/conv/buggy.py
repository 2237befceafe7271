"""Assignment 5, a plausible first attempt with some classic mistakes: loops
over output pixels, numpy over the batch."""

import math

import numpy as np


def conv_output_size(H, W, HH, WW, stride, pad):
    H_out = math.ceil((H + 2 * pad - HH) / stride) + 1  # BUG: output-size-rounds-up
    W_out = math.ceil((W + 2 * pad - WW) / stride) + 1
    return H_out, W_out


def conv_forward(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = conv_output_size(H, W, HH, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kernel = w[:, :, ::-1, ::-1]  # BUG: conv-flipped-kernel
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(patch, kernel, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (xp, w, stride, pad)


def conv_backward(dout, cache):
    xp, w, stride, pad = cache
    N, F, H_out, W_out = dout.shape
    _, C, HH, WW = w.shape
    dxp = np.zeros(xp.shape)
    for n in range(N):
        dw = np.zeros(w.shape)  # BUG: conv-dw-not-summed-over-batch
        for i in range(H_out):
            for j in range(W_out):
                patch = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                dw += dout[n, :, i, j][:, None, None, None] * patch[None]
                dxp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                    np.tensordot(dout[n, :, i, j], w, axes=(0, 0))
    db = dout.sum(axis=(0, 2, 3))
    H, W = xp.shape[2] - 2 * pad, xp.shape[3] - 2 * pad
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def max_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    H_out = (H - pool_height) // stride + 1
    W_out = (W - pool_width) // stride + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out, (x, pool_height, pool_width, stride)


def max_pool_backward(dout, cache):
    x, ph, pw, stride = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            is_max = window == window.max(axis=(2, 3), keepdims=True)  # BUG: max-pool-gradient-to-every-maximum
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += is_max * dout[:, :, i, j, None, None]
    return dx


def avg_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    H_out = (H - pool_height) // stride + 1
    W_out = (W - pool_width) // stride + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width]
            out[:, :, i, j] = window.mean(axis=(2, 3))
    return out, (x.shape, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    shape, ph, pw, stride = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros(shape)
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += \
                dout[:, :, i, j, None, None]  # BUG: avg-pool-gradient-not-shared
    return dx


def conv_params(C, F, HH, WW, bias=True):
    return F * C * HH * WW  # BUG: conv-params-bias-forgotten


def linear_params(D, M, bias=True):
    return D * M + M if bias else D * M


def layer_summary(input_shape, layer):
    C, H, W = input_shape
    if layer[0] == "conv":
        _, F, HH, WW, stride, pad, bias = layer
        return F, (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1, conv_params(C, F, HH, WW, bias)
    if layer[0] in ("max_pool", "avg_pool"):
        _, ph, pw, stride, pad = layer
        return C, (H + 2 * pad - ph) // stride + 1, (W + 2 * pad - pw) // stride + 1, 0
    if layer[0] == "batchnorm":
        return C, H, W, 2 * C
    if layer[0] == "relu":
        return C, H, W, 0
    if layer[0] == "flatten":
        return C * H * W, 1, 1, 0
    return layer[1], 1, 1, linear_params(C * H * W, layer[1], layer[2])


def network_summary(input_shape, layers):
    rows, shape = [], input_shape
    for layer in layers:
        if layer[0] == "residual":
            main = network_summary(shape, layer[1])
            rows.append((*main[-1, :3], main[:, 3].sum()))  # BUG: residual-shortcut-not-counted
        else:
            rows.append(layer_summary(shape, layer))
        shape = rows[-1][:3]
    return np.array(rows).reshape(-1, 4)
