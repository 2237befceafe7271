"""CS231n's softmax_loss: shifted logits, log-probabilities, probs minus one-hot."""
import numpy as np

BUG = ("softmax_cross_entropy", "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")


def softmax_cross_entropy(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
    log_probs = shifted - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
