"""State kept in an object of the student's own class, stored in the dict."""
import numpy as np

BUG = ("adamw_step", "w * (1 - self.lr * weight_decay)", "w * (1 - weight_decay)")


class _Adam:
    def __init__(self, w, lr, beta1, beta2, eps):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = np.zeros_like(w), np.zeros_like(w), 0

    def step(self, w, g):
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g ** 2
        m_hat = self.m / (1 - self.beta1 ** self.t)
        v_hat = self.v / (1 - self.beta2 ** self.t)
        return w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def decoupled_step(self, w, g, weight_decay):
        return self.step(w * (1 - self.lr * weight_decay), g)


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    opt = state.setdefault("adam", _Adam(w, lr, beta1, beta2, eps))
    return opt.step(w, dw + weight_decay * w), state


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    opt = state.setdefault("adam", _Adam(w, lr, beta1, beta2, eps))
    return opt.decoupled_step(w, dw, weight_decay), state
