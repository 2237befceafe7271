"""Public checks for assignment 6 (regularization). Run them with ``pytest
test_public.py`` in this folder.

They test values you can verify by hand, the mask convention of dropout, the
running statistics of batch norm, and every backward function against a
numerical gradient. Passing them is a good sign, not a guarantee: the grader
uses other shapes, drop rates and edge cases (a batch of 2, one feature,
variances smaller than eps, several training steps in a row; for feature maps
one channel, maps one pixel wide, a batch of one image, float32 arrays).
"""

import numpy as np

from dlgrade_student import assert_gradient
from regularization import (
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]


def fresh_state(d):
    """torch's initial running statistics."""
    return {"running_mean": np.zeros(d), "running_var": np.ones(d)}


# --------------------------------------------------------------------------- dropout


def test_dropout_forward_eval_is_identity():
    x = np.random.default_rng(0).standard_normal((4, 5))
    out, _ = dropout_forward(x, 0.5, False, np.random.default_rng(0))
    assert np.shape(out) == x.shape, f"out should have shape {x.shape}; got {np.shape(out)}"
    assert np.allclose(out, x), "in eval mode dropout does nothing: out should equal x"


def test_dropout_forward_p_zero_keeps_everything():
    x = np.random.default_rng(1).standard_normal((3, 4))
    out, _ = dropout_forward(x, 0.0, True, np.random.default_rng(0))
    assert np.allclose(out, x), "with p = 0 no unit is dropped and the scale 1 / (1 - p) is 1: out should equal x"


