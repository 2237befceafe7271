"""Formulas written out with exp, each arranged so that exp only ever sees
numbers <= 0: tanh as sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}) and its
derivative as 4 e^{-2|x|} / (1 + e^{-2|x|})^2, the sigmoid as
e^{min(x, 0)} / (1 + e^{-|x|}), ELU with exp(min(x, 0)) - 1, softmax through
log-probabilities."""
import numpy as np

BUG = ("tanh_forward", "np.sign(x) * (1 - e) / (1 + e)", "(1 - e) / (1 + e)")


def tanh_forward(x):
    e = np.exp(-2 * np.abs(x))
    return np.sign(x) * (1 - e) / (1 + e), e


def tanh_backward(dout, cache):
    e = cache
    return dout * 4 * e / (1 + e) ** 2


def sigmoid_forward(x):
    q = np.exp(-np.abs(x))
    return np.exp(np.minimum(x, 0)) / (1 + q), q


def sigmoid_backward(dout, cache):
    e = cache  # sigmoid'(x) = e^{-|x|} / (1 + e^{-|x|})^2, symmetric in x
    return dout * e / (1 + e) ** 2


def elu_forward(x, alpha=1.0):
    ex = np.exp(np.minimum(x, 0))
    return np.where(x > 0, x, alpha * (ex - 1)), (x > 0, alpha * ex)


def elu_backward(dout, cache):
    positive, slope_left = cache
    return dout * np.where(positive, 1, slope_left)


def softmax_forward(x):
    m = np.max(x, axis=1, keepdims=True)
    log_p = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    return p, p


def softmax_backward(dout, cache):
    weighted = (dout * cache).sum(axis=1)
    return cache * (dout - weighted[:, np.newaxis])
