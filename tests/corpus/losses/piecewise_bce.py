"""The textbook's piecewise stable BCE (max(x, 0) - x y + log(1 + exp(-|x|)))."""
import numpy as np

BUG = ("bce_with_logits", "np.log1p(np.exp(-np.abs(x)))", "np.log(np.exp(-np.abs(x)))")


def bce_with_logits(logits, targets):
    x, y = logits, targets
    per = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    e = np.exp(-np.abs(x))
    sig = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return per.mean(), (sig - y) / x.size
