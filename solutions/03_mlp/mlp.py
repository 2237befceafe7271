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
* ``predict(x, params, activation) -> labels``: the class with the highest score.

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
its time limit.
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
