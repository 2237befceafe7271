"""Public checks for assignment 3. Run them with ``pytest test_public.py`` in this folder.

They test values you can verify by hand, compare every gradient with a
numerical gradient (central differences), and train on XOR. Passing them is a
good sign, not a guarantee: the grader uses other inputs, shapes and data sets
(including Fisher's iris data), and edge cases.
"""

import numpy as np
import pytest

from dlgrade_student import assert_gradient
from mlp import (
    fan_in_and_out,
    he_normal,
    he_uniform,
    mlp_backward,
    mlp_forward,
    mlp_loss,
    predict,
    standardize,
    train_mlp,
    xavier_normal,
    xavier_uniform,
)

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]

SHAPES = {"W": (3, 5), "b1": (5,), "U": (5, 2), "b2": (2,), "x": (4, 3)}  # N=4, D=3, H=5, C=2


def random_net(seed=0, n=4, d=3, h=5, c=2):
    """Inputs x (N, D) and parameters of a small network with D, H and C all
    different, so that a transposed gradient shows in its shape. Every
    pre-activation x @ W + b1 stays at least 0.2 away from 0, so that the
    numerical gradient never steps across the kink of ReLU."""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.standard_normal((n, d))
        params = {
            "W": rng.standard_normal((d, h)) / np.sqrt(d),
            "b1": 0.5 * rng.standard_normal(h),
            "U": rng.standard_normal((h, c)) / np.sqrt(h),
            "b2": 0.5 * rng.standard_normal(c),
        }
        if np.min(np.abs(x @ params["W"] + params["b1"])) > 0.2:
            return x, params


def xor_data():
    x = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return x, y


# --------------------------------------------------------------------------- mlp_forward


def test_mlp_forward_shape():
    x, params = random_net()
    for activation in ("sigmoid", "relu"):
        scores, _ = mlp_forward(x, params, activation)
        assert np.shape(scores) == (4, 2), f"scores should have shape (N, C) = (4, 2); got {np.shape(scores)}"


def test_mlp_forward_sigmoid_of_zero():
    # With W = 0 and b1 = 0 every hidden unit is sigmoid(0) = 0.5, so scores = 0.5 * (sum of U's rows) + b2.
    x, params = random_net()
    params["W"], params["b1"] = np.zeros((3, 5)), np.zeros(5)
    scores, _ = mlp_forward(x, params, "sigmoid")
    expected = np.tile(0.5 * params["U"].sum(axis=0) + params["b2"], (4, 1))
    assert np.allclose(scores, expected), f"with W = 0 and b1 = 0, every hidden unit is 0.5; got scores {scores}"


def test_mlp_forward_relu_by_hand():
    x = np.array([[1.0, -2.0]])
    params = {"W": np.eye(2), "b1": np.array([0.5, 0.5]), "U": np.array([[1.0], [10.0]]), "b2": np.array([-1.0])}
    # z = (1.5, -1.5), h = relu(z) = (1.5, 0), scores = 1.5 * 1 + 0 * 10 - 1 = 0.5
    scores, _ = mlp_forward(x, params, "relu")
    assert np.allclose(scores, [[0.5]]), f"relu(x @ W + b1) @ U + b2 should be [[0.5]] here; got {scores}"


# --------------------------------------------------------------------------- mlp_backward


def test_mlp_backward_shapes():
    x, params = random_net()
    _, cache = mlp_forward(x, params, "relu")
    grads = mlp_backward(np.ones((4, 2)), cache)
    assert isinstance(grads, dict), f"mlp_backward should return a dict; got {type(grads).__name__}"
    for name, shape in SHAPES.items():
        assert name in grads, f"grads has no entry {name!r} (keys: W, b1, U, b2, x)"
        assert np.shape(grads[name]) == shape, f"grads[{name!r}] should have the shape of {name}, {shape}; " \
                                               f"got {np.shape(grads[name])}"


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_mlp_backward_gradcheck(activation):
    x, params = random_net()
    dout = np.random.default_rng(1).standard_normal((4, 2))
    _, cache = mlp_forward(x, params, activation)
    grads = mlp_backward(dout, cache)
    arrays = {**params, "x": x}
    for name, array in arrays.items():
        assert_gradient(lambda: mlp_forward(x, params, activation)[0], array, grads[name], dout, f"d{name}")


# --------------------------------------------------------------------------- mlp_loss


def test_mlp_loss_mse_by_hand():
    # U = 0: the scores are b2 = (1, 2) for every example; the targets are 0, so the MSE is (1 + 4) / 2.
    x, params = random_net()
    params["U"], params["b2"] = np.zeros((5, 2)), np.array([1.0, 2.0])
    loss, _ = mlp_loss(x, np.zeros((4, 2)), params, "sigmoid", "mse")
    assert np.isclose(loss, 2.5), f"the mean of (1 - 0)^2 and (2 - 0)^2 is 2.5; got {loss}"


