"""CS231n style: each cache is the layer's input (a tuple of the inputs where
there are several) and every backward pass recomputes what it needs from it;
neuron_backward finds the activation's backward by name in globals()."""
import numpy as np

BUG = ("neuron_backward", "db = np.sum(dz)", "db = np.mean(dz)")


def sigmoid_forward(x):
    neg_part = np.exp(np.minimum(x, 0))  # e^x where x < 0, else 1
    out = neg_part / (neg_part + np.exp(-np.maximum(x, 0)))
    return out, x


def sigmoid_backward(dout, cache):
    s, _ = sigmoid_forward(cache)
    return dout * s * (1 - s)


def tanh_forward(x):
    return np.tanh(x), x


def tanh_backward(dout, cache):
    return dout * (1 - np.tanh(cache) ** 2)


def relu_forward(x):
    return x * (x > 0), x


def relu_backward(dout, cache):
    grad = np.array(dout, copy=True)
    grad[cache <= 0] = 0
    return grad


def leaky_relu_forward(x, alpha=0.01):
    return np.where(x >= 0, x, x * alpha), (x, alpha)


def leaky_relu_backward(dout, cache):
    x, a = cache
    return dout * np.where(x >= 0, 1.0, a)


def softmax_forward(x):
    shifted_logits = x - x.max(axis=1, keepdims=True)
    exp_scores = np.exp(shifted_logits)
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    return probs, x


def softmax_backward(dout, cache):
    probs, _ = softmax_forward(cache)
    return probs * (dout - (dout * probs).sum(axis=1, keepdims=True))


def neuron_forward(x, w, b, activation):
    z = x.dot(w) + b
    out, _ = globals()[activation + "_forward"](z)
    return out, (x, w, b, activation)


def neuron_backward(dout, cache):
    x, w, b, activation = cache
    z = x.dot(w) + b
    dz = globals()[activation + "_backward"](dout, z)
    dx = dz[:, None] * w[None, :]
    dw = x.T.dot(dz)
    db = np.sum(dz)
    return (dx, dw, db)
