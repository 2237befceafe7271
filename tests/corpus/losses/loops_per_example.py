"""A loop over the examples, with math for the scalars."""
import math

import numpy as np

BUG = ("mse_loss", "grad[i] = 2 * d / n", "grad[i] = d / n")


def mse_loss(pred, target):
    flat_p, flat_t = pred.reshape(-1), target.reshape(-1)
    n = flat_p.size
    total, grad = 0.0, np.zeros(n)
    for i in range(n):
        d = flat_p[i] - flat_t[i]
        total += d * d
        grad[i] = 2 * d / n
    return total / n, grad.reshape(pred.shape)


def softmax_cross_entropy(logits, labels):
    n, c = logits.shape
    loss, grad = 0.0, np.zeros((n, c))
    for i in range(n):
        m = max(logits[i])
        exps = [math.exp(z - m) for z in logits[i]]
        s = sum(exps)
        loss += -(logits[i, labels[i]] - m - math.log(s))
        for j in range(c):
            grad[i, j] = (exps[j] / s - (j == labels[i])) / n
    return loss / n, grad
