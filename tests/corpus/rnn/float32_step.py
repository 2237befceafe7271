"""The step in float32 (a GPU habit), the rest in whatever dtype comes back."""
import numpy as np

BUG = ("rnn_step_backward", "(1 - h.astype(np.float32) ** 2)", "(1 - h.astype(np.float32))")


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    f = np.float32
    h = np.tanh(x.astype(f) @ Wx.astype(f) + h_prev.astype(f) @ Wh.astype(f) + b.astype(f))
    return h, (x.astype(f), h_prev.astype(f), Wx.astype(f), Wh.astype(f), h)


def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh_next.astype(np.float32) * (1 - h.astype(np.float32) ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
