"""Public checks for assignment 8 (rnn). Run them with ``pytest
test_public.py`` in this folder.

They test values you can verify by hand, the sequence against your own step,
and every backward function against a numerical gradient. Passing them is a
good sign, not a guarantee: the grader uses other shapes and edge cases
(sequences of length 1 and 50, a batch of 1, a tiny and a large ``Wh``).
"""

import numpy as np
from dlgrade_student import assert_gradient
from rnn import (
    clip_gradients,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    temporal_softmax_loss,
)

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]


def weights(rng, D, H):
    return rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H) * 0.1


# --------------------------------------------------------------------------- one step


def test_rnn_step_forward_by_hand():
    # x Wx + h_prev Wh + b = [1, 0] + [0, -2] + [0, 0]: the new state is tanh([1, -2]).
    x, h_prev = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    Wx, Wh, b = np.eye(2), np.array([[5.0, 0.0], [0.0, -2.0]]), np.zeros(2)
    h_next, _ = rnn_step_forward(x, h_prev, Wx, Wh, b)
    assert np.shape(h_next) == (1, 2), f"h_next should have shape (1, 2); got {np.shape(h_next)}"
    assert np.allclose(h_next, np.tanh([[1.0, -2.0]])), f"h_next should be tanh([[1, -2]]); got {h_next}"


def test_rnn_step_backward_numerically():
    rng = np.random.default_rng(0)
    x, h_prev = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    Wx, Wh, b = weights(rng, 4, 5)
    h_next, cache = rnn_step_forward(x, h_prev, Wx, Wh, b)
    dout = rng.standard_normal(h_next.shape)
    grads = rnn_step_backward(dout, cache)
    for name, value, grad in zip(("dx", "dh_prev", "dWx", "dWh", "db"), (x, h_prev, Wx, Wh, b), grads):
        assert_gradient(lambda: rnn_step_forward(x, h_prev, Wx, Wh, b)[0], value, grad, dout, name)


# --------------------------------------------------------------------------- a sequence


def test_rnn_forward_matches_your_steps():
    rng = np.random.default_rng(1)
    x, h0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5))
    Wx, Wh, b = weights(rng, 3, 5)
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    assert np.shape(h) == (2, 4, 5), f"h should have shape (N, T, H) = (2, 4, 5); got {np.shape(h)}"
    state = h0
    for t in range(4):
        state, _ = rnn_step_forward(x[:, t], state, Wx, Wh, b)
        assert np.allclose(h[:, t], state), f"h[:, {t}] should be the state after step {t}, fed by h[:, {t - 1}]"


def test_rnn_backward_numerically():
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4))
    Wx, Wh, b = weights(rng, 3, 4)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dout = rng.standard_normal(h.shape)
    grads = rnn_backward(dout, cache)
    for name, value, grad in zip(("dx", "dh0", "dWx", "dWh", "db"), (x, h0, Wx, Wh, b), grads):
        assert_gradient(lambda: rnn_forward(x, h0, Wx, Wh, b)[0], value, grad, dout, name)


# --------------------------------------------------------------------------- the loss


def test_temporal_softmax_loss_uniform_scores():
    # With W_out = 0 and b_out = 0 every class has probability 1 / C: the loss is log C.
    h = np.ones((2, 3, 4))
    loss, dh, dW_out, db_out = temporal_softmax_loss(h, np.zeros((4, 5)), np.zeros(5), np.zeros((2, 3), dtype=int))
    assert np.isclose(loss, np.log(5)), f"with all scores equal the loss is log(5) = {np.log(5):.4f}; got {loss}"
    assert np.shape(dh) == h.shape and np.shape(dW_out) == (4, 5) and np.shape(db_out) == (5,), (
        "dh, dW_out and db_out should have the shapes of h, W_out and b_out")


def test_temporal_softmax_loss_gradients_numerically():
    rng = np.random.default_rng(3)
    h, W_out, b_out = np.tanh(rng.standard_normal((2, 3, 4))), rng.standard_normal((4, 6)), rng.standard_normal(6)
    y = rng.integers(0, 6, (2, 3))
    _, *grads = temporal_softmax_loss(h, W_out, b_out, y)
    for name, value, grad in zip(("dh", "dW_out", "db_out"), (h, W_out, b_out), grads):
        assert_gradient(lambda: np.array(temporal_softmax_loss(h, W_out, b_out, y)[0]), value, grad, 1.0, name)


# --------------------------------------------------------------------------- clipping


def test_clip_gradients_by_global_norm():
    # The global norm of [3] and [4] is 5: with max_norm 1 both are divided by 5.
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    clipped = clip_gradients(grads, 1.0)
    assert np.allclose(clipped["a"], [0.6]) and np.allclose(clipped["b"], [0.8]), (
        f"both arrays should be scaled by 1 / 5 to [0.6] and [0.8]; got {clipped}")
    assert grads["a"][0] == 3.0, "clip_gradients should leave its argument unchanged"


def test_clip_gradients_below_max_norm_unchanged():
    grads = {"a": np.array([0.3, -0.4])}
    assert np.allclose(clip_gradients(grads, 1.0)["a"], [0.3, -0.4]), "a norm below max_norm changes nothing"
