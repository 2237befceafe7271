"""Public checks for assignment 2 (losses). Run them with ``pytest
test_public.py`` in this folder. Passing them is a good sign, not a guarantee:
the grader uses other inputs, including very large scores."""

import numpy as np

from dlgrade_student import assert_gradient
from losses import bce_with_logits, mse_loss, softmax_cross_entropy

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]


def _check_gradient(loss_fn, x, other, analytic, name):
    """Compare the returned gradient with d(loss)/dx by central differences."""
    assert np.shape(analytic) == np.shape(x), f"{name} should have shape {np.shape(x)}; got {np.shape(analytic)}"
    assert_gradient(lambda: loss_fn(x, other)[0], x, analytic, name=name)


# --------------------------------------------------------------------------- mse_loss


def test_mse_loss_by_hand():
    pred = np.array([1.0, 2.0, 3.0])
    target = np.array([1.0, 1.0, 1.0])
    loss, dpred = mse_loss(pred, target)
    # squared errors 0, 1, 4: their mean is 5/3
    assert np.isclose(loss, 5.0 / 3.0), f"mse_loss should be 5/3 here, got {loss}"
    assert np.shape(dpred) == pred.shape, f"dpred should have shape {pred.shape}, got {np.shape(dpred)}"


def test_mse_loss_is_zero_when_pred_equals_target():
    x = np.random.default_rng(0).standard_normal((4, 3))
    loss, dpred = mse_loss(x, x.copy())
    assert loss == 0, f"the loss should be exactly 0 when pred equals target, got {loss}"
    assert np.all(dpred == 0), "the gradient should be 0 when pred equals target"


def test_mse_loss_gradient_vector():
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal(7), rng.standard_normal(7)
    _, dpred = mse_loss(pred, target)
    _check_gradient(mse_loss, pred, target, dpred, "dpred")


def test_mse_loss_gradient_matrix():
    rng = np.random.default_rng(2)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, dpred = mse_loss(pred, target)
    assert np.isclose(loss, np.mean((pred - target) ** 2)), "mse_loss should average over every element"
    assert dpred.shape == (4, 3), f"dpred should have shape (4, 3), got {dpred.shape}"
    _check_gradient(mse_loss, pred, target, dpred, "dpred")


# --------------------------------------------------------------------------- softmax_cross_entropy


def test_softmax_cross_entropy_uniform_scores():
    # Equal scores: every class has probability 1/C, so the loss is log(C) whatever the labels.
    logits = np.zeros((3, 4))
    labels = np.array([0, 3, 1])
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert np.isclose(loss, np.log(4)), f"with equal scores the loss should be log(4) = {np.log(4):.6f}, got {loss}"
    assert dlogits.shape == (3, 4), f"dlogits should have shape (3, 4), got {dlogits.shape}"
    assert np.allclose(dlogits.sum(axis=1), 0, atol=1e-6), "each row of dlogits should sum to 0 (softmax minus one-hot)"


def test_softmax_cross_entropy_gradient():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4))
    labels = np.array([0, 1, 2, 3, 1])
    _, dlogits = softmax_cross_entropy(logits, labels)
    _check_gradient(softmax_cross_entropy, logits, labels, dlogits, "dlogits")


def test_softmax_cross_entropy_large_scores():
    # exp(1000) overflows: a stable implementation still gives finite, exact answers.
    logits = np.array([[1000.0, 0.0], [1000.0, 0.0]])
    labels = np.array([0, 1])
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert np.isfinite(loss), "the loss is not finite for scores around 1000: is it numerically stable?"
    # the first example is right with certainty (loss 0), the second wrong by 1000
    assert np.isclose(loss, 500.0), f"the loss should be (0 + 1000) / 2 = 500 here, got {loss}"
    assert np.all(np.isfinite(dlogits)), "dlogits is not finite for scores around 1000"


# --------------------------------------------------------------------------- bce_with_logits


def test_bce_with_logits_at_zero():
    # sigmoid(0) = 0.5, so every element costs log(2) whatever its target.
    logits = np.zeros(4)
    targets = np.array([0.0, 1.0, 0.25, 1.0])
    loss, dlogits = bce_with_logits(logits, targets)
    assert np.isclose(loss, np.log(2)), f"at logits 0 the loss should be log(2) = {np.log(2):.6f}, got {loss}"
    assert dlogits.shape == (4,), f"dlogits should have shape (4,), got {dlogits.shape}"


def test_bce_with_logits_gradient_soft_targets():
    rng = np.random.default_rng(4)
    logits = 2.0 * rng.standard_normal((3, 4))
    targets = rng.uniform(0.0, 1.0, size=(3, 4))
    _, dlogits = bce_with_logits(logits, targets)
    _check_gradient(bce_with_logits, logits, targets, dlogits, "dlogits")


def test_bce_with_logits_gradient_hard_targets():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal(6)
    targets = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    _, dlogits = bce_with_logits(logits, targets)
    _check_gradient(bce_with_logits, logits, targets, dlogits, "dlogits")


def test_bce_with_logits_large_scores():
    logits = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    targets = np.array([1.0, 0.0, 0.0, 1.0])
    loss, dlogits = bce_with_logits(logits, targets)
    assert np.isfinite(loss), "the loss is not finite for logits around ±1000: is it numerically stable?"
    # two confident right answers cost 0, two confident wrong ones cost 1000 each
    assert np.isclose(loss, 500.0), f"the loss should be (0 + 0 + 1000 + 1000) / 4 = 500 here, got {loss}"
    assert np.all(np.isfinite(dlogits)), "dlogits is not finite for logits around ±1000"
