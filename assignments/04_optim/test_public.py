"""Public checks for assignment 4 (optim). Run them with ``pytest
test_public.py`` in this folder. Passing them is a good sign, not a guarantee:
the grader runs 30 steps and more with other hyper-parameters, shapes and
gradient scales, and compares every step with PyTorch's optimisers."""

import numpy as np

from optim import adam_step, adamw_step, rmsprop_step, sgd_step

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]


def _close(actual, expected, what):
    actual = np.asarray(actual)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what} should have shape {expected.shape}, got {actual.shape}"
    assert np.allclose(actual, expected, rtol=1e-4, atol=1e-7), (
        f"{what} is off: max abs error {np.max(np.abs(actual - expected)):.3g}")


def _run(step, w, grads, **hyper):
    """Several steps from an empty state: the list of points after each step."""
    state, points = {}, []
    for g in grads:
        w, state = step(w, g, state, **hyper)
        assert isinstance(state, dict), f"{step.__name__} should return the state as a dict, got {type(state)}"
        points.append(w)
    return points


def _minimise_quadratic(step, steps, **hyper):
    """Run ``step`` on 0.5 * w.A.w - b.w; return the last point and the minimum A^-1 b."""
    a = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    b = np.array([1.0, -2.0, 0.5])
    w, state = np.zeros(3), {}
    for _ in range(steps):
        w, state = step(w, a @ w - b, state, **hyper)
    return w, np.linalg.solve(a, b)


# --------------------------------------------------------------------------- sgd_step


def test_sgd_step_plain():
    w = np.array([1.0, 2.0, 3.0])
    dw = np.array([0.5, -1.0, 2.0])
    w_next, state = sgd_step(w, dw, {}, lr=0.1)
    _close(w_next, [0.95, 2.1, 2.8], "w_next (w - lr * dw)")
    assert isinstance(state, dict), "sgd_step should return the state as a dict"


def test_sgd_step_momentum_with_a_constant_gradient():
    # The buffer starts at the gradient, then b = 0.9 * b + g: g, 1.9 g, 2.71 g.
    g = np.array([1.0, -2.0])
    points = _run(sgd_step, np.zeros(2), [g, g, g], lr=0.1, momentum=0.9)
    _close(points[0], -0.1 * g, "w after 1 step")
    _close(points[1], -0.1 * (1 + 1.9) * g, "w after 2 steps")
    _close(points[2], -0.1 * (1 + 1.9 + 2.71) * g, "w after 3 steps")


def test_sgd_step_nesterov_with_a_constant_gradient():
    # Nesterov steps along g + 0.9 * b: 1.9 g, then g + 0.9 * 1.9 g = 2.71 g.
    g = np.array([[1.0, 0.0], [-1.0, 0.5]])
    points = _run(sgd_step, np.zeros((2, 2)), [g, g], lr=0.1, momentum=0.9, nesterov=True)
    _close(points[0], -0.1 * 1.9 * g, "w after 1 Nesterov step")
    _close(points[1], -0.1 * (1.9 + 2.71) * g, "w after 2 Nesterov steps")


def test_sgd_step_weight_decay_shrinks_the_weights():
    # With a zero gradient, the L2 term alone gives w - lr * weight_decay * w.
    w = np.array([2.0, -4.0])
    w_next, _ = sgd_step(w, np.zeros(2), {}, lr=0.1, weight_decay=0.5)
    _close(w_next, 0.95 * w, "w_next with weight decay and a zero gradient")


def test_sgd_step_minimises_a_quadratic():
    w, minimum = _minimise_quadratic(sgd_step, 300, lr=0.1, momentum=0.8)
    _close(w, minimum, "the point reached after 300 steps of SGD with momentum (the minimum)")


# --------------------------------------------------------------------------- adam_step


def test_adam_step_first_step_is_lr_whatever_the_scale():
    # After bias correction, m_hat = g and v_hat = g^2 on the first step: each
    # weight moves by lr * |g| / (|g| + eps), about lr, against its gradient.
    w = np.array([1.0, 1.0, 1.0, 1.0])
    dw = np.array([1e-3, -1.0, 1e3, -5.0])
    w_next, _ = adam_step(w, dw, {}, lr=0.01)
    _close(w_next, w - 0.01 * np.sign(dw), "w after the first Adam step")


def test_adam_step_second_step_by_hand():
    # Gradients +1 then -1 (lr 0.1, default betas). Step 1: m_hat = 1, v_hat = 1: w moves by -0.1.
    # Step 2: m = 0.9 * 0.1 - 0.1 = -0.01 and m_hat = -0.01 / (1 - 0.81) = -1/19; v_hat = 1.
    w0 = np.array([0.5])
    points = _run(adam_step, w0, [np.array([1.0]), np.array([-1.0])], lr=0.1)
    _close(points[0], w0 - 0.1, "w after 1 Adam step")
    _close(points[1], w0 - 0.1 + 0.1 / 19, "w after 2 Adam steps")


