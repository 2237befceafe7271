"""A plausible submission with several catalogued mistakes, each marked
``# BUG: <name>``; everything else is correct."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_forward(x):
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    out = cache
    # BUG: sigmoid-derivative-applied-twice
    return dout * sigmoid(out) * (1 - sigmoid(out))


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    # BUG: relu-gradient-not-masked (forgot dx[x <= 0] = 0)
    return dx


def leaky_relu_forward(x, alpha=0.01):
    out = np.where(x > 0, x, alpha * x)
    return out, (x, alpha)


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    dx = dout.copy()
    dx[x <= 0] *= alpha
    return dx


def elu_forward(x, alpha=1.0):
    out = x.copy()
    neg = x <= 0
    out[neg] = alpha * (np.exp(x[neg]) - 1)
    return out, (x, out, alpha)


def elu_backward(dout, cache):
    x, out, alpha = cache
    local = np.ones_like(x)
    # BUG: elu-derivative-uses-out (should be out + alpha)
    local[x <= 0] = out[x <= 0]
    return dout * local


def softmax_forward(x):
    # BUG: softmax-no-max-shift
    e = np.exp(x)
    p = e / e.sum(axis=1, keepdims=True)
    return p, p


def softmax_backward(dout, cache):
    p = cache
    s = (dout * p).sum(axis=1, keepdims=True)
    return p * (dout - s)


def neuron_forward(x, w, b, activation):
    z = x.dot(w) + b
    if activation == "sigmoid":
        out, c = sigmoid_forward(z)
    elif activation == "tanh":
        out, c = tanh_forward(z)
    else:
        out, c = relu_forward(z)
    return out, (x, w, activation, c)


def neuron_backward(dout, cache):
    x, w, activation, c = cache
    if activation == "sigmoid":
        dz = sigmoid_backward(dout, c)
    elif activation == "tanh":
        dz = tanh_backward(dout, c)
    else:
        dz = relu_backward(dout, c)
    dx = dz[:, None] * w[None, :]
    dw = x.T.dot(dz)
    # BUG: neuron-db-not-summed
    db = dz
    return dx, dw, db
