"""Each optimiser's memory lives in a closure (nonlocal variables), made on
the first step and kept in the state dict."""
import numpy as np

BUG = ("rmsprop_step", "if \"rms\" not in state:", "if True:")  # a fresh closure every step


def _momentum(mu, nesterov):
    buf = None

    def direction(g):
        nonlocal buf
        buf = g if buf is None else mu * buf + g
        return g + mu * buf if nesterov else buf

    return direction


def _rms(alpha, eps, mu):
    avg, buf = 0.0, 0.0

    def direction(g):
        nonlocal avg, buf
        avg = alpha * avg + (1 - alpha) * np.square(g)
        scaled = g / (np.sqrt(avg) + eps)
        if mu > 0:
            buf = mu * buf + scaled
            return buf
        return scaled

    return direction


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = np.add(dw, weight_decay * w)
    if momentum:
        if "sgd" not in state:
            state["sgd"] = _momentum(momentum, nesterov)
        g = state["sgd"](g)
    return w - lr * g, state


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    if "rms" not in state:
        state["rms"] = _rms(alpha, eps, momentum)
    return w - lr * state["rms"](np.add(dw, weight_decay * w)), state
