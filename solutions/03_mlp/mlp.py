"""Assignment 3: a two-layer network (multilayer perceptron), trained by hand.

The network of the lectures, ``y = U sigma(W x + b1) + b2``, written for a
batch in row convention (one example per row, as numpy and PyTorch store it):

    h      = sigma(x @ W + b1)      x (N, D), W (D, H), b1 (H,)  ->  h (N, H)
    scores = h @ U + b2             U (H, C), b2 (C,)            ->  scores (N, C)

``sigma`` is ``"sigmoid"`` or ``"relu"``. The parameters travel together in a
dict ``params = {"W": ..., "b1": ..., "U": ..., "b2": ...}``, and gradients in
a dict with the same keys plus ``"x"``. You implement:

* ``mlp_forward(x, params, activation) -> (scores, cache)`` and
  ``mlp_backward(dscores, cache) -> grads``: the forward pass and
  backpropagation, CS231n style;
* ``mlp_loss(x, y, params, activation, loss) -> (loss, grads)``: the network
  followed by the mean squared error (regression) or softmax cross-entropy
  (classification), and the gradient of that loss for every parameter;
* ``train_mlp(...) -> params``: minibatch stochastic gradient descent on the
  cross-entropy, from a random initialisation;
* ``predict(x, params, activation) -> labels``: the class with the highest score;
* ``fan_in_and_out(shape)`` and the initialisers ``xavier_uniform``,
  ``xavier_normal``, ``he_uniform``, ``he_normal`` (``(shape, rng) -> weights``,
  drawn from the generator passed in), which keep the activations' scale through
  deep networks, and ``standardize(x_train, x_test)``: inputs shifted and scaled
  by the training set's statistics.

Write each derivative next to the forward step it belongs to: the forward pass
caches what the backward pass needs. Every gradient of a parameter shared by
the batch (W, b1, U, b2) adds up the contributions of the N examples; averaging
over the batch is the loss's job. Keep this module self-contained (numpy only,
no imports from the earlier assignments), and check every gradient against
``numerical_gradient`` before you train with it. Any correct way of writing a function gets full marks (loops, ``einsum``,
float32 or float64, whatever you keep in a cache), provided it leaves its
arguments unchanged: return new arrays (``out = np.maximum(0, x)``, not
``x[x < 0] = 0``); a change in place fails the case. No
function is timed; ``train_mlp`` is graded by the accuracy it reaches within
its time limit, the initialisers by the statistics of a large draw.
"""

import numpy as np


def mlp_forward(x, params, activation):
    """Forward pass of the two-layer network on a batch.

    Args:
        x: inputs, shape (N, D), one example per row.
        params: dict with ``"W"`` (D, H), ``"b1"`` (H,), ``"U"`` (H, C) and ``"b2"`` (C,).
        activation: ``"sigmoid"`` or ``"relu"``, the non-linearity of the hidden layer.

    Returns:
        scores: ``sigma(x @ W + b1) @ U + b2``, shape (N, C). No activation on the output.
        cache: what ``mlp_backward`` needs.
    """
    # BEGIN SOLUTION: compute the hidden pre-activation, the hidden layer h and the scores; cache what backward needs
    W, b1, U, b2 = params["W"], params["b1"], params["U"], params["b2"]
    z = x @ W + b1
    if activation == "sigmoid":
        # exp(-|z|) <= 1 never overflows; each form is the sigmoid on its side of 0.
        e = np.exp(-np.abs(z))
        h = np.where(z >= 0, 1.0, e) / (1.0 + e)
    elif activation == "relu":
        h = np.maximum(z, 0.0)
    else:
        raise ValueError(f"unknown activation {activation!r}")
    scores = h @ U + b2
    cache = (x, z, h, W, U, activation)
    return scores, cache
    # END SOLUTION


