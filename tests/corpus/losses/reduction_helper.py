"""A torch-like reduction= argument: one _reduce helper returns the reduced
loss and the scale its gradient carries; sigmoid(x) as 1 - sigmoid(|x|) for x < 0."""
import numpy as np

BUG = ("bce_with_logits", "return loss, scale * (sig - targets)", "return loss, scale * (targets - sig)")


def _reduce(per_element, reduction):
    if reduction == "mean":
        return per_element.mean(), 1.0 / per_element.size
    if reduction == "sum":
        return per_element.sum(), 1.0
    raise ValueError(f"unknown reduction {reduction!r}")


def mse_loss(pred, target, reduction="mean"):
    r = pred - target
    loss, scale = _reduce(r ** 2, reduction)
    return loss, 2 * scale * r


def softmax_cross_entropy(logits, labels, reduction="mean"):
    z = logits - np.amax(logits, axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss, scale = _reduce(-logp[rows, labels], reduction)
    grad = np.exp(logp)
    grad[rows, labels] -= 1
    return loss, scale * grad


def bce_with_logits(logits, targets, reduction="mean"):
    a = np.abs(logits)
    per = np.where(logits > 0, logits, 0.0) - logits * targets + np.log1p(np.exp(-a))
    loss, scale = _reduce(per, reduction)
    sig = 1.0 / (1.0 + np.exp(-a))
    sig = np.where(logits >= 0, sig, 1.0 - sig)
    return loss, scale * (sig - targets)
