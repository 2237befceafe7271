"""The cache is a closure: each forward pass returns, as its cache, the
function that computes its own backward pass, and every *_backward just
calls it (the neuron's closure calls the activation's)."""
import numpy as np

BUG = ("relu_backward", "lambda g: g * (x > 0)", "lambda g: g * np.maximum(x, 0)")


def _call(dout, cache):
    return cache(dout)


def sigmoid_forward(x):
    small = np.exp(-np.abs(x))
    s = np.where(x < 0, small, 1.0) / (1.0 + small)
    return s, lambda g: g * s * (1 - s)


def tanh_forward(x):
    t = np.tanh(x)
    return t, lambda g: g * (1 - t * t)


def relu_forward(x):
    return np.maximum(x, 0), lambda g: g * (x > 0)


def leaky_relu_forward(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x), lambda g: g * np.where(x > 0, 1, alpha)


def elu_forward(x, alpha=1.0):
    neg = np.minimum(x, 0)
    y = np.where(x > 0, x, alpha * np.expm1(neg))
    return y, lambda g: g * np.where(x > 0, 1.0, alpha * np.exp(neg))


def softmax_forward(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return p, lambda g: p * (g - (g * p).sum(axis=1, keepdims=True))


def neuron_forward(x, w, b, activation):
    forward = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward}
    out, activation_backward = forward[activation](x @ w + b)

    def backward(g):
        dz = activation_backward(g)
        return np.outer(dz, w), x.T @ dz, float(dz.sum())

    return out, backward


sigmoid_backward = tanh_backward = relu_backward = _call
leaky_relu_backward = elu_backward = softmax_backward = neuron_backward = _call