def test_adam_step_weight_decay_enters_the_gradient():
    # With a zero gradient, g = weight_decay * w: the first step moves by lr against the sign of w.
    w = np.array([2.0, -3.0])
    w_next, _ = adam_step(w, np.zeros(2), {}, lr=0.1, weight_decay=0.1)
    _close(w_next, [1.9, -2.9], "w after one Adam step with weight decay and a zero gradient")


def test_adam_step_minimises_a_quadratic():
    w, minimum = _minimise_quadratic(adam_step, 1000, lr=0.01)
    assert np.max(np.abs(w - minimum)) < 0.01, "1000 Adam steps (lr 0.01) should end near the minimum"


# --------------------------------------------------------------------------- adamw_step


def test_adamw_step_zero_gradient_only_shrinks():
    # m = v = 0: Adam's part is 0 / (0 + eps) = 0, so each step multiplies w by (1 - lr * weight_decay).
    w0 = np.array([1.0, -2.0, 4.0])
    points = _run(adamw_step, w0, [np.zeros(3)] * 3, lr=0.1, weight_decay=0.5)
    _close(points[-1], w0 * 0.95 ** 3, "w after 3 AdamW steps with zero gradients")


def test_adamw_step_first_step_by_hand():
    # Decay first, w * (1 - lr * weight_decay), then Adam's first step of size lr on the raw gradient.
    w = np.array([1.0, -1.0])
    w_next, _ = adamw_step(w, np.array([0.5, 0.5]), {}, lr=0.1, weight_decay=0.2)
    _close(w_next, [0.98 - 0.1, -0.98 - 0.1], "w after the first AdamW step")


def test_adamw_step_without_decay_is_adam():
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal(5), rng.standard_normal((4, 5))
    adamw = _run(adamw_step, w0, grads, lr=0.01, weight_decay=0.0)
    adam = _run(adam_step, w0, grads, lr=0.01)
    _close(adamw[-1], adam[-1], "AdamW with weight_decay=0 (it should equal Adam)")


def test_adamw_step_minimises_a_quadratic():
    w, minimum = _minimise_quadratic(adamw_step, 1000, lr=0.01, weight_decay=0.0)
    assert np.max(np.abs(w - minimum)) < 0.01, "1000 AdamW steps (lr 0.01, no decay) should end near the minimum"


# --------------------------------------------------------------------------- rmsprop_step


def test_rmsprop_step_constant_gradient():
    # s = (1 - alpha^t) g^2 after t steps of a constant gradient, so step t moves by lr / sqrt(1 - alpha^t).
    g = np.array([2.0, -0.5])
    points = _run(rmsprop_step, np.zeros(2), [g, g], lr=0.01, alpha=0.99)
    first = 0.01 / np.sqrt(0.01)  # 0.1
    second = 0.01 / np.sqrt(1 - 0.99 ** 2)
    _close(points[0], -first * np.sign(g), "w after 1 RMSprop step")
    _close(points[1], -(first + second) * np.sign(g), "w after 2 RMSprop steps")


def test_rmsprop_step_momentum():
    # The buffer starts at 0: b = step on the first call, then b = momentum * b + step.
    g = np.array([1.0])
    points = _run(rmsprop_step, np.zeros(1), [g, g], lr=0.01, alpha=0.99, momentum=0.5)
    first = 1 / np.sqrt(0.01)
    second = 0.5 * first + 1 / np.sqrt(1 - 0.99 ** 2)
    _close(points[1], [-0.01 * (first + second)], "w after 2 RMSprop steps with momentum")


def test_rmsprop_step_small_gradients():
    # eps (1e-8) is added outside the square root, so it hardly matters even for gradients of 1e-4.
    w_next, _ = rmsprop_step(np.zeros(2), np.array([1e-4, -1e-4]), {}, lr=0.01, alpha=0.99)
    expected = 0.01 * 1e-4 / (np.sqrt(0.01) * 1e-4 + 1e-8)  # 0.0999
    _close(w_next, [-expected, expected], "w after one RMSprop step on gradients of 1e-4")


def test_rmsprop_step_minimises_a_quadratic():
    w, minimum = _minimise_quadratic(rmsprop_step, 1000, lr=0.003)
    assert np.max(np.abs(w - minimum)) < 0.01, "1000 RMSprop steps (lr 0.003) should end near the minimum"
