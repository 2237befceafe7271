"""einsum for the squares, np.take_along_axis for the labels' scores."""
import numpy as np

BUG = ("mse_loss", "2.0 * diff / diff.size", "2.0 * diff / len(diff)")


def mse_loss(pred, target):
    diff = np.subtract(pred, target)
    flat = diff.ravel()
    return np.einsum("i,i->", flat, flat) / diff.size, 2.0 * diff / diff.size


def softmax_cross_entropy(logits, labels):
    z = logits - logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=-1))
    picked = np.take_along_axis(z, labels[:, None].astype(np.intp), axis=-1)[:, 0]
    p = np.exp(z - lse[:, None])
    np.put_along_axis(p, labels[:, None].astype(np.intp), np.take_along_axis(p, labels[:, None].astype(np.intp), -1) - 1, -1)
    return float(np.mean(lse - picked)), p / len(labels)
