"""np.linalg.norm for the squared error; the stable BCE's two branches
(x >= 0, x < 0) filled in through boolean masks."""
import numpy as np

BUG = ("mse_loss", "np.linalg.norm(d) ** 2 / d.size", "np.linalg.norm(d) / d.size")


def mse_loss(pred, target):
    d = pred - target
    return np.linalg.norm(d) ** 2 / d.size, 2 / d.size * d


def bce_with_logits(logits, targets):
    x, y = logits, targets
    per, sig = np.empty(x.shape), np.empty(x.shape)
    pos, neg = x >= 0, x < 0
    e_pos, e_neg = np.exp(-x[pos]), np.exp(x[neg])
    per[pos] = x[pos] * (1 - y[pos]) + np.log1p(e_pos)
    per[neg] = -x[neg] * y[neg] + np.log1p(e_neg)
    sig[pos] = 1 / (1 + e_pos)
    sig[neg] = e_neg / (1 + e_neg)
    return per.mean(), (sig - y) / x.size
