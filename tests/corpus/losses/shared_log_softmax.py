"""Shared helpers: one stable log-sum-exp used by both losses."""
import numpy as np

BUG = ("softmax_cross_entropy", "onehot[np.arange(len(labels)), labels] = 1.0", "onehot[:, labels] = 1.0")


def _logsumexp(z, axis):
    m = np.max(z, axis=axis, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def softmax_cross_entropy(logits, labels):
    log_p = logits - _logsumexp(logits, axis=1)
    onehot = np.zeros_like(log_p)
    onehot[np.arange(len(labels)), labels] = 1.0
    return -np.sum(onehot * log_p) / len(labels), (np.exp(log_p) - onehot) / len(labels)


def bce_with_logits(logits, targets):
    both = np.stack([np.zeros_like(logits), logits])
    loss = np.mean(_logsumexp(both, axis=0)[0] - targets * logits)
    return loss, (_sigmoid(logits) - targets) / logits.size
