"""Assignment 4 in single precision: parameters, gradients, state and
hyper-parameters all float32; the state keeps the bias-correction products
beta^t instead of a step counter."""

import numpy as np

f32 = np.float32


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    w = np.asarray(w, dtype=f32)
    d = np.asarray(dw, dtype=f32) + f32(weight_decay) * w
    mu = f32(momentum)
    if momentum:
        v = state.get("velocity")
        v = d.copy() if v is None else mu * v + d
        state["velocity"] = v
        d = d + mu * v if nesterov else v
    return (w - f32(lr) * d).astype(f32), state


def _adam_core(w, g, state, lr, beta1, beta2, eps):
    b1, b2 = f32(beta1), f32(beta2)
    m = state.get("m", np.zeros_like(w))
    v = state.get("v", np.zeros_like(w))
    m = b1 * m + (f32(1) - b1) * g
    v = b2 * v + (f32(1) - b2) * np.square(g)
    b1t = state.get("b1t", f32(1)) * b1
    b2t = state.get("b2t", f32(1)) * b2
    state.update(m=m, v=v, b1t=b1t, b2t=b2t)
    update = (m / (f32(1) - b1t)) / (np.sqrt(v / (f32(1) - b2t)) + f32(eps))
    return (w - f32(lr) * update).astype(f32)


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    w = np.asarray(w, dtype=f32)
    g = np.asarray(dw, dtype=f32)
    if weight_decay:
        g = g + f32(weight_decay) * w
    return _adam_core(w, g, state, lr, beta1, beta2, eps), state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    w = np.asarray(w, dtype=f32)
    w = w * (f32(1) - f32(lr) * f32(weight_decay))
    return _adam_core(w, np.asarray(dw, dtype=f32), state, lr, beta1, beta2, eps), state


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    w = np.asarray(w, dtype=f32)
    g = np.asarray(dw, dtype=f32) + f32(weight_decay) * w
    a = f32(alpha)
    s = a * state.get("s", np.zeros_like(w)) + (f32(1) - a) * g * g
    state["s"] = s
    step = g / (np.sqrt(s) + f32(eps))
    if momentum > 0:
        step = f32(momentum) * state.get("buf", np.zeros_like(w)) + step
        state["buf"] = step
    return (w - f32(lr) * step).astype(f32), state