def mlp_backward(dscores, cache):
    """Backward pass of the two-layer network.

    Args:
        dscores: upstream gradient d(loss)/d(scores), shape (N, C).
        cache: from ``mlp_forward``.

    Returns:
        grads: dict with the gradient of the loss for each parameter and the
            input, each of its shape: ``"W"`` (D, H), ``"b1"`` (H,), ``"U"`` (H, C),
            ``"b2"`` (C,) and ``"x"`` (N, D).
    """
    # BEGIN SOLUTION: go back through scores = h @ U + b2, then the activation, then z = x @ W + b1
    x, z, h, W, U, activation = cache
    # scores = h @ U + b2: U and b2 are shared by the N rows, so their gradients sum over the batch.
    dU = h.T @ dscores
    db2 = np.sum(dscores, axis=0)
    dh = dscores @ U.T
    if activation == "sigmoid":
        # sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)): the cached output h is sigmoid(z).
        dz = dh * h * (1.0 - h)
    else:
        # ReLU passes the gradient through the units that were on, where z > 0.
        dz = dh * (z > 0)
    # z = x @ W + b1, the same pattern one layer down.
    dW = x.T @ dz
    db1 = np.sum(dz, axis=0)
    dx = dz @ W.T
    return {"W": dW, "b1": db1, "U": dU, "b2": db2, "x": dx}
    # END SOLUTION


def mlp_loss(x, y, params, activation, loss):
    """The network followed by a loss, and the gradients of that loss.

    Both losses are means: ``"mse"`` averages ``(scores - y) ** 2`` over all
    N * C elements; ``"cross_entropy"`` averages ``-log softmax(scores)[y]``
    over the N examples. Scores can be large (around 1000): compute the softmax
    in a form that does not overflow.

    Args:
        x: inputs, shape (N, D).
        y: for ``"mse"``, float targets of shape (N, C); for ``"cross_entropy"``,
            integer class labels in [0, C) of shape (N,).
        params: dict with ``"W"``, ``"b1"``, ``"U"``, ``"b2"`` (see ``mlp_forward``).
        activation: ``"sigmoid"`` or ``"relu"``.
        loss: ``"mse"`` or ``"cross_entropy"``.

    Returns:
        loss: the loss, a float.
        grads: dict with keys ``"W"``, ``"b1"``, ``"U"``, ``"b2"``, ``"x"``, as
            ``mlp_backward`` returns them, for this loss.
    """
    # BEGIN SOLUTION: run the forward pass, compute the loss and d(loss)/d(scores), then backpropagate it
    scores, cache = mlp_forward(x, params, activation)
    if loss == "mse":
        diff = scores - y
        value = np.mean(diff ** 2)
        # The mean runs over all N * C elements; each one contributes 2 * diff.
        dscores = 2.0 * diff / diff.size
    elif loss == "cross_entropy":
        n = scores.shape[0]
        # Subtracting each row's maximum leaves the softmax unchanged and keeps exp() finite.
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        value = -np.mean(log_probs[np.arange(n), y])
        # d(-log softmax(s)[y]) / ds = softmax(s) - one_hot(y), and the mean's 1/N.
        dscores = np.exp(log_probs)
        dscores[np.arange(n), y] -= 1.0
        dscores /= n
    else:
        raise ValueError(f"unknown loss {loss!r}")
    grads = mlp_backward(dscores, cache)
    return float(value), grads
    # END SOLUTION


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    """Train the network by minibatch SGD on the softmax cross-entropy.

    Initialise from ``rng = np.random.default_rng(seed)``: ``W`` from a normal
    distribution with standard deviation ``1 / sqrt(D)``, ``U`` with standard
    deviation ``1 / sqrt(H)``, both biases at zero. Each epoch visits the
    examples once, in a new random order, in minibatches of ``batch_size``
    (the last one may be smaller), and after each minibatch updates every
    parameter ``p`` by ``p = p - lr * d(loss)/dp``. The number of classes is
    ``C = max(y) + 1``.

    The grader trains on XOR (4 points, or jittered copies of them) and on
    Fisher's iris data (standardised features), with hyper-parameters under
    which this recipe converges, then calls ``predict`` on test inputs: it
    requires 100% accuracy on XOR and at least 80% on iris (a correct network
    gets about 95%). A training run takes well under a second with
    vectorised numpy; each has a time limit of 30 seconds.

    Args:
        x: training inputs, shape (N, D).
        y: integer class labels in [0, C), shape (N,).
        hidden: H, the number of hidden units, an int.
        activation: ``"sigmoid"`` or ``"relu"``.
        lr: learning rate, a float.
        epochs: number of passes over the training data, an int.
        batch_size: examples per minibatch, an int.
        seed: seed of the random generator for the initialisation and the order.

    Returns:
        params: dict with the trained ``"W"`` (D, H), ``"b1"`` (H,), ``"U"`` (H, C), ``"b2"`` (C,).
    """
    # BEGIN SOLUTION: initialise from default_rng(seed), then for each epoch shuffle and step through minibatches
    rng = np.random.default_rng(seed)
    n, d = x.shape
    c = int(np.max(y)) + 1
    # Random (not zero) weights: identical hidden units would stay identical forever.
    params = {
        "W": rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, hidden)),
        "b1": np.zeros(hidden),
        "U": rng.normal(0.0, 1.0 / np.sqrt(hidden), size=(hidden, c)),
        "b2": np.zeros(c),
    }
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, grads = mlp_loss(x[batch], y[batch], params, activation, "cross_entropy")
            # Gradient descent: step against the gradient, downhill on the loss.
            for name in params:
                params[name] = params[name] - lr * grads[name]
    return params
    # END SOLUTION


