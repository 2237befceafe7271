"""The "Algorithm" boxes of PyTorch's documentation transliterated: theta,
gamma, lambda, mu, tau (dampening), g_t, b_t, m_t, v_t, a step counter t."""
import numpy as np

BUG = ("sgd_step", "weight_decay, momentum, 0.0", "weight_decay, momentum, momentum")  # dampening tau = mu


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    theta, gamma, lam, mu, tau = w, lr, weight_decay, momentum, 0.0
    t = state["t"] = state.get("t", 0) + 1
    g_t = dw
    if lam != 0:
        g_t = g_t + lam * theta
    if mu != 0:
        if t > 1:
            b_t = mu * state["b"] + (1 - tau) * g_t
        else:
            b_t = g_t
        state["b"] = b_t
        if nesterov:
            g_t = g_t + mu * b_t
        else:
            g_t = b_t
    return theta - gamma * g_t, state


def _adam_update(theta, g_t, state, gamma, beta1, beta2, eps):
    t = state["t"] = state.get("t", 0) + 1
    m_t = state["m"] = beta1 * state.get("m", 0) + (1 - beta1) * g_t
    v_t = state["v"] = beta2 * state.get("v", 0) + (1 - beta2) * g_t ** 2
    m_hat = m_t / (1 - beta1 ** t)
    v_hat = v_t / (1 - beta2 ** t)
    return theta - gamma * m_hat / (np.sqrt(v_hat) + eps)


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    g_t = dw if weight_decay == 0 else dw + weight_decay * w
    return _adam_update(w, g_t, state, lr, beta1, beta2, eps), state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    theta = w - lr * weight_decay * w
    return _adam_update(theta, dw, state, lr, beta1, beta2, eps), state


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    theta, gamma, lam, mu = w, lr, weight_decay, momentum
    g_t = dw if lam == 0 else dw + lam * theta
    v_t = state["v"] = alpha * state.get("v", 0) + (1 - alpha) * g_t ** 2
    v_tilde = v_t
    if mu > 0:
        b_t = state["b"] = mu * state.get("b", 0) + g_t / (np.sqrt(v_tilde) + eps)
        return theta - gamma * b_t, state
    return theta - gamma * g_t / (np.sqrt(v_tilde) + eps), state
