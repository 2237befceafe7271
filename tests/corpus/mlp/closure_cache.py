"""The cache is a closure: the forward pass returns the function that runs
its own backward pass; training keeps the parameters in a closure too."""
import numpy as np

BUG = ("mlp_backward", "b1=dz.sum(axis=0)", "b1=dh.sum(axis=0)")


def mlp_forward(x, params, activation):
    W, b1, U, b2 = (params[k] for k in ("W", "b1", "U", "b2"))
    a = x @ W + b1
    if activation == "relu":
        h = np.maximum(a, 0)
        local = lambda: a > 0
    else:
        t = np.exp(-np.abs(a))
        h = np.where(a >= 0, 1 / (1 + t), t / (1 + t))
        local = lambda: h - h * h

    def backward(dscores):
        dh = dscores.dot(U.T)
        dz = dh * local()
        return dict(W=x.T @ dz, b1=dz.sum(axis=0), U=h.T @ dscores, b2=dscores.sum(axis=0), x=dz @ W.T)

    return h @ U + b2, backward


def mlp_backward(dscores, cache):
    return cache(dscores)


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    rng = np.random.default_rng(seed=seed)
    n, d = len(x), x.shape[1]
    classes = int(y.max()) + 1

    def make_model():
        p = {"W": rng.normal(0.0, d ** -0.5, (d, hidden)), "b1": np.zeros(hidden),
             "U": rng.normal(0.0, hidden ** -0.5, (hidden, classes)), "b2": np.zeros(classes)}

        def step(rows):
            _, g = mlp_loss(x[rows], y[rows], p, activation, "cross_entropy")
            p.update({k: p[k] - lr * g[k] for k in p})

        return p, step

    params, step = make_model()
    for _epoch in range(epochs):
        shuffled = rng.permutation(n)
        for lo in range(0, n, batch_size):
            step(shuffled[lo:lo + batch_size])
    return params