def predict(x, params, activation):
    """The predicted class of each example: the index of its highest score.

    Args:
        x: inputs, shape (N, D).
        params: dict with ``"W"``, ``"b1"``, ``"U"``, ``"b2"`` (see ``mlp_forward``).
        activation: ``"sigmoid"`` or ``"relu"``.

    Returns:
        labels: integer class labels in [0, C), shape (N,).
    """
    # BEGIN SOLUTION: run the forward pass and take, for each row, the class with the highest score
    scores, _ = mlp_forward(x, params, activation)
    return np.argmax(scores, axis=1)
    # END SOLUTION


def fan_in_and_out(shape):
    """The fan-in and fan-out of a weight of shape ``shape``: how many inputs
    each output unit adds up, and how many output units each input feeds.

    * A dense layer's weight in this course is ``(D_in, D_out)``, as in
      ``x @ W``: fan_in = D_in, fan_out = D_out.
    * A convolution's filters are ``(F, C, HH, WW)``, as in assignment 5 (and
      as torch stores them, out-channels first): each output value adds up
      C * HH * WW inputs, and each input value reaches F * HH * WW outputs:
      fan_in = C * HH * WW, fan_out = F * HH * WW. Any ``(F, C, k1, ..., kd)``
      likewise, with the product of its kernel sizes (d = 1: a 1-d convolution).

    Mind the difference with torch: ``nn.Linear`` stores its weight the other
    way round, ``(D_out, D_in)``, so torch's rule reads shape[1] as the fan-in
    of every weight; for the course's dense ``(D_in, D_out)`` it is shape[0].

    Args:
        shape: the weight's shape, a tuple of 2 or more ints.

    Returns:
        fan_in: an int.
        fan_out: an int.
    """
    # BEGIN SOLUTION: a 2-d shape is (D_in, D_out); otherwise (F, C, kernel...) with the kernel's product
    if len(shape) == 2:
        d_in, d_out = shape
        return int(d_in), int(d_out)
    receptive_field = int(np.prod(shape[2:]))
    return int(shape[1]) * receptive_field, int(shape[0]) * receptive_field
    # END SOLUTION


def xavier_uniform(shape, rng, gain=1.0):
    """Xavier (Glorot) initialisation, uniform: values from U(-a, a) with

        a = gain * sqrt(6 / (fan_in + fan_out)),

    so that the variance a^2 / 3 is gain^2 * 2 / (fan_in + fan_out), as in
    ``torch.nn.init.xavier_uniform_``. The gain suits the layer's
    non-linearity: 1 for sigmoid or none, 5/3 for tanh, sqrt(2) for ReLU.

    Draw from ``rng`` in any way, e.g. ``rng.uniform(-a, a, size=shape)``:
    the grader checks the distribution of a large draw (its mean, its
    variance, its range), never particular values, and that the same
    generator state gives the same weights.

    Args:
        shape: the weight's shape, a tuple of ints (see ``fan_in_and_out``).
        rng: a ``np.random.Generator`` to draw from.
        gain: a float, the scale factor of the non-linearity.

    Returns:
        weights: a float array of shape ``shape``.
    """
    # BEGIN SOLUTION: the limit from the fans and the gain, then one uniform draw of the whole shape
    fan_in, fan_out = fan_in_and_out(shape)
    limit = gain * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
    # END SOLUTION


