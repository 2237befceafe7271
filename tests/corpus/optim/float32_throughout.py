"""float32 throughout: inputs cast once, state and results in float32."""
import numpy as np

BUG = ("sgd_step", "g = (g + momentum * b) if nesterov else b", "g = b")


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    w, dw = w.astype(np.float32), dw.astype(np.float32)
    g = dw + np.float32(weight_decay) * w
    if momentum != 0.0:
        b = np.float32(momentum) * state["b"] + g if "b" in state else g
        state["b"] = b
        g = (g + momentum * b) if nesterov else b
    return (w - np.float32(lr) * g).astype(np.float32), state


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    w, g = w.astype(np.float32), dw.astype(np.float32) + np.float32(weight_decay) * w.astype(np.float32)
    t = 1 + state.get("t", 0)
    m = np.float32(beta1) * state.get("m", np.zeros_like(w)) + np.float32(1 - beta1) * g
    v = np.float32(beta2) * state.get("v", np.zeros_like(w)) + np.float32(1 - beta2) * g * g
    state.update(m=m, v=v, t=t)
    m_hat, v_hat = m / np.float32(1 - beta1 ** t), v / np.float32(1 - beta2 ** t)
    return w - np.float32(lr) * m_hat / (np.sqrt(v_hat) + np.float32(eps)), state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return adam_step(w.astype(np.float32) * np.float32(1 - lr * weight_decay), dw, state, lr, beta1, beta2, eps)


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    w = w.astype(np.float32)
    g = dw.astype(np.float32) + np.float32(weight_decay) * w
    sq = np.float32(alpha) * state.get("sq", np.zeros_like(w)) + np.float32(1 - alpha) * g * g
    state["sq"] = sq
    step = g / (np.sqrt(sq) + np.float32(eps))
    if momentum:
        step = np.float32(momentum) * state.get("buf", np.zeros_like(w)) + step
        state["buf"] = step
    return w - np.float32(lr) * step, state
