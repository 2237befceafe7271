"""A small RNN object kept in the cache: the sequence functions delegate to it."""
import numpy as np

BUG = ("rnn_backward", "return dx, dh_t, dWx, dWh, db", "return dx, dh_t * 0, dWx, dWh, db")


class _Unrolled:
    def __init__(self, Wx, Wh, b):
        self.Wx, self.Wh, self.b, self.inputs, self.states = Wx, Wh, b, [], []

    def run(self, x, h0):
        h = h0
        for t in range(x.shape[1]):
            self.inputs.append((x[:, t], h))
            h = np.tanh(x[:, t] @ self.Wx + h @ self.Wh + self.b)
            self.states.append(h)
        return np.stack(self.states, axis=1)


def rnn_forward(x, h0, Wx, Wh, b):
    layer = _Unrolled(Wx, Wh, b)
    return layer.run(x, h0), layer


def rnn_backward(dh, cache):
    dWx, dWh, db = np.zeros_like(cache.Wx), np.zeros_like(cache.Wh), np.zeros_like(cache.b)
    dx = np.zeros(dh.shape[:2] + (cache.Wx.shape[0],))
    dh_t = np.zeros_like(dh[:, 0])
    for t in reversed(range(dh.shape[1])):
        (x_t, h_prev), h = cache.inputs[t], cache.states[t]
        da = (dh[:, t] + dh_t) * (1 - h**2)
        dx[:, t], dh_t = da @ cache.Wx.T, da @ cache.Wh.T
        dWx, dWh, db = dWx + x_t.T @ da, dWh + h_prev.T @ da, db + da.sum(0)
    return dx, dh_t, dWx, dWh, db
