"""Assignment 2: loss functions and their gradients.

A loss turns a network's output and the label into one number to minimise.
Training needs its gradient with respect to the network's output too, so every
function here returns a pair ``(loss, gradient)``:

* ``mse_loss(pred, target)``: the L2 loss of regression, averaged;
* ``softmax_cross_entropy(logits, labels)``: softmax over classes followed by
  the cross-entropy with the true class, averaged over the batch;
* ``bce_with_logits(logits, targets)``: sigmoid followed by binary
  cross-entropy, for yes/no (or multi-label) outputs, averaged.

All three use the *mean* over their elements (the same default as PyTorch), so
the gradient carries a factor ``1 / (number of terms averaged)``. Scores
("logits") can be large: for ``x`` around 1000, ``np.exp(x)`` overflows to
``inf`` and ``np.exp(-x)`` underflows to 0, so write the formulas in a form
that never takes the exponential of a large positive number or the log of 0.

Use numpy only. Check each gradient against ``numerical_gradient`` before you
trust it. Any correct way of writing a function gets full marks (loops, ``einsum``,
float32 or float64, whatever you keep in a cache), provided it leaves its
arguments unchanged: return new arrays (``out = np.maximum(0, x)``, not
``x[x < 0] = 0``); a change in place fails the case. No function here is timed.
"""

import numpy as np


def mse_loss(pred, target):
    """Mean squared error, averaged over every element.

    Args:
        pred: predictions, an array of any shape, e.g. (N,) or (N, D).
        target: the values to reach, same shape as ``pred``.

    Returns:
        loss: a float, ``mean((pred - target) ** 2)``.
        dpred: d(loss)/d(pred), same shape as ``pred``.
    """
    # BEGIN SOLUTION: average the squared differences, then differentiate that mean with respect to pred
    diff = pred - target
    loss = np.mean(diff ** 2)
    # d/dpred of mean(diff**2): each element contributes 2 * diff, and the mean divides by the count.
    dpred = 2.0 * diff / diff.size
    return loss, dpred
    # END SOLUTION


def softmax_cross_entropy(logits, labels):
    """Softmax followed by cross-entropy, averaged over the batch.

    For one example with scores ``z`` and true class ``y``, the loss is
    ``-log(softmax(z)[y]) = log(sum_k exp(z_k)) - z_y``.

    Args:
        logits: class scores, shape (N, C).
        labels: the true class of each example, integers in [0, C), shape (N,).

    Returns:
        loss: a float, the mean of the N per-example losses.
        dlogits: d(loss)/d(logits), shape (N, C).
    """
    # BEGIN SOLUTION: compute log softmax stably (row max, log-sum-exp), average -log p[label] over the batch, then differentiate
    n = logits.shape[0]
    # Subtracting each row's maximum leaves the softmax unchanged and keeps exp() from overflowing.
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    exp_shifted = np.exp(shifted)
    sum_exp = np.sum(exp_shifted, axis=1, keepdims=True)
    # log-sum-exp: the log of the softmax without forming a probability that could underflow to 0.
    log_probs = shifted - np.log(sum_exp)
    loss = -np.mean(log_probs[np.arange(n), labels])
    # d(-log softmax(z)[y])/dz = softmax(z) - one_hot(y), then the mean's 1/N.
    dlogits = exp_shifted / sum_exp
    dlogits[np.arange(n), labels] -= 1.0
    dlogits /= n
    return loss, dlogits
    # END SOLUTION


def bce_with_logits(logits, targets):
    """Sigmoid followed by binary cross-entropy, averaged over every element.

    For a score ``x`` and a target ``y`` in [0, 1] (0/1 labels or soft
    targets), the loss is ``-y log(sigmoid(x)) - (1 - y) log(1 - sigmoid(x))``,
    which equals ``max(x, 0) - x * y + log(1 + exp(-|x|))``.

    Args:
        logits: scores, an array of any shape, e.g. (N,) or (N, D).
        targets: the targets, same shape as ``logits``.

    Returns:
        loss: a float, the mean of the per-element losses.
        dlogits: d(loss)/d(logits), same shape as ``logits``.
    """
    # BEGIN SOLUTION: average the stable form of the loss given above, then differentiate it with respect to the logits
    # exp(-|x|) is at most 1: it never overflows, and it is all the loss and the sigmoid need.
    e = np.exp(-np.abs(logits))
    loss = np.mean(np.maximum(logits, 0) - logits * targets + np.log1p(e))
    # sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, stable at both ends.
    sig = np.where(logits >= 0, 1.0, e) / (1.0 + e)
    # d/dx of the per-element loss is sigmoid(x) - y; the mean divides by the count.
    dlogits = (sig - targets) / logits.size
    return loss, dlogits
    # END SOLUTION
