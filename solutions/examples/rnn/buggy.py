"""Assignment 8, a plausible first attempt with some classic mistakes."""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    return np.tanh(a), (x, h_prev, Wx, Wh, a)


def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, a = cache
    da = dh_next * (1 - a**2)  # BUG: tanh-derivative-at-wrong-point
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    h, caches, state = [], [], h0
    for t in range(x.shape[1]):
        state, c = rnn_step_forward(x[:, t], state, Wx, Wh, b)
        h.append(state)
        caches.append(c)
    return np.stack(h, axis=1), caches


def rnn_backward(dh, cache):
    T = dh.shape[1]
    dx = [None] * T
    dWx = dWh = db = dprev = 0
    for t in reversed(range(T)):
        dx[t], dprev, gWx, gWh, gb = rnn_step_backward(dh[:, t] + dprev, cache[t])
        dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
    return np.stack(dx, axis=1), np.zeros_like(dprev), dWx, dWh, db  # BUG: initial-state-gradient-dropped


def temporal_softmax_loss(h, W_out, b_out, y):
    N, T, H = h.shape
    s = (h.reshape(-1, H) @ W_out + b_out)
    s -= s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    rows = np.arange(N * T)
    loss = -log_p[rows, y.ravel()].mean()
    p = np.exp(log_p)
    p[rows, y.ravel()] -= 1
    p /= N * T
    return loss, (p @ W_out.T).reshape(h.shape), h.reshape(-1, H).T @ p, p.sum(axis=0)


def clip_gradients(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}  # BUG: clipping-per-element
