"""Assignment 2, written one example (and one element) at a time."""

import math

import numpy as np


def mse_loss(pred, target):
    flat_pred = pred.reshape(-1)
    flat_target = target.reshape(-1)
    count = flat_pred.size
    total = 0.0
    grad = np.zeros(count)
    for i in range(count):
        d = flat_pred[i] - flat_target[i]
        total += d * d
        grad[i] = 2 * d / count
    return total / count, grad.reshape(pred.shape)


def softmax_cross_entropy(logits, labels):
    n, c = logits.shape
    total = 0.0
    grad = np.zeros((n, c))
    for i in range(n):
        row = logits[i]
        biggest = max(row)
        exps = [math.exp(row[j] - biggest) for j in range(c)]
        z = sum(exps)
        # -log p_y = log(sum exp(row - biggest)) + biggest - row[y]
        total += math.log(z) + biggest - row[labels[i]]
        for j in range(c):
            grad[i, j] = exps[j] / z
        grad[i, labels[i]] -= 1.0
    return total / n, grad / n


def bce_with_logits(logits, targets):
    flat_x = logits.reshape(-1)
    flat_y = targets.reshape(-1)
    count = flat_x.size
    total = 0.0
    grad = np.zeros(count)
    for i in range(count):
        x, y = float(flat_x[i]), float(flat_y[i])
        # softplus(x) - x*y, with softplus(x) = log(1 + e^x) written so that e^(...) never overflows
        if x > 0:
            softplus = x + math.log1p(math.exp(-x))
            sigmoid = 1.0 / (1.0 + math.exp(-x))
        else:
            softplus = math.log1p(math.exp(x))
            sigmoid = math.exp(x) / (1.0 + math.exp(x))
        total += softplus - x * y
        grad[i] = (sigmoid - y) / count
    return total / count, grad.reshape(logits.shape)
