"""Layers as dicts: the forward pass walks a list of layer dicts, storing
each one's input, pre-activation and output in it; the backward pass walks
the same list in reverse. log-sum-exp by np.logaddexp.reduce."""
import numpy as np

BUG = ("mlp_forward", '{"w": "U", "b": "b2", "act": None}', '{"w": "U", "b": "b2", "act": activation}')


def _apply(z, kind):
    if kind == "relu":
        return np.where(z > 0, z, 0.0)
    if kind == "sigmoid":
        return np.exp(-np.logaddexp(0.0, -z))
    return z


def _slope(layer):
    if layer["act"] == "relu":
        return (layer["z"] > 0).astype(float)
    if layer["act"] == "sigmoid":
        return layer["a"] * (1 - layer["a"])
    return 1.0


def mlp_forward(x, params, activation):
    layers = [{"w": "W", "b": "b1", "act": activation}, {"w": "U", "b": "b2", "act": None}]
    a = x
    for layer in layers:
        layer["in"] = a
        layer["z"] = a @ params[layer["w"]] + params[layer["b"]]
        layer["a"] = a = _apply(layer["z"], layer["act"])
        layer["weight"] = params[layer["w"]]
    return a, layers


def mlp_backward(dscores, cache):
    grads, delta = {}, dscores
    for layer in reversed(cache):
        layer["dz"] = delta * _slope(layer)
        grads[layer["w"]] = layer["in"].T @ layer["dz"]
        grads[layer["b"]] = layer["dz"].sum(axis=0)
        delta = layer["dz"] @ layer["weight"].T
    grads["x"] = delta
    return grads


def mlp_loss(x, y, params, activation, loss):
    out, layers = mlp_forward(x, params, activation)
    if loss == "mse":
        r = out - y
        return float(np.mean(r * r)), mlp_backward(2 * r / r.size, layers)
    rows = np.arange(len(out))
    logp = out - np.logaddexp.reduce(out, axis=1, keepdims=True)
    dout = np.exp(logp)
    dout[rows, y] -= 1
    return float(-logp[rows, y].mean()), mlp_backward(dout / len(out), layers)


def predict(x, params, activation):
    return np.asarray(mlp_forward(x, params, activation)[0]).argmax(axis=-1)
