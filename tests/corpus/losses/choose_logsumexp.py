"""np.choose picks each row's true-class score; a hand-written (scipy-free)
logsumexp; the one-hot as a comparison labels[:, None] == arange(C)."""
import numpy as np

BUG = ("softmax_cross_entropy", "np.squeeze(top, axis) + ", "")


def logsumexp(a, axis=-1):
    top = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def softmax_cross_entropy(logits, labels):
    n, c = logits.shape
    lse = logsumexp(logits, axis=1)
    true_scores = np.choose(labels, logits.T)
    probs = np.exp(logits - lse[:, None])
    onehot = labels[:, None] == np.arange(c)
    return np.mean(lse - true_scores), (probs - onehot) / n
