"""CS231n's two-layer net: affine, ReLU and sigmoid layers, each a
``*_forward`` returning ``(out, cache)`` and a ``*_backward``; the network's
cache is the tuple of its layers' caches, the loss a separate function."""
import numpy as np

BUG = ("mlp_backward", "return dout * (cache > 0)", "return dout * (dout > 0)")


def affine_forward(x, w, b):
    return x.dot(w) + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout.dot(w.T), x.T.dot(dout), dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def sigmoid_forward(x):
    out = np.empty_like(x)
    neg = x < 0
    out[~neg] = 1 / (1 + np.exp(-x[~neg]))
    ex = np.exp(x[neg])
    out[neg] = ex / (1 + ex)
    return out, out


def sigmoid_backward(dout, cache):
    return dout * (1 - cache) * cache


LAYERS = {"relu": (relu_forward, relu_backward), "sigmoid": (sigmoid_forward, sigmoid_backward)}


def mlp_forward(x, params, activation):
    act_forward = LAYERS[activation][0]
    a1, fc1_cache = affine_forward(x, params["W"], params["b1"])
    h1, act_cache = act_forward(a1)
    out, fc2_cache = affine_forward(h1, params["U"], params["b2"])
    return out, (fc1_cache, act_cache, fc2_cache, activation)


def mlp_backward(dscores, cache):
    fc1_cache, act_cache, fc2_cache, activation = cache
    grads = {}
    dh1, grads["U"], grads["b2"] = affine_backward(dscores, fc2_cache)
    da1 = LAYERS[activation][1](dh1, act_cache)
    grads["x"], grads["W"], grads["b1"] = affine_backward(da1, fc1_cache)
    return grads


def softmax_loss(s, y):
    num = s.shape[0]
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    ds = np.exp(log_p)
    ds[range(num), y] -= 1
    return -log_p[range(num), y].sum() / num, ds / num


def l2_loss(s, y):
    err = s - y
    return (err ** 2).sum() / err.size, 2 * err / err.size


def mlp_loss(x, y, params, activation, loss):
    out, cache = mlp_forward(x, params, activation)
    data_loss, dout = {"cross_entropy": softmax_loss, "mse": l2_loss}[loss](out, y)
    return float(data_loss), mlp_backward(dout, cache)
