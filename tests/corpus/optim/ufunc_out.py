"""numpy ufuncs with out= into the caller's w, a shared moment helper."""
import numpy as np

BUG = ("adam_step", "np.sqrt(v_hat, out=v_hat)\n    v_hat += eps", "v_hat += eps\n    np.sqrt(v_hat, out=v_hat)")


def _moments(state, g, beta1, beta2):
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = beta1 * state.get("m", 0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0) + (1 - beta2) * np.square(g)
    return m / (1 - beta1 ** t), v / (1 - beta2 ** t)


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    m_hat, v_hat = _moments(state, np.add(dw, weight_decay * w), beta1, beta2)
    np.sqrt(v_hat, out=v_hat)
    v_hat += eps
    np.subtract(w, lr * m_hat / v_hat, out=w)
    return w, state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    np.multiply(w, 1 - lr * weight_decay, out=w)
    return adam_step(w, dw, state, lr, beta1, beta2, eps)
