"""Boolean masks and masked assignment into a copy (out = x.copy();
out[mask] = ...); the sigmoid evaluated piecewise on the two halves of a
mask, each with the exp that cannot overflow."""
import numpy as np

BUG = ("leaky_relu_backward", "g[neg] *= slope", "g[neg] = 0")


def sigmoid_forward(x):
    s = np.empty(x.shape)
    pos = x >= 0
    s[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    s[~pos] = ex / (1 + ex)
    return s, s


def sigmoid_backward(dout, cache):
    g = dout.copy()
    g *= cache
    g *= 1 - cache
    return g


def relu_forward(x):
    y = x.copy()
    off = y < 0
    y[off] = 0
    return y, off


def relu_backward(dout, cache):
    g = dout.copy()
    g[cache] = 0
    return g


def leaky_relu_forward(x, alpha=0.01):
    neg = x < 0
    y = x.copy()
    y[neg] *= alpha
    return y, (neg, alpha)


def leaky_relu_backward(dout, cache):
    neg, slope = cache
    g = dout.copy()
    g[neg] *= slope
    return g


def elu_forward(x, alpha=1.0):
    neg = x <= 0
    y = x.copy()
    y[neg] = alpha * np.expm1(x[neg])
    return y, (neg, y, alpha)


def elu_backward(dout, cache):
    neg, y, alpha = cache
    g = dout.copy()
    g[neg] *= y[neg] + alpha
    return g
