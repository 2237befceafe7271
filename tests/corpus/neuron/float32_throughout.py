"""float32 throughout: every input is cast to float32 first and every result
is float32 (np.float32 constants, so nothing is promoted back to float64)."""
import numpy as np

BUG = ("tanh_backward", "one - t * t", "one - t")

ONE = np.float32(1)


def _f32(a):
    return np.asarray(a, dtype=np.float32)


def sigmoid_forward(x):
    x = _f32(x)
    z = np.exp(-np.abs(x))
    s = np.where(x >= 0, ONE / (ONE + z), z / (ONE + z)).astype(np.float32)
    return s, s


def sigmoid_backward(dout, cache):
    return _f32(dout) * cache * (ONE - cache)


def tanh_forward(x):
    t = np.tanh(_f32(x))
    return t, t


def tanh_backward(dout, cache):
    t, one = cache, ONE
    return _f32(dout) * (one - t * t)


def relu_forward(x):
    x = _f32(x)
    return np.maximum(x, np.float32(0)), x


def relu_backward(dout, cache):
    return _f32(dout) * (cache > 0).astype(np.float32)


def elu_forward(x, alpha=1.0):
    x, a = _f32(x), np.float32(alpha)
    y = np.where(x > 0, x, a * np.expm1(np.minimum(x, np.float32(0))))
    return y, (x, a)


def elu_backward(dout, cache):
    x, a = cache
    return _f32(dout) * np.where(x > 0, ONE, a * np.exp(np.minimum(x, np.float32(0))))


def softmax_forward(x):
    x = _f32(x)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return p, p


def softmax_backward(dout, cache):
    g = _f32(dout)
    return cache * (g - (g * cache).sum(axis=1, keepdims=True))


def neuron_forward(x, w, b, activation):
    x, w = _f32(x), _f32(w)
    z = x @ w + np.float32(b)
    layer = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward}[activation]
    out, c = layer(z)
    return out, (x, w, activation, c)


def neuron_backward(dout, cache):
    x, w, activation, c = cache
    layer = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward}[activation]
    dz = _f32(layer(_f32(dout), c))
    return np.outer(dz, w), x.T @ dz, dz.sum(dtype=np.float32)
