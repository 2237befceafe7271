"""Kingma and Ba's "efficient" Adam: the raw moments with a step size
alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), and eps rescaled to
eps * sqrt(1 - beta2^t) so that it equals PyTorch's placement."""
import numpy as np

BUG = ("adam_step", "eps_hat = eps * root", "eps_hat = eps")


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    g = dw + w * weight_decay
    step = state["step"] = state.get("step", 0) + 1
    m = state["exp_avg"] = beta1 * state.get("exp_avg", np.zeros_like(w)) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", np.zeros_like(w)) + (1 - beta2) * g * g
    root = np.sqrt(1 - beta2 ** step)
    alpha_t = lr * root / (1 - beta1 ** step)
    eps_hat = eps * root
    return w - alpha_t * m / (np.sqrt(v) + eps_hat), state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return adam_step(w - lr * weight_decay * w, dw, state, lr, beta1, beta2, eps)
