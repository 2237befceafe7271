"""np.einsum for every product and every sum over the batch, the true-class
log-probabilities by np.take_along_axis."""
import numpy as np

BUG = ("mlp_backward", '"x": np.einsum("nh,dh->nd", dz, W)', '"x": np.einsum("nh,hd->nd", dz, W)')


def _sigmoid(z):
    return np.exp(np.minimum(z, 0)) / (1 + np.exp(-np.abs(z)))


def mlp_forward(x, params, activation):
    z = np.einsum("nd,dh->nh", x, params["W"]) + params["b1"]
    h = np.clip(z, 0, None) if activation == "relu" else _sigmoid(z)
    out = np.einsum("nh,hc->nc", h, params["U"]) + params["b2"]
    return out, {"x": x, "z": z, "h": h, "W": params["W"], "U": params["U"], "act": activation}


def mlp_backward(dscores, cache):
    x, z, h, W, U = (cache[k] for k in ("x", "z", "h", "W", "U"))
    dh = np.einsum("nc,hc->nh", dscores, U)
    dz = dh * np.heaviside(z, 0) if cache["act"] == "relu" else np.einsum("nh,nh->nh", dh, h * (1 - h))
    return {"W": np.einsum("nd,nh->dh", x, dz), "b1": np.einsum("nh->h", dz),
            "U": np.einsum("nh,nc->hc", h, dscores), "b2": np.einsum("nc->c", dscores),
            "x": np.einsum("nh,dh->nd", dz, W)}


def mlp_loss(x, y, params, activation, loss):
    out, cache = mlp_forward(x, params, activation)
    n = out.shape[0]
    if loss == "mse":
        r = out - y
        return float(np.einsum("nc,nc->", r, r) / r.size), mlp_backward(2 * r / r.size, cache)
    m = out.max(axis=1, keepdims=True)
    logp = out - m - np.log(np.einsum("nc->n", np.exp(out - m)))[:, None]
    value = -np.take_along_axis(logp, y[:, None], axis=1).sum() / n
    grad = np.exp(logp)
    np.put_along_axis(grad, y[:, None], np.take_along_axis(grad, y[:, None], axis=1) - 1, axis=1)
    return float(value), mlp_backward(grad / n, cache)


def predict(x, params, activation):
    return np.einsum("nc->nc", mlp_forward(x, params, activation)[0]).argmax(axis=1)
