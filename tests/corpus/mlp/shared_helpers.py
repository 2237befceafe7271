"""Helpers shared by the forward and backward passes: one dense-layer
function each way, used for both layers, and an activation helper that
returns the local derivative along with the output."""
import numpy as np

BUG = ("mlp_backward", "return d @ w.T, inp.T @ d, d.sum(axis=0)", "return d @ w.T, inp.T @ d, d.mean(axis=0)")


def _dense(inp, w, b):
    return inp @ w + b


def _dense_back(d, inp, w):
    return d @ w.T, inp.T @ d, d.sum(axis=0)


def _activate(z, kind):
    if kind == "relu":
        return z * (z > 0), (z > 0).astype(z.dtype)
    s = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
    return s, s * (1 - s)


def mlp_forward(x, params, activation):
    h, local = _activate(_dense(x, params["W"], params["b1"]), activation)
    return _dense(h, params["U"], params["b2"]), (x, h, local, params["W"], params["U"])


def mlp_backward(dscores, cache):
    x, h, local, W, U = cache
    dh, dU, db2 = _dense_back(dscores, h, U)
    dx, dW, db1 = _dense_back(dh * local, x, W)
    return dict(W=dW, b1=db1, U=dU, b2=db2, x=dx)


def _log_softmax(s):
    s = s - s.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def mlp_loss(x, y, params, activation, loss):
    out, cache = mlp_forward(x, params, activation)
    if loss == "cross_entropy":
        lp = _log_softmax(out)
        idx = (np.arange(len(y)), y)
        d = np.exp(lp)
        d[idx] -= 1
        return float(-lp[idx].mean()), mlp_backward(d / len(y), cache)
    diff = out - y
    return float((diff ** 2).mean()), mlp_backward(2 * diff / diff.size, cache)
