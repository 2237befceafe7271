"""Assignment 2, a plausible first attempt with some classic mistakes."""

import numpy as np


def mse_loss(pred, target):
    err = pred - target
    loss = (err ** 2).mean()
    grad = err / err.size  # BUG: mse-grad-missing-factor-2
    return loss, grad


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax_cross_entropy(logits, labels):
    batch = logits.shape[0]
    e = np.exp(logits)  # BUG: ce-no-max-subtraction
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(batch), labels]).mean()  # BUG: ce-log-of-softmax
    dlogits = probs.copy()
    dlogits[np.arange(batch), labels] -= 1
    return loss, dlogits  # BUG: ce-grad-not-averaged


def bce_with_logits(logits, targets):
    p = sigmoid(logits)
    loss = np.mean(-targets * np.log(p) - (1 - targets) * np.log(1 - p))  # BUG: bce-naive-log-sigmoid
    dlogits = (p - targets) / logits.size
    return loss, dlogits
