"""Functional style: a new state dict every step, never mutated; new arrays."""
import numpy as np

BUG = ("rmsprop_step", "alpha * state.get(\"sq\", 0.0) + (1 - alpha) * g * g", "state.get(\"sq\", 0.0) + g * g")


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = weight_decay * w + dw
    if momentum == 0:
        return w - lr * g, dict(state)
    b = g if "b" not in state else momentum * state["b"] + g
    direction = g + momentum * b if nesterov else b
    return w - lr * direction, {**state, "b": b}


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    g = weight_decay * w + dw
    t = 1 + state.get("t", 0)
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    step = (lr / (1 - beta1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps)
    return w - step, {"t": t, "m": m, "v": v}


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return adam_step(w - lr * weight_decay * w, dw, state, lr, beta1, beta2, eps)


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    g = weight_decay * w + dw
    sq = alpha * state.get("sq", 0.0) + (1 - alpha) * g * g
    step = g / (np.sqrt(sq) + eps)
    new = {"sq": sq}
    if momentum > 0:
        step = momentum * state.get("buf", 0.0) + step
        new["buf"] = step
    return w - lr * step, new
