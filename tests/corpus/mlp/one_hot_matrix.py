"""Labels as a one-hot matrix (np.eye(C)[y]): the cross-entropy is
-sum(Y * log P) / N and its gradient (P - Y) / N; training splits a
permutation with np.array_split at multiples of the batch size."""
import numpy as np

BUG = ("mlp_loss", "return value, (scores - targets) * 2 / scores.size", "return value, (scores - targets) * 2 / len(scores)")


def _softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(scores):
    m = scores.max(axis=1, keepdims=True)
    return scores - m - np.log(np.exp(scores - m).sum(axis=1, keepdims=True))


def _cross_entropy(scores, labels):
    Y = np.eye(scores.shape[1])[labels]
    return -np.sum(Y * _log_softmax(scores)) / len(scores), (_softmax(scores) - Y) / len(scores)


def _mse(scores, targets):
    value = np.sum((scores - targets) ** 2) / scores.size
    return value, (scores - targets) * 2 / scores.size


def mlp_loss(x, y, params, activation, loss):
    out, cache = mlp_forward(x, params, activation)
    value, dout = (_mse if loss == "mse" else _cross_entropy)(out, y)
    return float(value), mlp_backward(dout, cache)


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    rng = np.random.default_rng(seed=seed)
    n_in, n_out = x.shape[1], y.max() + 1
    W = rng.normal(size=(n_in, hidden)) / np.sqrt(n_in)
    U = rng.normal(size=(hidden, n_out)) / np.sqrt(hidden)
    params = {"W": W, "b1": np.zeros(hidden), "U": U, "b2": np.zeros(n_out)}
    for epoch in range(epochs):
        for batch in np.array_split(rng.permutation(len(x)), np.arange(batch_size, len(x), batch_size)):
            grads = mlp_loss(x[batch], y[batch], params, activation, "cross_entropy")[1]
            params = {k: v - lr * grads[k] for k, v in params.items()}
    return params


def predict(x, params, activation):
    logits = mlp_forward(x, params, activation)[0]
    return np.argmax(_softmax(logits), axis=1)