def test_mlp_loss_cross_entropy_uniform():
    # Equal scores: the softmax is uniform over C classes, and the loss is log(C) for any labels.
    x, params = random_net()
    params["U"], params["b2"] = np.zeros((5, 2)), np.zeros(2)
    loss, _ = mlp_loss(x, np.array([0, 1, 1, 0]), params, "relu", "cross_entropy")
    assert np.isclose(loss, np.log(2)), f"with equal scores the cross-entropy is log(2) = 0.693; got {loss}"


def test_mlp_loss_cross_entropy_large_scores():
    x, params = random_net()
    params["b2"] = np.array([1000.0, 990.0])
    with np.errstate(all="ignore"):
        loss, grads = mlp_loss(x, np.array([0, 1, 1, 0]), params, "sigmoid", "cross_entropy")
    assert np.isfinite(loss), f"the loss should stay finite for scores around 1000; got {loss}"
    assert all(np.all(np.isfinite(g)) for g in grads.values()), "the gradients should stay finite for scores ~1000"


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_mlp_loss_gradcheck(activation, loss):
    x, params = random_net(seed=2)
    rng = np.random.default_rng(3)
    y = rng.standard_normal((4, 2)) if loss == "mse" else np.array([0, 1, 1, 0])
    _, grads = mlp_loss(x, y, params, activation, loss)
    for name, array in {**params, "x": x}.items():
        assert_gradient(lambda: mlp_loss(x, y, params, activation, loss)[0], array, grads[name], name=f"d{name}")


# --------------------------------------------------------------------------- predict


def test_predict_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    # ReLU with W = I and b1 = 0 keeps the positive inputs; U sends unit 0 to class 2 and unit 1 to class 0.
    params = {"W": np.eye(2), "b1": np.zeros(2), "U": np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
              "b2": np.array([0.0, 0.5, 0.0])}
    labels = predict(x, params, "relu")
    assert np.shape(labels) == (3,), f"labels should have shape (N,) = (3,); got {np.shape(labels)}"
    assert np.array_equal(labels, [2, 0, 1]), f"the highest scores are in classes 2, 0 and 1; got {labels}"


# --------------------------------------------------------------------------- train_mlp


def test_train_mlp_returns_parameters():
    x, y = xor_data()
    params = train_mlp(x, y, hidden=6, activation="relu", lr=0.1, epochs=2, batch_size=2, seed=0)
    assert isinstance(params, dict), f"train_mlp should return a dict of parameters; got {type(params).__name__}"
    for name, shape in {"W": (2, 6), "b1": (6,), "U": (6, 2), "b2": (2,)}.items():
        assert name in params, f"params has no entry {name!r}"
        got = np.shape(params[name])
        assert got == shape, f"params[{name!r}] should have shape {shape}; got {got}"
    again = train_mlp(x, y, hidden=6, activation="relu", lr=0.1, epochs=2, batch_size=2, seed=0)
    assert all(np.array_equal(params[k], again[k]) for k in params), \
        "the same seed should give the same parameters: draw every random number from default_rng(seed)"


def test_train_mlp_lowers_the_loss():
    x, y = xor_data()
    before = train_mlp(x, y, hidden=8, activation="sigmoid", lr=1.0, epochs=0, batch_size=4, seed=1)
    after = train_mlp(x, y, hidden=8, activation="sigmoid", lr=1.0, epochs=50, batch_size=4, seed=1)
    start, _ = mlp_loss(x, y, before, "sigmoid", "cross_entropy")
    end, _ = mlp_loss(x, y, after, "sigmoid", "cross_entropy")
    assert end < start, f"50 epochs of gradient descent should lower the loss; it went from {start:.4f} to {end:.4f}"


@pytest.mark.parametrize("activation, hidden, lr, epochs", [("sigmoid", 8, 2.0, 600), ("relu", 16, 0.3, 150)])
def test_train_mlp_learns_xor(activation, hidden, lr, epochs):
    x, y = xor_data()
    params = train_mlp(x, y, hidden=hidden, activation=activation, lr=lr, epochs=epochs, batch_size=4, seed=0)
    labels = predict(x, params, activation)
    assert np.array_equal(labels, y), f"after training, XOR should be classified perfectly: expected {y}, got {labels}"


# --------------------------------------------------------------------------- fan_in_and_out


@pytest.mark.parametrize("shape, fans", [
    ((3, 5), (3, 5)),  # dense (D_in, D_out), used as x @ W
    ((8, 4, 3, 3), (4 * 3 * 3, 8 * 3 * 3)),  # filters (F, C, HH, WW)
    ((6, 2, 5), (2 * 5, 6 * 5)),  # 1-d filters (F, C, K)
])
def test_fan_in_and_out_by_hand(shape, fans):
    got = tuple(int(f) for f in fan_in_and_out(shape))
    assert got == fans, f"the (fan_in, fan_out) of a weight of shape {shape} are {fans}; got {got}"


