"""Caches as dicts; the sequence keeps one per step in a dict keyed by time."""
import numpy as np

BUG = ("rnn_backward", "grads[\"dWh\"] += step[3]", "grads[\"dWh\"] = step[3]")


def rnn_forward(x, h0, Wx, Wh, b):
    caches, out, h = {}, [], h0
    for t in range(x.shape[1]):
        h, caches[t] = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        out.append(h)
    return np.stack(out, 1), {"steps": caches, "D": x.shape[2]}


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    grads = {"dWx": np.zeros((cache["D"], H)), "dWh": np.zeros((H, H)), "db": np.zeros(H)}
    dx = np.zeros((N, T, cache["D"]))
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        step = rnn_step_backward(dh[:, t] + carry, cache["steps"][t])
        dx[:, t], carry = step[0], step[1]
        grads["dWx"] += step[2]
        grads["dWh"] += step[3]
        grads["db"] += step[4]
    return dx, carry, grads["dWx"], grads["dWh"], grads["db"]
