"""Reshape and view tricks: elementwise layers work on a flat view
(x.reshape(-1)) and restore the shape at the end, row statistics are
reshaped into columns instead of keepdims, the neuron uses w as a (D, 1)
column and a zero-stride view (np.broadcast_to) of it for dx."""
import numpy as np

BUG = ("softmax_forward", "e.sum(axis=1).reshape(-1, 1)", "e.sum(axis=1).reshape(1, -1)")


def sigmoid_forward(x):
    flat = x.reshape(-1)
    e = np.exp(-np.abs(flat))
    s = (np.where(flat >= 0, 1.0, e) / (1.0 + e)).reshape(x.shape)
    return s, s


def sigmoid_backward(dout, cache):
    flat = cache.reshape(-1)
    return (dout.reshape(-1) * flat * (1 - flat)).reshape(cache.shape)


def relu_forward(x):
    flat = x.reshape(-1)
    on = flat > 0
    return (flat * on).reshape(x.shape), (on, x.shape)


def relu_backward(dout, cache):
    on, shape = cache
    return (dout.reshape(-1) * on).reshape(shape)


def elu_forward(x, alpha=1.0):
    flat = x.reshape(-1)
    y = np.where(flat > 0, flat, alpha * np.expm1(np.minimum(flat, 0)))
    return y.reshape(x.shape), (flat, y, alpha, x.shape)


def elu_backward(dout, cache):
    flat, y, alpha, shape = cache
    return (dout.reshape(-1) * np.where(flat > 0, 1.0, y + alpha)).reshape(shape)


def softmax_forward(x):
    e = np.exp(x - x.max(axis=1).reshape(-1, 1))
    p = e / e.sum(axis=1).reshape(-1, 1)
    return p, p


def softmax_backward(dout, cache):
    dot = (dout * cache).sum(axis=1).reshape(-1, 1)
    return cache * (dout - dot)


def neuron_forward(x, w, b, activation):
    z = (x @ w.reshape(-1, 1)).reshape(-1) + b
    out, inner = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward}[activation](z)
    return out, (x, w, activation, inner)


def neuron_backward(dout, cache):
    x, w, activation, inner = cache
    dz = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward}[activation](dout, inner)
    dx = np.broadcast_to(w, x.shape) * dz.reshape(-1, 1)
    dw = (dz.reshape(1, -1) @ x).reshape(-1)
    return dx, dw, dz.sum()