def test_dropout_forward_mask_by_hand():
    # np.random.default_rng(0).random((2, 4)) is
    # [[0.637, 0.270, 0.041, 0.017], [0.813, 0.913, 0.607, 0.729]]:
    # with p = 0.25 the draws below 0.25 (two of them) drop their unit.
    x = np.arange(1.0, 9.0).reshape(2, 4)
    out, _ = dropout_forward(x, 0.25, True, np.random.default_rng(0))
    expected = np.array([[1.0, 2.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]) / 0.75
    assert np.allclose(out, expected), (
        f"with seed 0 and p = 0.25, the last two units of the first row are dropped and the rest divided by 0.75; "
        f"got {out} (draw the mask with one call rng.random(x.shape) >= p)")


def test_dropout_forward_statistics():
    x = np.ones((200, 100))
    out, _ = dropout_forward(x, 0.3, True, np.random.default_rng(2))
    values = np.unique(np.round(out, 8))
    assert np.allclose(values, [0.0, 1.0 / 0.7]), f"every unit should be 0 or 1 / (1 - p); got the values {values}"
    rate = np.mean(out == 0)
    assert abs(rate - 0.3) < 0.02, f"with p = 0.3 about 30% of the units should be dropped; got {rate:.1%}"
    assert abs(out.mean() - 1.0) < 0.03, f"inverted dropout keeps the mean (here 1); got {out.mean():.3f}"


def test_dropout_backward_eval_passes_gradient_through():
    x = np.random.default_rng(3).standard_normal((3, 4))
    dout = np.random.default_rng(4).standard_normal((3, 4))
    _, cache = dropout_forward(x, 0.4, False, np.random.default_rng(0))
    dx = dropout_backward(dout, cache)
    assert np.allclose(dx, dout), "in eval mode dropout is the identity, so dx should equal dout"


def test_dropout_backward_gradcheck():
    x = np.random.default_rng(5).standard_normal((6, 7))
    p = 0.4
    # A generator rebuilt from the same seed gives the same mask on every call.
    out, cache = dropout_forward(x, p, True, np.random.default_rng(6))
    dout = np.random.default_rng(7).standard_normal(np.shape(out))
    dx = dropout_backward(dout, cache)
    assert np.shape(dx) == x.shape, f"dx should have shape {x.shape}; got {np.shape(dx)}"
    assert_gradient(lambda: dropout_forward(x, p, True, np.random.default_rng(6))[0], x, dx, dout, "dx")


# --------------------------------------------------------------------------- batch normalisation


def test_batchnorm_forward_train_normalises_each_feature():
    rng = np.random.default_rng(8)
    x = 5.0 + 3.0 * rng.standard_normal((50, 4))
    gamma, beta = np.array([1.0, 2.0, 0.5, -1.0]), np.array([0.0, 1.0, -2.0, 3.0])
    out, _ = batchnorm_forward(x, gamma, beta, fresh_state(4), True)
    assert np.shape(out) == x.shape, f"out should have shape {x.shape}; got {np.shape(out)}"
    assert np.allclose(out.mean(axis=0), beta, atol=1e-5), (
        f"each column of out should have mean beta; got {out.mean(axis=0)}")
    assert np.allclose(out.std(axis=0), np.abs(gamma), atol=1e-4), (
        f"each column of out should have standard deviation |gamma| (up to eps); got {out.std(axis=0)}")


def test_batchnorm_forward_running_statistics_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    # batch mean [2, 4]; variance [1, 4] divided by N, [2, 8] divided by N - 1.
    state = fresh_state(2)
    out, _ = batchnorm_forward(x, np.ones(2), np.zeros(2), state, True, momentum=0.1, eps=0.0)
    assert np.allclose(out, [[-1.0, -1.0], [1.0, 1.0]]), f"with eps = 0 each column becomes [-1, 1]; got {out}"
    assert np.allclose(state["running_mean"], [0.2, 0.4]), (
        f"running_mean should be 0.9 * 0 + 0.1 * [2, 4]; got {state['running_mean']}")
    assert np.allclose(state["running_var"], [1.1, 1.7]), (
        f"running_var should be 0.9 * 1 + 0.1 * [2, 8] (the unbiased batch variance); got {state['running_var']}")


def test_batchnorm_forward_eval_uses_running_statistics():
    x = np.array([[3.0, 2.0], [1.0, 8.0], [5.0, 5.0]])
    state = {"running_mean": np.array([1.0, 2.0]), "running_var": np.array([4.0, 9.0])}
    out, _ = batchnorm_forward(x, np.array([2.0, 1.0]), np.array([0.0, 1.0]), state, False, eps=0.0)
    expected = np.array([[2.0, 1.0], [0.0, 3.0], [4.0, 2.0]])
    assert np.allclose(out, expected), f"in eval mode x is normalised with the running statistics; got {out}"
    assert np.allclose(state["running_mean"], [1.0, 2.0]) and np.allclose(state["running_var"], [4.0, 9.0]), (
        "eval mode should leave the running statistics unchanged")


def test_batchnorm_backward_gradcheck():
    rng = np.random.default_rng(9)
    x = 2.0 + 1.5 * rng.standard_normal((5, 3))
    gamma, beta = np.array([0.5, -1.5, 2.0]), np.array([0.1, 0.2, -0.3])
    out, cache = batchnorm_forward(x, gamma, beta, fresh_state(3), True)
    dout = rng.standard_normal(np.shape(out))
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    for name, value, grad in (("x", x, dx), ("gamma", gamma, dgamma), ("beta", beta, dbeta)):
        assert np.shape(grad) == value.shape, f"d{name} should have shape {value.shape}; got {np.shape(grad)}"
        assert_gradient(lambda: batchnorm_forward(x, gamma, beta, fresh_state(3), True)[0], value, grad, dout,
                        f"d{name}")


# --------------------------------------------------------------------------- spatial batch normalisation


def test_spatial_batchnorm_forward_train_normalises_each_channel():
    rng = np.random.default_rng(10)
    # Non-square maps with W different from C: a (C,) vector broadcast along the wrong axis fails here.
    level, spread = np.array([5.0, -2.0, 0.5]), np.array([3.0, 0.5, 1.0])
    x = level[:, None, None] + spread[:, None, None] * rng.standard_normal((6, 3, 4, 5))
    gamma, beta = np.array([1.0, 2.0, -0.5]), np.array([0.0, 1.0, -2.0])
    out, _ = spatial_batchnorm_forward(x, gamma, beta, fresh_state(3), True)
    assert np.shape(out) == x.shape, f"out should have shape {x.shape}; got {np.shape(out)}"
    assert np.allclose(out.mean(axis=(0, 2, 3)), beta, atol=1e-5), (
        f"each channel of out should have mean beta over N, H and W; got {out.mean(axis=(0, 2, 3))}")
    assert np.allclose(out.std(axis=(0, 2, 3)), np.abs(gamma), atol=1e-4), (
        f"each channel of out should have standard deviation |gamma| (up to eps); got {out.std(axis=(0, 2, 3))}")


def test_spatial_batchnorm_forward_running_statistics_by_hand():
    # One image, two channels of one row of two pixels: channel 0 holds 1 and 3, channel 1 holds 2 and 6.
    x = np.array([[[[1.0, 3.0]], [[2.0, 6.0]]]])
    # Means [2, 4]; variances [1, 4] divided by m = N * H * W = 2, [2, 8] divided by m - 1.
    state = fresh_state(2)
    out, _ = spatial_batchnorm_forward(x, np.ones(2), np.zeros(2), state, True, momentum=0.1, eps=0.0)
    assert np.allclose(out, [[[[-1.0, 1.0]], [[-1.0, 1.0]]]]), f"with eps = 0 each channel becomes [-1, 1]; got {out}"
    assert np.allclose(state["running_mean"], [0.2, 0.4]), (
        f"running_mean should be 0.9 * 0 + 0.1 * [2, 4]; got {state['running_mean']}")
    assert np.allclose(state["running_var"], [1.1, 1.7]), (
        f"running_var should be 0.9 * 1 + 0.1 * [2, 8], the unbiased variance over the N * H * W values of each "
        f"channel; got {state['running_var']}")


def test_spatial_batchnorm_forward_eval_uses_running_statistics():
    x = np.array([[[[3.0, 1.0, 5.0]], [[2.0, 8.0, 5.0]]]])
    state = {"running_mean": np.array([1.0, 2.0]), "running_var": np.array([4.0, 9.0])}
    out, _ = spatial_batchnorm_forward(x, np.array([2.0, 1.0]), np.array([0.0, 1.0]), state, False, eps=0.0)
    expected = np.array([[[[2.0, 0.0, 4.0]], [[1.0, 3.0, 2.0]]]])
    assert np.allclose(out, expected), f"in eval mode x is normalised with the running statistics; got {out}"
    assert np.allclose(state["running_mean"], [1.0, 2.0]) and np.allclose(state["running_var"], [4.0, 9.0]), (
        "eval mode should leave the running statistics unchanged")


def test_spatial_batchnorm_backward_gradcheck():
    rng = np.random.default_rng(11)
    x = 1.0 + 2.0 * rng.standard_normal((2, 3, 2, 4))
    gamma, beta = np.array([0.5, -1.5, 2.0]), np.array([0.1, 0.2, -0.3])
    out, cache = spatial_batchnorm_forward(x, gamma, beta, fresh_state(3), True)
    dout = rng.standard_normal(np.shape(out))
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    for name, value, grad in (("x", x, dx), ("gamma", gamma, dgamma), ("beta", beta, dbeta)):
        assert np.shape(grad) == value.shape, f"d{name} should have shape {value.shape}; got {np.shape(grad)}"
        assert_gradient(lambda: spatial_batchnorm_forward(x, gamma, beta, fresh_state(3), True)[0], value, grad,
                        dout, f"d{name}")
