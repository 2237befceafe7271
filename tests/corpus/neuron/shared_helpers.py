"""Helper functions shared between forward and backward passes and between
layers: one softplus, a sigmoid as exp(-softplus(-x)), tanh as
2 * sigmoid(2x) - 1, softmax as exp(x - logsumexp(x)) with a hand-written
logsumexp, and an affine helper pair for the neuron."""
import numpy as np

BUG = ("softmax_forward", "return top + np.log(", "return np.log(")


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return np.exp(-_softplus(-x))


def _logsumexp(x, axis):
    top = np.max(x, axis=axis, keepdims=True)
    return top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))


def _rowdot(a, b):
    return np.sum(a * b, axis=1, keepdims=True)


def _affine(x, w, b):
    return x @ w + b


def _affine_backward(dz, x, w):
    return dz[:, None] * w, dz @ x, dz.sum()


def sigmoid_forward(x):
    s = _sigmoid(x)
    return s, s


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    t = 2 * _sigmoid(2 * x) - 1
    return t, t


def tanh_backward(dout, cache):
    return dout * (1 - cache) * (1 + cache)


def softmax_forward(x):
    p = np.exp(x - _logsumexp(x, axis=1))
    return p, p


def softmax_backward(dout, cache):
    return cache * (dout - _rowdot(dout, cache))


_PAIRS = {"sigmoid": (sigmoid_forward, sigmoid_backward),
          "tanh": (tanh_forward, tanh_backward),
          "relu": (relu_forward, relu_backward)}


def neuron_forward(x, w, b, activation):
    out, inner = _PAIRS[activation][0](_affine(x, w, b))
    return out, (x, w, activation, inner)


def neuron_backward(dout, cache):
    x, w, activation, inner = cache
    return _affine_backward(_PAIRS[activation][1](dout, inner), x, w)
