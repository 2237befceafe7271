"""Nested loops over every element (np.ndindex), updated in place."""
import numpy as np

BUG = ("rmsprop_step", "sq[i] = alpha * sq[i] + (1 - alpha) * g * g", "sq[i] = alpha * sq[i] + g * g")


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    buf = state.get("buf")
    first = buf is None
    if first:
        buf = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        g = dw[i] + weight_decay * w[i]
        if momentum:
            buf[i] = g if first else momentum * buf[i] + g
            g = g + momentum * buf[i] if nesterov else buf[i]
        w[i] = w[i] - lr * g
    if momentum:
        state["buf"] = buf
    return w, state


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    sq = state.setdefault("sq", np.zeros_like(w))
    buf = state.setdefault("buf", np.zeros_like(w))
    for i in np.ndindex(w.shape):
        g = dw[i] + weight_decay * w[i]
        sq[i] = alpha * sq[i] + (1 - alpha) * g * g
        step = g / (np.sqrt(sq[i]) + eps)
        if momentum:
            buf[i] = momentum * buf[i] + step
            step = buf[i]
        w[i] -= lr * step
    return w, state
