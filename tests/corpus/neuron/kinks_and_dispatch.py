"""Derivatives at the kink taken from the right (relu'(0) = leaky'(0) =
elu'(0) = 1, all through x >= 0), and neuron_forward dispatching through a
dict of (forward, backward) pairs, keeping the backward function in its
cache."""
import numpy as np

BUG = ("neuron_backward", "dx = dz[:, np.newaxis] * w", "dx = dout[:, np.newaxis] * w")


def relu_forward(x):
    return np.where(x >= 0, x, 0.0), x


def relu_backward(dout, cache):
    return dout * (cache >= 0)


def leaky_relu_forward(x, alpha=0.01):
    return np.where(x >= 0, x, alpha * x), (x >= 0, alpha)


def leaky_relu_backward(dout, cache):
    right, alpha = cache
    return np.where(right, dout, dout * alpha)


def elu_forward(x, alpha=1.0):
    right = x >= 0
    y = np.where(right, x, alpha * np.expm1(np.where(right, 0.0, x)))
    return y, (right, y, alpha)


def elu_backward(dout, cache):
    right, y, alpha = cache
    return dout * np.where(right, 1.0, y + alpha)


ACTIVATIONS = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
}


def neuron_forward(x, w, b, activation):
    fwd, bwd = ACTIVATIONS[activation]
    out, inner = fwd(np.dot(x, w) + b)
    return out, (x, w, bwd, inner)


def neuron_backward(dout, cache):
    x, w, bwd, inner = cache
    dz = bwd(dout, inner)
    dx = dz[:, np.newaxis] * w
    return dx, np.dot(dz, x), np.sum(dz)
