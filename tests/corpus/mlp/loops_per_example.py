"""One example at a time: the forward pass loops over the rows of the batch,
the backward pass accumulates each example's outer products into the
gradients, the loss loops too."""
import math

import numpy as np

BUG = ("mlp_loss", "dscores[i] = (p - (classes == y[i])) / n", "dscores[i] = p - (classes == y[i])")


def _sigmoid(v):
    return np.array([1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t)) for t in v])


def mlp_forward(x, params, activation):
    W, U = params["W"], params["U"]
    rows, per_example = [], []
    for xi in x:
        zi = xi @ W + params["b1"]
        hi = np.maximum(zi, 0) if activation == "relu" else _sigmoid(zi)
        rows.append(hi @ U + params["b2"])
        per_example.append((xi, zi, hi))
    return np.array(rows), (per_example, W, U, activation)


def mlp_backward(dscores, cache):
    per_example, W, U, activation = cache
    g = {"W": np.zeros(W.shape), "b1": np.zeros(W.shape[1]), "U": np.zeros(U.shape), "b2": np.zeros(U.shape[1])}
    dx = []
    for (xi, zi, hi), di in zip(per_example, dscores):
        g["U"] += np.outer(hi, di)
        g["b2"] += di
        dhi = U @ di
        dzi = dhi * (zi > 0) if activation == "relu" else dhi * hi * (1 - hi)
        g["W"] += np.outer(xi, dzi)
        g["b1"] += dzi
        dx.append(W @ dzi)
    g["x"] = np.array(dx)
    return g


def mlp_loss(x, y, params, activation, loss):
    out, cache = mlp_forward(x, params, activation)
    n, c = out.shape
    classes = np.arange(c)
    total, dscores = 0.0, np.zeros(out.shape)
    for i in range(n):
        if loss == "mse":
            r = out[i] - y[i]
            total += np.dot(r, r) / (n * c)
            dscores[i] = 2 * r / (n * c)
        else:
            top = out[i].max()
            log_z = top + math.log(np.exp(out[i] - top).sum())
            p = np.exp(out[i] - log_z)
            total += (log_z - out[i][y[i]]) / n
            dscores[i] = (p - (classes == y[i])) / n
    return float(total), mlp_backward(dscores, cache)
