"""Public checks for assignment 1. Run them with ``pytest test_public.py`` in this folder.

They test values you can verify by hand and compare every backward function
with a numerical gradient (central differences). Passing them is a good sign,
not a guarantee: the grader uses other inputs, including edge cases.
"""

import numpy as np

from dlgrade_student import assert_gradient
from neuron import (
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    neuron_backward,
    neuron_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]


def away_from_zero(rng, shape, scale=2.0, margin=0.1):
    """Random values with |x| >= margin, so that central differences never step
    across the kink of ReLU, leaky ReLU or ELU at 0."""
    x = scale * rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


def check_gradient(forward, backward, x, name="x"):
    """Compare backward(dout, cache) with d(sum(forward(x) * dout))/dx."""
    rng = np.random.default_rng(1)
    out, cache = forward(x)
    dout = rng.standard_normal(np.shape(out))
    dx = backward(dout, cache)
    assert np.shape(dx) == np.shape(x), f"d{name} should have the shape of {name}, {np.shape(x)}; got {np.shape(dx)}"
    assert_gradient(lambda: forward(x)[0], x, dx, dout, f"d{name}")


# --------------------------------------------------------------------------- sigmoid


def test_sigmoid_forward_values():
    x = np.array([[0.0, np.log(3.0), -np.log(3.0)]])
    out, _ = sigmoid_forward(x)
    assert out.shape == x.shape, f"out should have shape {x.shape}; got {out.shape}"
    assert np.allclose(out, [[0.5, 0.75, 0.25]]), f"sigmoid(0) = 0.5 and sigmoid(±ln 3) = 0.75 / 0.25; got {out}"


def test_sigmoid_forward_large_inputs():
    with np.errstate(over="ignore"):
        out, _ = sigmoid_forward(np.array([-1000.0, 1000.0]))
    assert np.all(np.isfinite(out)), f"sigmoid(±1000) should be finite; got {out}"
    assert np.allclose(out, [0.0, 1.0]), f"sigmoid(-1000) is about 0 and sigmoid(1000) about 1; got {out}"


def test_sigmoid_backward_at_zero():
    _, cache = sigmoid_forward(np.zeros(3))
    dx = sigmoid_backward(np.array([1.0, 2.0, -4.0]), cache)
    assert np.allclose(dx, [0.25, 0.5, -1.0]), f"sigmoid'(0) = 0.25, times dout; got {dx}"


def test_sigmoid_backward_gradcheck():
    x = np.random.default_rng(0).standard_normal((4, 5)) * 2
    check_gradient(sigmoid_forward, sigmoid_backward, x)


# --------------------------------------------------------------------------- tanh


def test_tanh_forward_values():
    x = np.array([0.0, np.log(2.0), -np.log(2.0)])
    out, _ = tanh_forward(x)
    assert np.allclose(out, [0.0, 0.6, -0.6]), f"tanh(0) = 0 and tanh(±ln 2) = ±3/5; got {out}"


def test_tanh_forward_large_inputs():
    with np.errstate(over="ignore", invalid="ignore"):
        out, _ = tanh_forward(np.array([-1000.0, 1000.0]))
    assert np.all(np.isfinite(out)), f"tanh(±1000) should be finite; got {out}"
    assert np.allclose(out, [-1.0, 1.0]), f"tanh(±1000) is about ±1; got {out}"


def test_tanh_backward_gradcheck():
    x = np.random.default_rng(0).standard_normal((3, 6))
    check_gradient(tanh_forward, tanh_backward, x)


# --------------------------------------------------------------------------- ReLU


def test_relu_forward_values():
    out, _ = relu_forward(np.array([[-2.0, -0.5, 0.0, 1.5, 3.0]]))
    assert np.allclose(out, [[0.0, 0.0, 0.0, 1.5, 3.0]]), f"ReLU keeps positive values and zeroes the rest; got {out}"


def test_relu_backward_blocks_negative_inputs():
    _, cache = relu_forward(np.array([-2.0, -0.5, 1.5, 3.0]))
    dx = relu_backward(np.array([1.0, 2.0, 3.0, 4.0]), cache)
    assert np.allclose(dx, [0.0, 0.0, 3.0, 4.0]), f"the gradient flows only where x > 0; got {dx}"


def test_relu_backward_gradcheck():
    x = away_from_zero(np.random.default_rng(0), (4, 5))
    check_gradient(relu_forward, relu_backward, x)


# --------------------------------------------------------------------------- leaky ReLU


def test_leaky_relu_forward_values():
    x = np.array([-2.0, -0.5, 1.5])
    out, _ = leaky_relu_forward(x, 0.1)
    assert np.allclose(out, [-0.2, -0.05, 1.5]), f"with alpha = 0.1, negative inputs are scaled by 0.1; got {out}"
    out, _ = leaky_relu_forward(x)
    assert np.allclose(out, [-0.02, -0.005, 1.5]), f"the default alpha is 0.01; got {out}"


