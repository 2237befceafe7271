"""BCE as y * softplus(-x) + (1 - y) * softplus(x), softplus by np.logaddexp;
the sigmoid written with tanh."""
import numpy as np

BUG = ("bce_with_logits", "np.logaddexp(0.0, x)", "np.log(1.0 + np.exp(x))")


def _softplus(x):
    return np.logaddexp(0.0, x)


def bce_with_logits(logits, targets):
    x, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    per = y * _softplus(-x) + (1 - y) * _softplus(x)
    sigma = 0.5 * (1.0 + np.tanh(0.5 * x))
    return per.mean(), (sigma - y) / x.size
