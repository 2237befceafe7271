"""A correct submission written with explicit Python loops: one example at a
time, the batch gradients accumulated example by example, the softmax with
the math module, weights drawn row by row, statistics feature by feature."""

import math

import numpy as np


def _sigmoid(v):
    # math.exp raises OverflowError past ~709: only ever exponentiate -|v|
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def mlp_forward(x, params, activation):
    W, b1, U, b2 = params["W"], params["b1"], params["U"], params["b2"]
    n = x.shape[0]
    hidden, classes = W.shape[1], U.shape[1]
    z = np.zeros((n, hidden))
    h = np.zeros((n, hidden))
    scores = np.zeros((n, classes))
    for i in range(n):
        z[i] = np.dot(x[i], W) + b1
        for j in range(hidden):
            if activation == "sigmoid":
                h[i, j] = _sigmoid(z[i, j])
            else:
                h[i, j] = z[i, j] if z[i, j] > 0 else 0.0
        scores[i] = np.dot(h[i], U) + b2
    return scores, {"x": x, "z": z, "h": h, "params": params, "activation": activation}


def mlp_backward(dscores, cache):
    x, z, h = cache["x"], cache["z"], cache["h"]
    W, U = cache["params"]["W"], cache["params"]["U"]
    grads = {"W": np.zeros(W.shape), "b1": np.zeros(W.shape[1]), "U": np.zeros(U.shape),
             "b2": np.zeros(U.shape[1]), "x": np.zeros(x.shape)}
    for i in range(x.shape[0]):
        grads["U"] += np.outer(h[i], dscores[i])
        grads["b2"] += dscores[i]
        dh = np.dot(U, dscores[i])
        if cache["activation"] == "sigmoid":
            dz = dh * h[i] * (1.0 - h[i])
        else:
            dz = np.array([dh[j] if z[i, j] > 0 else 0.0 for j in range(len(dh))])
        grads["W"] += np.outer(x[i], dz)
        grads["b1"] += dz
        grads["x"][i] = np.dot(W, dz)
    return grads


def mlp_loss(x, y, params, activation, loss):
    scores, cache = mlp_forward(x, params, activation)
    n, c = scores.shape
    dscores = np.zeros((n, c))
    total = 0.0
    if loss == "mse":
        for i in range(n):
            for k in range(c):
                diff = scores[i, k] - y[i, k]
                total += diff * diff
                dscores[i, k] = 2.0 * diff / (n * c)
        value = total / (n * c)
    else:
        for i in range(n):
            top = max(scores[i])
            exps = [math.exp(s - top) for s in scores[i]]
            norm = sum(exps)
            total += math.log(norm) - (scores[i, y[i]] - top)
            for k in range(c):
                dscores[i, k] = (exps[k] / norm - (1.0 if k == y[i] else 0.0)) / n
        value = total / n
    return value, mlp_backward(dscores, cache)


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    n, d = x.shape
    c = int(max(y)) + 1
    params = {
        "W": rng.standard_normal((d, hidden)) * (1.0 / math.sqrt(d)),
        "b1": np.zeros(hidden),
        "U": rng.standard_normal((hidden, c)) * (1.0 / math.sqrt(hidden)),
        "b2": np.zeros(c),
    }
    for epoch in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        start = 0
        while start < n:
            batch = order[start:start + batch_size]
            _, grads = mlp_loss(x[batch], y[batch], params, activation, "cross_entropy")
            for key in params:
                params[key] -= lr * grads[key]
            start += batch_size
    return params


def predict(x, params, activation):
    scores, _ = mlp_forward(x, params, activation)
    labels = np.zeros(len(scores), dtype=np.int64)
    for i in range(len(scores)):
        best = 0
        for k in range(1, scores.shape[1]):
            if scores[i, k] > scores[i, best]:
                best = k
        labels[i] = best
    return labels


def fan_in_and_out(shape):
    if len(shape) == 2:
        return shape[0], shape[1]
    kernel = 1
    for size in shape[2:]:
        kernel *= size
    return shape[1] * kernel, shape[0] * kernel


def _fill(shape, draw):
    """An array of ``shape`` filled one row at a time by ``draw(row_shape)``."""
    weights = np.zeros(shape)
    for i in range(shape[0]):
        weights[i] = draw(shape[1:])
    return weights


def xavier_uniform(shape, rng, gain=1.0):
    fan_in, fan_out = fan_in_and_out(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(shape, lambda row: a * (2.0 * rng.random(row) - 1.0))


def xavier_normal(shape, rng, gain=1.0):
    fan_in, fan_out = fan_in_and_out(shape)
    sigma = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(shape, lambda row: sigma * rng.standard_normal(row))


def he_uniform(shape, rng):
    b = math.sqrt(6.0 / fan_in_and_out(shape)[0])
    return _fill(shape, lambda row: rng.uniform(-b, b, row))


def he_normal(shape, rng):
    sigma = math.sqrt(2.0 / fan_in_and_out(shape)[0])
    return _fill(shape, lambda row: rng.normal(0.0, sigma, row))


def standardize(x_train, x_test):
    n, d = x_train.shape
    train, test = np.zeros(x_train.shape), np.zeros(x_test.shape)
    for j in range(d):
        mu = sum(x_train[i, j] for i in range(n)) / n
        s = math.sqrt(sum((x_train[i, j] - mu) ** 2 for i in range(n)) / n)
        for i in range(n):
            train[i, j] = (x_train[i, j] - mu) / s
        for i in range(len(x_test)):
            test[i, j] = (x_test[i, j] - mu) / s
    return train, test
