"""Bias correction from running products: beta1 ** t and beta2 ** t kept in
the state and multiplied by the betas at every step."""
import numpy as np

BUG = ("adam_step", "pow1=1.0, pow2=1.0", "pow1=beta1, pow2=beta2")


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    if not state:
        state.update(mean=np.zeros_like(w), sq=np.zeros_like(w), pow1=1.0, pow2=1.0)
    grad = weight_decay * w + dw
    state["pow1"] *= beta1
    state["pow2"] *= beta2
    state["mean"] = beta1 * state["mean"] + (1 - beta1) * grad
    state["sq"] = beta2 * state["sq"] + (1 - beta2) * grad * grad
    corr1, corr2 = 1 - state["pow1"], 1 - state["pow2"]
    return w - lr * (state["mean"] / corr1) / (np.sqrt(state["sq"] / corr2) + eps), state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    shrunk = w - lr * weight_decay * w
    return adam_step(shrunk, dw, state, lr, beta1, beta2, eps)