def xavier_normal(shape, rng, gain=1.0):
    """Xavier (Glorot) initialisation, normal: values from N(0, std^2) with

        std = gain * sqrt(2 / (fan_in + fan_out)),

    as in ``torch.nn.init.xavier_normal_``. Mind numpy's arguments:
    ``rng.normal(mean, std, size)`` takes the standard deviation, not the
    variance. Draw from ``rng`` in any way (see ``xavier_uniform``).

    Args:
        shape: the weight's shape, a tuple of ints (see ``fan_in_and_out``).
        rng: a ``np.random.Generator`` to draw from.
        gain: a float, the scale factor of the non-linearity.

    Returns:
        weights: a float array of shape ``shape``.
    """
    # BEGIN SOLUTION: the standard deviation from the fans and the gain, then one normal draw
    fan_in, fan_out = fan_in_and_out(shape)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=shape)
    # END SOLUTION


def he_uniform(shape, rng):
    """He (Kaiming) initialisation for ReLU layers, uniform: values from
    U(-b, b) with

        b = sqrt(6 / fan_in),

    the variance b^2 / 3 = 2 / fan_in that keeps the activations' scale
    through ReLU layers, as ``torch.nn.init.kaiming_uniform_`` gives it with
    ``mode="fan_in", nonlinearity="relu"`` (the gain sqrt(2)). Draw from
    ``rng`` in any way (see ``xavier_uniform``).

    Args:
        shape: the weight's shape, a tuple of ints (see ``fan_in_and_out``).
        rng: a ``np.random.Generator`` to draw from.

    Returns:
        weights: a float array of shape ``shape``.
    """
    # BEGIN SOLUTION: the bound from the fan-in alone, then one uniform draw
    fan_in, _ = fan_in_and_out(shape)
    bound = np.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, size=shape)
    # END SOLUTION


def he_normal(shape, rng):
    """He (Kaiming) initialisation for ReLU layers, normal: values from
    N(0, std^2) with

        std = sqrt(2 / fan_in),

    as ``torch.nn.init.kaiming_normal_`` gives it with ``mode="fan_in",
    nonlinearity="relu"``. Draw from ``rng`` in any way (see
    ``xavier_uniform``).

    Args:
        shape: the weight's shape, a tuple of ints (see ``fan_in_and_out``).
        rng: a ``np.random.Generator`` to draw from.

    Returns:
        weights: a float array of shape ``shape``.
    """
    # BEGIN SOLUTION: the standard deviation from the fan-in alone, then one normal draw
    fan_in, _ = fan_in_and_out(shape)
    std = np.sqrt(2.0 / fan_in)
    return rng.normal(0.0, std, size=shape)
    # END SOLUTION


def standardize(x_train, x_test):
    """Standardise the features with the training set's statistics.

    Each feature (column) j gets the mean and the standard deviation of the
    training examples, ``mean_j = mean(x_train[:, j])`` and ``std_j =
    sqrt(mean((x_train[:, j] - mean_j) ** 2))`` (dividing by N, numpy's
    ``np.std`` default), and both sets become ``(x - mean) / std``. The test
    set is new data: it is standardised with the *training* statistics, never
    its own, exactly as a model in use would treat an example it has never
    seen. Every feature varies over the training set (a constant one would
    have std 0: drop it before standardising). Leave the inputs unchanged.

    Args:
        x_train: training inputs, shape (N_train, D).
        x_test: test inputs, shape (N_test, D).

    Returns:
        train: the standardised training inputs, shape (N_train, D): each column has mean 0 and std 1.
        test: the test inputs standardised with the training statistics, shape (N_test, D).
    """
    # BEGIN SOLUTION: the mean and std of every column over the training rows, applied to both sets
    mean = np.mean(x_train, axis=0)
    std = np.std(x_train, axis=0)
    return (x_train - mean) / std, (x_test - mean) / std
    # END SOLUTION
