"""Assignment 4, written one weight at a time: every optimiser walks over the
elements of w with an explicit loop and keeps its state in per-element arrays."""

import math

import numpy as np


def _zeros_like(state, key, w):
    if key not in state:
        state[key] = np.zeros(w.shape)
    return state[key]


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    w_next = np.array(w, dtype=float, copy=True)
    first = "buf" not in state
    buf = _zeros_like(state, "buf", w)
    for i in np.ndindex(w.shape):
        grad = dw[i] + weight_decay * w[i]
        if momentum:
            buf[i] = grad if first else momentum * buf[i] + grad
            direction = grad + momentum * buf[i] if nesterov else buf[i]
        else:
            direction = grad
        w_next[i] = w[i] - lr * direction
    return w_next, state


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    state["step"] = state.get("step", 0) + 1
    t = state["step"]
    first = _zeros_like(state, "first_moment", w)
    second = _zeros_like(state, "second_moment", w)
    w_next = np.empty(w.shape)
    for i in np.ndindex(w.shape):
        grad = dw[i] + weight_decay * w[i]
        first[i] = beta1 * first[i] + (1.0 - beta1) * grad
        second[i] = beta2 * second[i] + (1.0 - beta2) * grad * grad
        step_size = lr / (1.0 - beta1 ** t)
        denominator = math.sqrt(second[i]) / math.sqrt(1.0 - beta2 ** t) + eps
        w_next[i] = w[i] - step_size * first[i] / denominator
    return w_next, state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    shrunk = np.empty(w.shape)
    for i in np.ndindex(w.shape):
        shrunk[i] = w[i] - lr * weight_decay * w[i]
    return adam_step(shrunk, dw, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=0.0)


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    sq = _zeros_like(state, "sq", w)
    buf = _zeros_like(state, "buf", w)
    w_next = np.empty(w.shape)
    for i in np.ndindex(w.shape):
        grad = dw[i] + weight_decay * w[i]
        sq[i] = alpha * sq[i] + (1.0 - alpha) * grad ** 2
        scaled = grad / (math.sqrt(sq[i]) + eps)
        if momentum > 0:
            buf[i] = momentum * buf[i] + scaled
            scaled = buf[i]
        w_next[i] = w[i] - lr * scaled
    return w_next, state
