"""Assignment 3, a plausible first attempt with some classic mistakes."""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def mlp_forward(x, params, activation):
    a = x @ params["W"] + params["b1"]
    h = sigmoid(a) if activation == "sigmoid" else np.maximum(0, a)
    out = h @ params["U"] + params["b2"]
    return out, (x, a, h, params, activation)


def mlp_backward(dscores, cache):
    x, a, h, params, activation = cache
    dU = h.T @ dscores
    db2 = dscores.sum(axis=0)
    dh = dscores @ params["U"].T
    if activation == "sigmoid":
        da = dh * a * (1 - a)  # BUG: sigmoid-derivative-at-preactivation
    else:
        da = dh * (a > 0)
    dW = da.T @ x  # BUG: weight-gradient-transposed
    db1 = da.sum(axis=0)
    dx = da @ params["W"].T
    return {"W": dW, "b1": db1, "U": dU, "b2": db2, "x": dx}


def mlp_loss(x, y, params, activation, loss):
    scores, cache = mlp_forward(x, params, activation)
    if loss == "mse":
        value = np.mean((scores - y) ** 2)
        dscores = 2 * (scores - y)  # BUG: loss-gradient-not-averaged
    else:
        n = len(y)
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        value = -np.mean(np.log(p[np.arange(n), y]))
        dscores = p.copy()
        dscores[np.arange(n), y] -= 1  # BUG: loss-gradient-not-averaged (no 1/N either)
    return value, mlp_backward(dscores, cache)


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    classes = y.max() + 1
    params = {"W": rng.normal(0, 0.1, (x.shape[1], hidden)), "b1": np.zeros(hidden),
              "U": rng.normal(0, 0.1, (hidden, classes)), "b2": np.zeros(classes)}
    for epoch in range(epochs):
        idx = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            b = idx[i:i + batch_size]
            _, grads = mlp_loss(x[b], y[b], params, activation, "cross_entropy")
            for k in params:
                params[k] -= lr * grads[k]
    return params


def predict(x, params, activation):
    scores, _ = mlp_forward(x, params, activation)
    return np.argmax(scores, axis=0)  # BUG: predict-argmax-over-batch


def fan_in_and_out(shape):
    # torch's rule, (out, in, *kernel), on the course's (D_in, D_out) weight too
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive  # BUG: fans-swapped


def xavier_uniform(shape, rng, gain=1.0):
    fan_in, fan_out = fan_in_and_out(shape)
    a = gain * np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape)


def xavier_normal(shape, rng, gain=1.0):
    fan_in, fan_out = fan_in_and_out(shape)
    return rng.normal(0, gain ** 2 * 2 / (fan_in + fan_out), size=shape)  # BUG: variance-as-std


def he_uniform(shape, rng):
    fan_in, _ = fan_in_and_out(shape)
    return rng.uniform(-np.sqrt(6 / fan_in), np.sqrt(6 / fan_in), size=shape)


def he_normal(shape, rng):
    fan_in, _ = fan_in_and_out(shape)
    return rng.normal(0, np.sqrt(2 / fan_in), size=shape)


def standardize(x_train, x_test):
    def scale(x):
        return (x - x.mean(axis=0)) / x.std(axis=0)
    return scale(x_train), scale(x_test)  # BUG: statistics-from-test-set
