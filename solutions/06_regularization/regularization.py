"""Assignment 6: regularisation layers, dropout and batch normalisation.

Both layers behave differently while training and at test time, so both take a
``train`` flag:

* ``dropout_forward(x, p, train, rng)`` / ``dropout_backward(dout, cache)``:
  *inverted* dropout. While training, every unit is dropped (set to 0) with
  probability ``p`` and the units that survive are scaled by ``1 / (1 - p)``,
  so that the expected output equals the input; at test time the layer is the
  identity. ``p`` is the probability of *dropping* a unit, as in
  ``torch.nn.Dropout(p)``. The random numbers come from the generator ``rng``
  that the caller passes in; any valid way of drawing the mask from it is
  accepted.
* ``batchnorm_forward(x, gamma, beta, state, train, momentum, eps)`` /
  ``batchnorm_backward(dout, cache)``: batch normalisation of a fully connected
  layer's activations ``x`` of shape (N, D). While training, each feature
  (column) is normalised with the mean and variance of the mini-batch, then
  scaled by ``gamma`` and shifted by ``beta``; running averages of the batch
  statistics are kept in ``state`` and used instead at test time. The
  conventions are those of ``torch.nn.BatchNorm1d``.

The CS231n shape: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``, where ``cache`` holds whatever the
backward pass needs. Backward functions are only called after a forward pass
with ``train=True`` for batch normalisation; dropout's backward must handle
both modes.

Use numpy only. Check each backward function against ``numerical_gradient``
before you trust it (for dropout, rebuild the generator from the same seed on
every forward call so that the mask stays the same).
"""

import numpy as np


def dropout_forward(x, p, train, rng):
    """Inverted dropout.

    While training, drop each unit independently with probability ``p``: draw
    the mask from ``rng``, for example one uniform number per unit, keeping the
    unit when it is at least ``p``::

        keep = rng.random(x.shape) >= p

    Any valid mask is accepted (``rng.random(x.shape) < 1 - p`` or
    ``rng.binomial(1, 1 - p, x.shape)`` as well): the grader checks that every
    unit is 0 or ``x / (1 - p)`` and that the number dropped is consistent with
    ``p``, never which units. Kept units are scaled by ``1 / (1 - p)``; dropped
    units become 0. In eval mode (``train`` false) the output equals ``x``.
    Leave ``x`` unchanged: return a new array.

    Args:
        x: activations, an array of any shape, e.g. (N, D) or (N, C, H, W).
        p: the probability of dropping a unit, a float with 0 <= p < 1.
        train: True while training, False at test time.
        rng: a ``np.random.Generator`` (e.g. ``np.random.default_rng(seed)``).

    Returns:
        out: same shape as ``x``.
        cache: what ``dropout_backward`` needs (the mask, ``p``, the mode).
    """
    # BEGIN SOLUTION: draw the keep mask as above and rescale kept units while training; pass x through at test time
    if train:
        keep = rng.random(x.shape) >= p
        # Rescaling now keeps E[out] = x, so the test-time network needs no change.
        out = x * keep / (1.0 - p)
    else:
        keep = None
        out = x
    cache = (keep, p, train)
    return out, cache
    # END SOLUTION


def dropout_backward(dout, cache):
    """Backward pass of inverted dropout.

    Graded against the mask your own forward pass drew (read from its output):
    ``dout / (1 - p)`` where it kept a unit, 0 where it dropped one; ``dout``
    in eval mode. Leave ``dout`` and the cache unchanged.

    Args:
        dout: upstream gradient, same shape as the forward output.
        cache: from ``dropout_forward``.

    Returns:
        dx: gradient with respect to ``x``, same shape as ``dout``.
    """
    # BEGIN SOLUTION: route the gradient through the forward pass's mask and scale (or straight through at test time)
    keep, p, train = cache
    if not train:
        return dout
    # For a fixed mask the layer is linear: the gradient takes the same mask and scale as x did.
    dx = dout * keep / (1.0 - p)
    return dx
    # END SOLUTION


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    """Batch normalisation over the batch axis (torch.nn.BatchNorm1d).

    While training, with ``mu`` and ``var`` the mean and the *biased* variance
    (divided by N) of each feature over the batch::

        x_hat = (x - mu) / sqrt(var + eps)
        out = gamma * x_hat + beta

    and the running statistics in ``state`` are updated (assign the new arrays
    to the dict's entries, or overwrite the arrays in place)::

        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var = (1 - momentum) * running_var + momentum * unbiased_var

    where ``unbiased_var`` divides by N - 1 instead of N (so training needs
    N >= 2). In eval mode (``train`` false) ``x`` is normalised with
    ``state["running_mean"]`` and ``state["running_var"]`` in place of ``mu``
    and ``var``, and ``state`` is left unchanged.

    Args:
        x: activations, shape (N, D).
        gamma: scale, shape (D,).
        beta: shift, shape (D,).
        state: a dict with the entries "running_mean" and "running_var", each of
            shape (D,).
        train: True while training, False at test time.
        momentum: weight of the new batch statistic in the running averages.
        eps: added to the variance before the square root.

    Returns:
        out: shape (N, D).
        cache: what ``batchnorm_backward`` needs.
    """
    # BEGIN SOLUTION: normalise with batch (train) or running (eval) statistics, scale and shift; update the running averages
    if train:
        n = x.shape[0]
        mu = np.mean(x, axis=0)
        var = np.var(x, axis=0)
        # The running variance estimates the population's, hence the unbiased batch variance (as torch).
        unbiased = var * n / (n - 1)
        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mu
        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * unbiased
    else:
        mu, var = state["running_mean"], state["running_var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    out = gamma * x_hat + beta
    cache = (x_hat, std, gamma)
    return out, cache
    # END SOLUTION


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalisation in training mode.

    The batch mean and variance depend on every row of ``x``, so the gradient
    of one row involves the whole batch.

    Args:
        dout: upstream gradient, shape (N, D).
        cache: from ``batchnorm_forward`` called with ``train=True``.

    Returns:
        dx: shape (N, D).
        dgamma: shape (D,).
        dbeta: shape (D,).
    """
    # BEGIN SOLUTION: sum over the batch for dgamma and dbeta; for dx, go back through x_hat, the mean and the variance
    x_hat, std, gamma = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    # x_hat's direct path, minus what flows back through the batch mean and through the batch variance.
    dx = (dx_hat - np.mean(dx_hat, axis=0) - x_hat * np.mean(dx_hat * x_hat, axis=0)) / std
    return dx, dgamma, dbeta
    # END SOLUTION
