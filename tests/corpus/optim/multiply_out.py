"""Buffers updated in place with ufuncs and out= (np.multiply(buf, mu,
out=buf)), the caller's w too; no temporary kept longer than a line."""
import numpy as np

BUG = ("rmsprop_step", "np.multiply(sq, alpha, out=sq)", "np.multiply(sq, alpha)")


def _regularised(w, dw, weight_decay):
    g = np.multiply(w, weight_decay)
    np.add(g, dw, out=g)
    return g


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = _regularised(w, dw, weight_decay)
    if momentum:
        if "buf" in state:
            buf = state["buf"]
            np.multiply(buf, momentum, out=buf)
            np.add(buf, g, out=buf)
        else:
            buf = state["buf"] = g.copy()
        if nesterov:
            np.add(g, momentum * buf, out=g)
        else:
            g = buf
    np.subtract(w, lr * g, out=w)
    return w, state


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    g = _regularised(w, dw, weight_decay)
    sq = state.setdefault("sq", np.zeros_like(w))
    np.multiply(sq, alpha, out=sq)
    np.add(sq, (1 - alpha) * np.square(g), out=sq)
    denom = np.sqrt(sq)
    np.add(denom, eps, out=denom)
    np.divide(g, denom, out=g)
    if momentum > 0:
        buf = state.setdefault("buf", np.zeros_like(w))
        np.multiply(buf, momentum, out=buf)
        np.add(buf, g, out=buf)
        g = buf
    np.subtract(w, lr * g, out=w)
    return w, state
