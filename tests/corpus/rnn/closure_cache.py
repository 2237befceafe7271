"""The step's cache is a closure that computes the gradients (the local
derivative 1 - h^2 baked in when the forward runs)."""
import numpy as np

BUG = ("rnn_step_backward", "return cache(dh_next)", "return cache(dh_next * 0.5)")


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = np.tanh(x @ Wx + h_prev @ Wh + b)
    slope = 1 - h * h

    def backward(dh):
        da = dh * slope
        return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(0)

    return h, backward


def rnn_step_backward(dh_next, cache):
    return cache(dh_next)
