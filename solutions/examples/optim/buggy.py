"""Assignment 4, a plausible first attempt with some classic mistakes."""

import numpy as np


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    grad = dw + weight_decay * w
    if momentum == 0:
        return w - lr * grad, state
    if "v" not in state:
        state["v"] = grad.copy()
    else:
        state["v"] = momentum * state["v"] + grad
    # BUG: sgd-nesterov-as-plain-momentum (nesterov is never used)
    return w - lr * state["v"], state


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    grad = dw + weight_decay * w
    m = state.get("m", np.zeros_like(w))
    v = state.get("v", np.zeros_like(w))
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    state["m"], state["v"] = m, v
    w_next = w - lr * m / (np.sqrt(v) + eps)  # BUG: adam-no-bias-correction
    return w_next, state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    grad = dw + weight_decay * w  # BUG: adamw-coupled-weight-decay
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0) + (1 - beta1) * grad
    v = beta2 * state.get("v", 0) + (1 - beta2) * grad ** 2
    state.update({"t": t, "m": m, "v": v})
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), state


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    grad = dw + weight_decay * w
    cache = alpha * state.get("cache", 0.0) + (1 - alpha) * grad ** 2
    state["cache"] = cache
    update = grad / np.sqrt(cache + eps)  # BUG: rmsprop-eps-inside-sqrt
    if momentum > 0:
        update = momentum * state.get("buf", 0.0) + update
        state["buf"] = update
    return w - lr * update, state
