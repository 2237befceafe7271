"""Python loops over every element (np.ndindex), math.exp on one scalar at a
time, softmax row by row with its Jacobian summed entry by entry; caches are
small dicts."""
import math

import numpy as np

BUG = ("elu_backward", "c['alpha'] * math.exp(x[i])", "math.exp(x[i])")


def sigmoid_forward(x):
    s = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        if x[i] >= 0:
            s[i] = 1.0 / (1.0 + math.exp(-x[i]))
        else:
            e = math.exp(x[i])
            s[i] = e / (1.0 + e)
    return s, {"s": s}


def sigmoid_backward(dout, cache):
    s = cache["s"]
    grad = np.zeros(s.shape)
    for i in np.ndindex(s.shape):
        grad[i] = dout[i] * s[i] * (1.0 - s[i])
    return grad


def leaky_relu_forward(x, alpha=0.01):
    y = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        y[i] = x[i] if x[i] > 0 else alpha * x[i]
    return y, {"x": x, "alpha": alpha}


def leaky_relu_backward(dout, cache):
    x, grad = cache["x"], np.zeros(dout.shape)
    for i in np.ndindex(x.shape):
        grad[i] = dout[i] if x[i] > 0 else cache["alpha"] * dout[i]
    return grad


def elu_forward(x, alpha=1.0):
    y = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        y[i] = x[i] if x[i] > 0 else alpha * math.expm1(x[i])
    return y, {"x": x, "alpha": alpha}


def elu_backward(dout, cache):
    c = cache
    x, grad = c["x"], np.zeros(dout.shape)
    for i in np.ndindex(x.shape):
        grad[i] = dout[i] if x[i] > 0 else dout[i] * c['alpha'] * math.exp(x[i])
    return grad


def softmax_forward(x):
    n, c = x.shape
    probs = np.zeros((n, c))
    for r in range(n):
        top = max(x[r])
        for k in range(c):
            probs[r, k] = math.exp(x[r, k] - top)
        probs[r] /= sum(probs[r])
    return probs, {"probs": probs}


def softmax_backward(dout, cache):
    p = cache["probs"]
    n, c = p.shape
    grad = np.zeros((n, c))
    for r in range(n):
        for i in range(c):
            for j in range(c):
                grad[r, i] += dout[r, j] * p[r, j] * ((1.0 if i == j else 0.0) - p[r, i])
    return grad
