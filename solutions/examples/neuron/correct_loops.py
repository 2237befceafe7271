"""A correct submission written with explicit Python loops, one element (or one
row, or one example) at a time, using the math module for scalars."""

import math

import numpy as np


def _sigmoid(v):
    # math.exp raises OverflowError past ~709, so only ever exponentiate -|v|
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def sigmoid_forward(x):
    out = np.zeros(x.shape)
    for i in range(x.size):
        out.flat[i] = _sigmoid(x.flat[i])
    return out, out


def sigmoid_backward(dout, cache):
    s = cache
    dx = np.zeros(s.shape)
    for i in range(s.size):
        dx.flat[i] = dout.flat[i] * s.flat[i] * (1.0 - s.flat[i])
    return dx


def tanh_forward(x):
    out = np.zeros(x.shape)
    for i in range(x.size):
        out.flat[i] = math.tanh(x.flat[i])
    return out, out


def tanh_backward(dout, cache):
    t = cache
    dx = np.zeros(t.shape)
    for i in range(t.size):
        dx.flat[i] = dout.flat[i] * (1.0 - t.flat[i] * t.flat[i])
    return dx


def relu_forward(x):
    out = np.zeros(x.shape)
    for i in range(x.size):
        if x.flat[i] > 0:
            out.flat[i] = x.flat[i]
    return out, x.copy()


def relu_backward(dout, cache):
    x = cache
    dx = np.zeros(x.shape)
    for i in range(x.size):
        if x.flat[i] > 0:
            dx.flat[i] = dout.flat[i]
    return dx


def leaky_relu_forward(x, alpha=0.01):
    out = np.zeros(x.shape)
    for i in range(x.size):
        v = x.flat[i]
        out.flat[i] = v if v > 0 else alpha * v
    return out, (x.copy(), alpha)


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    dx = np.zeros(x.shape)
    for i in range(x.size):
        dx.flat[i] = dout.flat[i] if x.flat[i] > 0 else alpha * dout.flat[i]
    return dx


def elu_forward(x, alpha=1.0):
    out = np.zeros(x.shape)
    for i in range(x.size):
        v = x.flat[i]
        out.flat[i] = v if v > 0 else alpha * math.expm1(v)
    return out, (x.copy(), alpha)


def elu_backward(dout, cache):
    x, alpha = cache
    dx = np.zeros(x.shape)
    for i in range(x.size):
        v = x.flat[i]
        dx.flat[i] = dout.flat[i] * (1.0 if v > 0 else alpha * math.exp(v))
    return dx


def softmax_forward(x):
    n, c = x.shape
    out = np.zeros((n, c))
    for i in range(n):
        top = max(x[i])
        exps = [math.exp(x[i, j] - top) for j in range(c)]
        total = sum(exps)
        for j in range(c):
            out[i, j] = exps[j] / total
    return out, out


def softmax_backward(dout, cache):
    p = cache
    n, c = p.shape
    dx = np.zeros((n, c))
    for i in range(n):
        # Jacobian of one row: J[j, k] = p_j * (delta_jk - p_k)
        for k in range(c):
            total = 0.0
            for j in range(c):
                delta = 1.0 if j == k else 0.0
                total += dout[i, j] * p[i, j] * (delta - p[i, k])
            dx[i, k] = total
    return dx


def neuron_forward(x, w, b, activation):
    n, d = x.shape
    z = np.zeros(n)
    for i in range(n):
        total = b
        for j in range(d):
            total += x[i, j] * w[j]
        z[i] = total
    if activation == "sigmoid":
        out, act_cache = sigmoid_forward(z)
    elif activation == "tanh":
        out, act_cache = tanh_forward(z)
    elif activation == "relu":
        out, act_cache = relu_forward(z)
    else:
        raise ValueError(f"unknown activation {activation}")
    return out, (x, w, activation, act_cache)


def neuron_backward(dout, cache):
    x, w, activation, act_cache = cache
    if activation == "sigmoid":
        dz = sigmoid_backward(dout, act_cache)
    elif activation == "tanh":
        dz = tanh_backward(dout, act_cache)
    else:
        dz = relu_backward(dout, act_cache)
    n, d = x.shape
    dx = np.zeros((n, d))
    dw = np.zeros(d)
    db = 0.0
    for i in range(n):
        for j in range(d):
            dx[i, j] = dz[i] * w[j]
            dw[j] += dz[i] * x[i, j]
        db += dz[i]
    return dx, dw, db
