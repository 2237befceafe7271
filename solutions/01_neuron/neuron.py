"""Assignment 1: activation functions and a single neuron.

A neuron computes a weighted sum of its inputs plus a bias, ``z = x . w + b``,
and passes it through a non-linear activation. Here you implement the common
activations and then the neuron itself, each as a *layer* with two functions:

* ``<layer>_forward(...) -> (out, cache)`` computes the output and returns, in
  ``cache``, whatever the backward pass will need;
* ``<layer>_backward(dout, cache) -> dx`` receives ``dout``, the gradient of the
  loss with respect to ``out`` (same shape as ``out``), and returns the
  gradient with respect to the input by the chain rule.

Layers:

* sigmoid ``1 / (1 + e^-x)``, tanh, ReLU ``max(0, x)``, leaky ReLU (slope
  ``alpha`` for ``x < 0``) and ELU (``alpha * (e^x - 1)`` for ``x < 0``), all
  elementwise on arrays of any shape;
* softmax over the classes of each row of an ``(N, C)`` array of scores;
* a neuron on a batch: ``x`` of shape ``(N, D)``, weights ``w`` of shape
  ``(D,)``, a scalar bias ``b`` and one of the activations above by name.

Scores can be large (around 1000): ``np.exp`` of such a number overflows to
``inf``, so write every formula in a form that stays finite. Use numpy only,
and check each backward function against ``numerical_gradient`` before
trusting it. Any correct way of writing a function gets full marks (loops, ``einsum``,
float32 or float64, whatever you keep in a cache), provided it leaves its
arguments unchanged: return new arrays (``out = np.maximum(0, x)``, not
``x[x < 0] = 0``); a change in place fails the case. Where a derivative is undefined (ReLU,
leaky ReLU and ELU at exactly 0) either one-sided value is accepted. No
function here is timed.
"""

import numpy as np


