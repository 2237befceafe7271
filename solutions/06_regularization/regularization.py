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
* ``spatial_batchnorm_forward(x, gamma, beta, state, train, momentum, eps)`` /
  ``spatial_batchnorm_backward(dout, cache)``: the same for a convolutional
  layer's feature maps ``x`` of shape (N, C, H, W), as
  ``torch.nn.BatchNorm2d``: each channel is normalised with the statistics of
  all its N * H * W values, and has one ``gamma`` and one ``beta``.

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


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    """Batch normalisation of feature maps (torch.nn.BatchNorm2d).

    A convolution applies the same filter at every position of a map, so all
    N * H * W values of a channel are treated as one mini-batch: with ``mu``
    and ``var`` the mean and the biased variance of each channel over the
    axes N, H and W (shape (C,)), and ``gamma``, ``beta`` applied per channel,
    the rest is ``batchnorm_forward``: the same ``x_hat``, output, running
    statistics (the unbiased variance divides by N * H * W - 1, so a batch of
    one image trains as long as it has two pixels) and eval mode.

    Two ways to write it: reduce over ``axis=(0, 2, 3)`` and reshape the (C,)
    vectors so that they broadcast along the channel axis (numpy lines a (C,)
    array up with the *last* axis, W, otherwise); or move the channel axis
    last, reshape ``x`` to (N * H * W, C), call your ``batchnorm_forward`` and
    undo the reshape and the transpose.

    Args:
        x: feature maps, shape (N, C, H, W).
        gamma: scale, shape (C,).
        beta: shift, shape (C,).
        state: a dict with the entries "running_mean" and "running_var", each of
            shape (C,).
        train: True while training, False at test time.
        momentum: weight of the new batch statistic in the running averages.
        eps: added to the variance before the square root.

    Returns:
        out: shape (N, C, H, W).
        cache: what ``spatial_batchnorm_backward`` needs.
    """
    # BEGIN SOLUTION: per-channel statistics over the axes N, H and W; otherwise as batchnorm_forward
    axes = (0, 2, 3)  # a channel's values: every example, every position of its map
    if train:
        m = x.size // x.shape[1]  # N * H * W
        mu = np.mean(x, axis=axes, keepdims=True)
        var = np.var(x, axis=axes, keepdims=True)
        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mu.ravel()
        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * var.ravel() * m / (m - 1)
    else:
        # (C,) as (C, 1, 1): broadcasting against (N, C, H, W) then lines it up with the channel axis.
        mu, var = state["running_mean"][:, None, None], state["running_var"][:, None, None]
    inv_std = (var + eps) ** -0.5
    x_hat = (x - mu) * inv_std
    out = gamma[:, None, None] * x_hat + beta[:, None, None]
    cache = (x_hat, inv_std, gamma)
    return out, cache
    # END SOLUTION


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalisation in training mode.

    ``batchnorm_backward``'s derivation, with every sum and mean over a
    channel's N * H * W values instead of over the N rows (or, as for the
    forward pass, a transpose and reshape to (N * H * W, C) around your
    ``batchnorm_backward``).

    Args:
        dout: upstream gradient, shape (N, C, H, W).
        cache: from ``spatial_batchnorm_forward`` called with ``train=True``.

    Returns:
        dx: shape (N, C, H, W).
        dgamma: shape (C,).
        dbeta: shape (C,).
    """
    # BEGIN SOLUTION: as batchnorm_backward, with the sums and means over the axes N, H and W of each channel
    x_hat, inv_std, gamma = cache
    axes = (0, 2, 3)
    dbeta = np.sum(dout, axis=axes)
    dgamma = np.sum(dout * x_hat, axis=axes)
    dx_hat = gamma[:, None, None] * dout
    mean_dx_hat = np.mean(dx_hat, axis=axes, keepdims=True)
    mean_dx_hat_x_hat = np.mean(dx_hat * x_hat, axis=axes, keepdims=True)
    # x_hat's direct path, minus what flows back through the channel's mean and through its variance.
    dx = inv_std * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)
    return dx, dgamma, dbeta
    # END SOLUTION
