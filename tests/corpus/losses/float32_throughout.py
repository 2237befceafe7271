"""float32 throughout, np.logaddexp for the binary loss."""
import numpy as np

BUG = ("bce_with_logits", "np.logaddexp(np.float32(0), x) - y * x", "np.logaddexp(np.float32(0), x) + y * x")


def mse_loss(pred, target):
    diff = pred.astype(np.float32) - target.astype(np.float32)
    return np.float32(np.mean(diff * diff)), (np.float32(2) * diff / np.float32(diff.size)).astype(np.float32)


def bce_with_logits(logits, targets):
    x, y = logits.astype(np.float32), targets.astype(np.float32)
    loss = np.mean(np.logaddexp(np.float32(0), x) - y * x)
    sig = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    return loss, ((sig - y) / np.float32(x.size)).astype(np.float32)
