"""A correct submission that computes in float32 and returns float32 arrays,
with other formulations than the reference solution (the tanh form of the
sigmoid, log-sum-exp for softmax, einsum for the neuron)."""

import numpy as np

f32 = np.float32


def sigmoid_forward(x):
    x = np.asarray(x, dtype=f32)
    # sigma(x) = (1 + tanh(x / 2)) / 2 never overflows
    s = f32(0.5) * (f32(1) + np.tanh(x * f32(0.5)))
    return s, s


def sigmoid_backward(dout, cache):
    s = cache
    return np.asarray(dout, dtype=f32) * (s - s * s)


def tanh_forward(x):
    t = np.tanh(np.asarray(x, dtype=f32))
    return t, t


def tanh_backward(dout, cache):
    t = cache
    return np.asarray(dout, dtype=f32) * (f32(1) - np.square(t))


def relu_forward(x):
    x = np.asarray(x, dtype=f32)
    mask = x > 0
    return x * mask, mask


def relu_backward(dout, cache):
    mask = cache
    return np.asarray(dout, dtype=f32) * mask


def leaky_relu_forward(x, alpha=0.01):
    x = np.asarray(x, dtype=f32)
    slope = np.where(x > 0, f32(1), f32(alpha)).astype(f32)
    return x * slope, slope


def leaky_relu_backward(dout, cache):
    slope = cache
    return np.asarray(dout, dtype=f32) * slope


def elu_forward(x, alpha=1.0):
    x = np.asarray(x, dtype=f32)
    a = f32(alpha)
    neg = np.minimum(x, f32(0))
    out = np.maximum(x, f32(0)) + a * np.expm1(neg)
    # slope: 1 on the positive side, alpha * exp(x) on the other
    slope = np.where(x > 0, f32(1), a * np.exp(neg)).astype(f32)
    return out, slope


def elu_backward(dout, cache):
    slope = cache
    return np.asarray(dout, dtype=f32) * slope


def softmax_forward(x):
    x = np.asarray(x, dtype=f32)
    # log-softmax of the shifted scores (x - max is exact in float32 and at most 0);
    # adding the max back before the subtraction would round at the scale of x
    shifted = x - x.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    p = np.exp(log_p)
    return p, p


def softmax_backward(dout, cache):
    p = cache
    g = np.asarray(dout, dtype=f32)
    # Jacobian-vector product: diag(p) g - p (p . g)
    inner = np.einsum("nc,nc->n", g, p)[:, None]
    return p * g - p * inner


_LAYERS = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
}


def neuron_forward(x, w, b, activation):
    x = np.asarray(x, dtype=f32)
    w = np.asarray(w, dtype=f32)
    z = np.einsum("nd,d->n", x, w) + f32(b)
    forward, _ = _LAYERS[activation]
    out, act_cache = forward(z)
    return out, (x, w, activation, act_cache)


def neuron_backward(dout, cache):
    x, w, activation, act_cache = cache
    _, backward = _LAYERS[activation]
    dz = backward(dout, act_cache)
    dx = np.einsum("n,d->nd", dz, w)
    dw = np.einsum("n,nd->d", dz, x)
    db = dz.sum(dtype=f32)
    return dx, dw, db