def sigmoid_forward(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, elementwise.

    Args:
        x: inputs, an array of any shape.

    Returns:
        out: ``sigmoid(x)``, same shape as ``x``, every value in [0, 1].
        cache: what ``sigmoid_backward`` needs.
    """
    # BEGIN SOLUTION: compute 1 / (1 + exp(-x)) so that no exp overflows, and cache what the derivative needs
    # 1 / (1 + e^-x) overflows in exp for x far below 0; e^x / (1 + e^x) is the
    # same number, so evaluate each form where its exponent is <= 0.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x)) only needs the output.
    cache = out
    return out, cache
    # END SOLUTION


def sigmoid_backward(dout, cache):
    """Backward pass of the sigmoid.

    Args:
        dout: upstream gradient d(loss)/d(out), same shape as ``out``.
        cache: from ``sigmoid_forward``.

    Returns:
        dx: d(loss)/d(x), same shape as ``x``.
    """
    # BEGIN SOLUTION: use sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x)) and the chain rule
    out = cache
    dx = dout * out * (1.0 - out)
    return dx
    # END SOLUTION


def tanh_forward(x):
    """The hyperbolic tangent, elementwise.

    Args:
        x: inputs, an array of any shape.

    Returns:
        out: ``tanh(x)``, same shape as ``x``, every value in [-1, 1].
        cache: what ``tanh_backward`` needs.
    """
    # BEGIN SOLUTION: compute tanh(x) without overflow and cache what the derivative needs
    out = np.tanh(x)
    # tanh'(x) = 1 - tanh(x)^2 only needs the output.
    cache = out
    return out, cache
    # END SOLUTION


def tanh_backward(dout, cache):
    """Backward pass of tanh.

    Args:
        dout: upstream gradient d(loss)/d(out), same shape as ``out``.
        cache: from ``tanh_forward``.

    Returns:
        dx: d(loss)/d(x), same shape as ``x``.
    """
    # BEGIN SOLUTION: use tanh'(x) = 1 - tanh(x)^2 and the chain rule
    out = cache
    dx = dout * (1.0 - out ** 2)
    return dx
    # END SOLUTION


def relu_forward(x):
    """The rectified linear unit ``max(0, x)``, elementwise.

    Args:
        x: inputs, an array of any shape.

    Returns:
        out: ``max(0, x)``, same shape as ``x``.
        cache: what ``relu_backward`` needs.
    """
    # BEGIN SOLUTION: compute max(0, x) elementwise and cache the input
    out = np.maximum(0.0, x)
    cache = x
    return out, cache
    # END SOLUTION


def relu_backward(dout, cache):
    """Backward pass of ReLU.

    At exactly ``x == 0`` the derivative is undefined; either 0 or 1 is accepted.

    Args:
        dout: upstream gradient d(loss)/d(out), same shape as ``out``.
        cache: from ``relu_forward``.

    Returns:
        dx: d(loss)/d(x), same shape as ``x``.
    """
    # BEGIN SOLUTION: the derivative is 1 where x > 0 and 0 elsewhere
    x = cache
    # The slope is 1 where the unit is active and 0 where it is off: the gradient
    # flows through active units only.
    dx = dout * (x > 0)
    return dx
    # END SOLUTION


def leaky_relu_forward(x, alpha=0.01):
    """Leaky ReLU: ``x`` where ``x > 0``, ``alpha * x`` elsewhere.

    Args:
        x: inputs, an array of any shape.
        alpha: the slope for negative inputs, a float (0 < alpha < 1).

    Returns:
        out: same shape as ``x``.
        cache: what ``leaky_relu_backward`` needs (including ``alpha``).
    """
    # BEGIN SOLUTION: use slope 1 for x > 0 and slope alpha elsewhere; cache x and alpha
    out = np.where(x > 0, x, alpha * x)
    cache = (x, alpha)
    return out, cache
    # END SOLUTION


def leaky_relu_backward(dout, cache):
    """Backward pass of leaky ReLU.

    At exactly ``x == 0`` the derivative is undefined; either slope is accepted.

    Args:
        dout: upstream gradient d(loss)/d(out), same shape as ``out``.
        cache: from ``leaky_relu_forward``.

    Returns:
        dx: d(loss)/d(x), same shape as ``x``.
    """
    # BEGIN SOLUTION: the derivative is 1 where x > 0 and alpha elsewhere
    x, alpha = cache
    dx = np.where(x > 0, dout, alpha * dout)
    return dx
    # END SOLUTION


def elu_forward(x, alpha=1.0):
    """Exponential linear unit: ``x`` where ``x > 0``, ``alpha * (exp(x) - 1)``
    elsewhere.

    Args:
        x: inputs, an array of any shape.
        alpha: the value that ELU approaches for very negative inputs is
            ``-alpha``; a positive float.

    Returns:
        out: same shape as ``x``.
        cache: what ``elu_backward`` needs (including ``alpha``).
    """
    # BEGIN SOLUTION: compute alpha * (exp(x) - 1) for x <= 0 without overflowing exp on the positive side
    # np.where evaluates both branches: clip at 0 so exp never sees a large
    # positive x. expm1 keeps e^x - 1 accurate for x near 0.
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    cache = (x, out, alpha)
    return out, cache
    # END SOLUTION


def elu_backward(dout, cache):
    """Backward pass of ELU.

    At exactly ``x == 0`` the derivative is undefined when ``alpha != 1``;
    either one-sided derivative is accepted.

    Args:
        dout: upstream gradient d(loss)/d(out), same shape as ``out``.
        cache: from ``elu_forward``.

    Returns:
        dx: d(loss)/d(x), same shape as ``x``.
    """
    # BEGIN SOLUTION: the derivative is 1 for x > 0 and alpha * exp(x) elsewhere (hint: write it with out)
    x, out, alpha = cache
    # For x <= 0: d/dx alpha * (e^x - 1) = alpha * e^x = out + alpha.
    dx = dout * np.where(x > 0, 1.0, out + alpha)
    return dx
    # END SOLUTION


def softmax_forward(x):
    """Softmax over the classes of each row: ``exp(x_ij) / sum_k exp(x_ik)``.

    Args:
        x: class scores, shape (N, C).

    Returns:
        out: probabilities, shape (N, C); each row sums to 1.
        cache: what ``softmax_backward`` needs.
    """
    # BEGIN SOLUTION: subtract each row's maximum before exp (it cancels out), then normalise each row
    # Shifting a row by a constant leaves its softmax unchanged; shifting by the
    # row's maximum makes every exponent <= 0, so exp cannot overflow.
    shifted = x - np.max(x, axis=1, keepdims=True)
    e = np.exp(shifted)
    out = e / np.sum(e, axis=1, keepdims=True)
    cache = out
    return out, cache
    # END SOLUTION


def softmax_backward(dout, cache):
    """Backward pass of the row-wise softmax.

    Args:
        dout: upstream gradient d(loss)/d(out), shape (N, C).
        cache: from ``softmax_forward``.

    Returns:
        dx: d(loss)/d(x), shape (N, C).
    """
    # BEGIN SOLUTION: every output of a row depends on every input of that row: use the full Jacobian, not its diagonal
    p = cache
    # d p_j / d x_i = p_j * (delta_ij - p_i), so for each row
    # dx_i = sum_j dout_j * p_j * (delta_ij - p_i) = p_i * (dout_i - sum_j dout_j * p_j).
    dx = p * (dout - np.sum(dout * p, axis=1, keepdims=True))
    return dx
    # END SOLUTION


def neuron_forward(x, w, b, activation):
    """One neuron on a batch: ``out = activation(x @ w + b)``.

    Args:
        x: inputs, shape (N, D), one example per row.
        w: weights, shape (D,).
        b: bias, a float.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``; use your functions above.

    Returns:
        out: the neuron's output for each example, shape (N,).
        cache: what ``neuron_backward`` needs.
    """
    # BEGIN SOLUTION: compute z = x @ w + b, apply the named activation's forward, and cache both steps
    forward = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward}[activation]
    z = x @ w + b
    out, activation_cache = forward(z)
    cache = (x, w, activation, activation_cache)
    return out, cache
    # END SOLUTION


def neuron_backward(dout, cache):
    """Backward pass of the neuron.

    Args:
        dout: upstream gradient d(loss)/d(out), shape (N,).
        cache: from ``neuron_forward``.

    Returns:
        dx: d(loss)/d(x), shape (N, D).
        dw: d(loss)/d(w), shape (D,).
        db: d(loss)/d(b), a float.
    """
    # BEGIN SOLUTION: go back through the activation to dz, then through z = x @ w + b to dx, dw and db
    x, w, activation, activation_cache = cache
    backward = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward}[activation]
    dz = backward(dout, activation_cache)
    # z_n = sum_d x_nd * w_d + b: dz_n / dx_nd = w_d, dz_n / dw_d = x_nd, dz_n / db = 1.
    dx = np.outer(dz, w)
    # w and b are shared by every example, so their gradients add up over the batch.
    dw = x.T @ dz
    db = float(np.sum(dz))
    return dx, dw, db
    # END SOLUTION
