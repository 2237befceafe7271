"""float32 throughout: inputs and parameters cast to float32, float32
constants, a tanh-based sigmoid, float32 training."""
import numpy as np

BUG = ("mlp_loss", "shifted = s - s.max(axis=1, keepdims=True)", "shifted = s")

f32 = np.float32


def _as32(params):
    return {k: np.asarray(params[k], dtype=f32) for k in ("W", "b1", "U", "b2")}


def mlp_forward(x, params, activation):
    p = _as32(params)
    x = np.asarray(x, dtype=f32)
    pre = x @ p["W"] + p["b1"]
    hid = pre * (pre > 0) if activation == "relu" else f32(0.5) * (f32(1) + np.tanh(f32(0.5) * pre))
    return hid @ p["U"] + p["b2"], (x, pre, hid, p, activation)


def mlp_backward(dscores, cache):
    x, pre, hid, p, activation = cache
    d = np.asarray(dscores, dtype=f32)
    dhid = d @ p["U"].T
    dpre = dhid * (pre > 0) if activation == "relu" else dhid * hid * (f32(1) - hid)
    return {"W": x.T @ dpre, "b1": dpre.sum(axis=0), "U": hid.T @ d, "b2": d.sum(axis=0), "x": dpre @ p["W"].T}


def mlp_loss(x, y, params, activation, loss):
    s, cache = mlp_forward(x, params, activation)
    if loss == "mse":
        diff = s - np.asarray(y, dtype=f32)
        return float(np.mean(diff * diff)), mlp_backward(f32(2) * diff / f32(diff.size), cache)
    n = s.shape[0]
    shifted = s - s.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    picked = log_probs[np.arange(n), y]
    ds = np.exp(log_probs)
    ds[np.arange(n), y] -= f32(1)
    return float(-picked.mean()), mlp_backward(ds / f32(n), cache)


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    gen = np.random.default_rng(seed)
    x = x.astype(f32)
    d, k = x.shape[1], int(y.max()) + 1
    p = {"W": gen.normal(0.0, 1.0 / np.sqrt(d), (d, hidden)).astype(f32), "b1": np.zeros(hidden, f32),
         "U": gen.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, k)).astype(f32), "b2": np.zeros(k, f32)}
    step = f32(lr)
    for _epoch in range(epochs):
        perm = gen.permutation(len(x))
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            _, g = mlp_loss(x[idx], y[idx], p, activation, "cross_entropy")
            p = {name: value - step * g[name] for name, value in p.items()}
    return p


def predict(x, params, activation):
    s, _ = mlp_forward(x, params, activation)
    return np.argmax(s, 1)