def test_leaky_relu_backward_values():
    _, cache = leaky_relu_forward(np.array([-1.0, 2.0]), 0.2)
    dx = leaky_relu_backward(np.array([5.0, 5.0]), cache)
    assert np.allclose(dx, [1.0, 5.0]), f"with alpha = 0.2 the slope is 0.2 for x < 0 and 1 for x > 0; got {dx}"


def test_leaky_relu_backward_gradcheck():
    x = away_from_zero(np.random.default_rng(0), (4, 5))
    check_gradient(lambda v: leaky_relu_forward(v, 0.2), leaky_relu_backward, x)


# --------------------------------------------------------------------------- ELU


def test_elu_forward_values():
    x = np.array([0.0, 1.5, np.log(0.5)])
    out, _ = elu_forward(x, 2.0)
    assert np.allclose(out, [0.0, 1.5, -1.0]), f"with alpha = 2, ELU(ln 0.5) = 2 * (0.5 - 1) = -1; got {out}"


def test_elu_forward_large_inputs():
    with np.errstate(over="ignore", invalid="ignore"):
        out, _ = elu_forward(np.array([-1000.0, 1000.0]), 0.5)
    assert np.all(np.isfinite(out)), f"ELU(±1000) should be finite; got {out}"
    assert np.allclose(out, [-0.5, 1000.0]), f"ELU approaches -alpha for very negative inputs; got {out}"


def test_elu_backward_gradcheck():
    x = away_from_zero(np.random.default_rng(0), (4, 5))
    check_gradient(lambda v: elu_forward(v, 0.5), elu_backward, x)


# --------------------------------------------------------------------------- softmax


def test_softmax_forward_values():
    x = np.array([[0.0, np.log(3.0), 0.0], [1.0, 1.0, 1.0]])
    out, _ = softmax_forward(x)
    assert out.shape == (2, 3), f"out should have shape (2, 3); got {out.shape}"
    assert np.allclose(out.sum(axis=1), 1.0), f"each row of the softmax should sum to 1; row sums are {out.sum(axis=1)}"
    assert np.allclose(out, [[0.2, 0.6, 0.2], [1 / 3, 1 / 3, 1 / 3]]), f"unexpected probabilities {out}"


def test_softmax_forward_large_logits():
    x = np.array([[1000.0, 1000.0, 1000.0 - np.log(2.0)], [-1000.0, -1000.0, -1000.0 - np.log(2.0)]])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out, _ = softmax_forward(x)
    assert np.all(np.isfinite(out)), f"softmax of logits around ±1000 should be finite; got {out}"
    expected = [[0.4, 0.4, 0.2], [0.4, 0.4, 0.2]]
    assert np.allclose(out, expected, rtol=1e-4), f"adding a constant to a row must not change its softmax; got {out}"


def test_softmax_backward_gradcheck():
    x = np.random.default_rng(0).standard_normal((3, 5)) * 2
    check_gradient(softmax_forward, softmax_backward, x)


# --------------------------------------------------------------------------- neuron


def test_neuron_forward_values():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    w = np.array([0.5, -0.25])
    out, _ = neuron_forward(x, w, 0.0, "sigmoid")
    assert out.shape == (2,), f"out should have one value per example, shape (2,); got {out.shape}"
    assert np.isclose(out[0], 0.5), f"x[0] @ w + b = 0, so sigmoid gives 0.5; got {out[0]}"
    out, _ = neuron_forward(x, w, -1.5, "relu")
    assert np.allclose(out, [0.0, 0.25]), f"z = x @ w + b = [-1.5, 0.25], and ReLU(z) = [0, 0.25]; got {out}"
    out, _ = neuron_forward(x, w, np.log(2.0), "tanh")
    assert np.isclose(out[0], 0.6), f"z[0] = ln 2, and tanh(ln 2) = 3/5; got {out[0]}"


def _check_neuron_gradients(activation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    w = rng.standard_normal(3)
    b = np.array(0.3)  # a 0-d array, so that numerical_gradient can nudge it
    dout = rng.standard_normal(5)

    def forward():
        return neuron_forward(x, w, float(b), activation)[0]

    _, cache = neuron_forward(x, w, float(b), activation)
    dx, dw, db = neuron_backward(dout, cache)
    assert np.shape(dx) == x.shape, f"dx should have shape {x.shape}; got {np.shape(dx)}"
    assert np.shape(dw) == w.shape, f"dw should have shape {w.shape}; got {np.shape(dw)}"
    assert np.size(db) == 1, f"db should be a single number; got shape {np.shape(db)}"
    for name, grad, value in (("x", dx, x), ("w", dw, w), ("b", db, b)):
        assert_gradient(forward, value, grad, dout, f"{activation} neuron: d{name}")


def test_neuron_backward_sigmoid_gradcheck():
    _check_neuron_gradients("sigmoid")


def test_neuron_backward_tanh_gradcheck():
    _check_neuron_gradients("tanh")


def test_neuron_backward_relu_gradcheck():
    _check_neuron_gradients("relu")