# --------------------------------------------------------------------------- the initialisers

# A dense (D_in, D_out) weight and convolution filters (F, C, HH, WW), with their (fan_in, fan_out).
WEIGHTS = [((400, 100), (400, 100)), ((10, 40, 3, 3), (360, 90))]


def check_draw(name, draw, shape, variance, distribution):
    """40 000 or so values from ``draw(shape, rng)``: their mean near 0, their
    variance within 5% of ``variance`` (about 7 standard errors), their range
    (uniform) or tails (normal) as the distribution's; the same seed gives the
    same weights, another seed others."""
    weights = draw(shape, np.random.default_rng(0))
    assert np.shape(weights) == shape, f"{name} should return an array of shape {shape}; got {np.shape(weights)}"
    assert abs(np.mean(weights)) < 0.05 * np.sqrt(variance), f"{name}: the mean of the weights should be near 0"
    got = np.mean(np.square(weights))
    assert abs(got / variance - 1) < 0.05, f"{name}: the weights' variance should be {variance:.4g}; got {got:.4g}"
    if distribution == "uniform":
        limit = np.sqrt(3 * variance)
        assert np.max(np.abs(weights)) <= limit * (1 + 1e-6), f"{name}: every value should lie within +-{limit:.4g}"
        assert np.max(np.abs(weights)) > 0.99 * limit, f"{name}: some values should come close to +-{limit:.4g}"
    else:
        beyond = np.mean(np.abs(weights) > 2 * np.sqrt(variance))
        assert 0.035 < beyond < 0.056, f"{name}: about 4.6% of normal values lie beyond 2 std; got {beyond:.1%}"
    assert np.array_equal(weights, draw(shape, np.random.default_rng(0))), \
        f"{name}: generators seeded alike should give the same weights: draw from the rng passed in"
    assert not np.array_equal(weights, draw(shape, np.random.default_rng(1))), \
        f"{name}: generators seeded differently should give other weights"


@pytest.mark.parametrize("shape, fans", WEIGHTS)
def test_xavier_uniform_statistics(shape, fans):
    check_draw("xavier_uniform", lambda s, rng: xavier_uniform(s, rng, gain=2.0), shape,
               2.0 ** 2 * 2.0 / sum(fans), "uniform")


@pytest.mark.parametrize("shape, fans", WEIGHTS)
def test_xavier_normal_statistics(shape, fans):
    check_draw("xavier_normal", lambda s, rng: xavier_normal(s, rng, gain=2.0), shape,
               2.0 ** 2 * 2.0 / sum(fans), "normal")


@pytest.mark.parametrize("shape, fans", WEIGHTS)
def test_he_uniform_statistics(shape, fans):
    check_draw("he_uniform", he_uniform, shape, 2.0 / fans[0], "uniform")


@pytest.mark.parametrize("shape, fans", WEIGHTS)
def test_he_normal_statistics(shape, fans):
    check_draw("he_normal", he_normal, shape, 2.0 / fans[0], "normal")


# --------------------------------------------------------------------------- standardize


def test_standardize_by_hand():
    # Feature 0 has mean 2 and std 1 over the training rows, feature 1 mean 10 and std 5.
    x_train = np.array([[1.0, 5.0], [3.0, 15.0]])
    x_test = np.array([[2.0, 0.0], [4.0, 20.0], [0.0, 10.0]])
    train, test = standardize(x_train, x_test)
    assert np.allclose(train, [[-1.0, -1.0], [1.0, 1.0]]), f"the training set standardised is [[-1, -1], [1, 1]]; " \
                                                           f"got {train}"
    assert np.allclose(test, [[0.0, -2.0], [2.0, 2.0], [-2.0, 0.0]]), \
        f"the test set, standardised with the training mean (2, 10) and std (1, 5), is [[0, -2], [2, 2], [-2, 0]]; " \
        f"got {test}"


def test_standardize_training_columns_have_mean_0_and_std_1():
    rng = np.random.default_rng(0)
    x_train = 50.0 + 20.0 * rng.standard_normal((30, 4))
    before = x_train.copy()
    train, test = standardize(x_train, rng.standard_normal((5, 4)))
    # atol: a float32 standardisation leaves means of about 1e-7.
    assert np.allclose(np.mean(train, axis=0), 0.0, atol=1e-5) and np.allclose(np.std(train, axis=0), 1.0, atol=1e-5), \
        "every column of the standardised training set should have mean 0 and standard deviation 1"
    assert np.shape(test) == (5, 4), f"the test set keeps its shape (5, 4); got {np.shape(test)}"
    assert np.array_equal(x_train, before), "standardize should leave x_train unchanged: return new arrays"
