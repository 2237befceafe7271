"""One-hot label matrices from np.eye(C)[labels]; the loss sums one-hot times
log-probabilities, the gradient is probabilities minus the one-hot."""
import numpy as np

BUG = ("softmax_cross_entropy", "return -np.sum(Y * logp) / N, (P - Y) / N", "return -np.sum(Y * logp), (P - Y) / N")


def mse_loss(pred, target):
    r = np.square(pred - target)
    return r.mean(), 2 * (pred - target) / r.size


def softmax_cross_entropy(logits, labels):
    N, C = logits.shape
    Y = np.eye(C)[labels]
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    P = np.exp(logp)
    return -np.sum(Y * logp) / N, (P - Y) / N
