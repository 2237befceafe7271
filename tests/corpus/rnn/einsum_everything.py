"""The step and its backward with einsum, the shapes spelled out in the subscripts."""
import numpy as np

BUG = ("rnn_step_backward", "np.einsum(\"nk,nh->kh\", h_prev, da)", "np.einsum(\"nk,nh->kh\", h_prev, dh_next)")


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = np.tanh(np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh_next * (1 - h * h)
    return (np.einsum("nh,dh->nd", da, Wx), np.einsum("nh,kh->nk", da, Wh), np.einsum("nd,nh->dh", x, da),
            np.einsum("nk,nh->kh", h_prev, da), np.einsum("nh->h", da))
