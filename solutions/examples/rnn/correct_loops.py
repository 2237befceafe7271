"""Assignment 8, written one example and one unit at a time."""

import math

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    N, D = x.shape
    H = Wh.shape[0]
    h_next = np.zeros((N, H))
    for n in range(N):
        for j in range(H):
            a = b[j]
            for d in range(D):
                a += x[n, d] * Wx[d, j]
            for k in range(H):
                a += h_prev[n, k] * Wh[k, j]
            h_next[n, j] = math.tanh(a)
    return h_next, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h_next": h_next}


def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = (cache[k] for k in ("x", "h_prev", "Wx", "Wh", "h_next"))
    N, D = x.shape
    H = Wh.shape[0]
    dx, dh_prev = np.zeros((N, D)), np.zeros((N, H))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    for n in range(N):
        for j in range(H):
            da = dh_next[n, j] * (1 - h_next[n, j] ** 2)
            db[j] += da
            for d in range(D):
                dx[n, d] += da * Wx[d, j]
                dWx[d, j] += x[n, d] * da
            for k in range(H):
                dh_prev[n, k] += da * Wh[k, j]
                dWh[k, j] += h_prev[n, k] * da
    return dx, dh_prev, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    states, caches = [], []
    h = h0
    for t in range(x.shape[1]):
        h, c = rnn_step_forward(x[:, t, :], h, Wx, Wh, b)
        states.append(h)
        caches.append(c)
    return np.stack(states, axis=1), caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0]["x"].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    carried = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx[:, t], carried, gx, gh, gb = rnn_step_backward(dh[:, t] + carried, cache[t])
        dWx, dWh, db = dWx + gx, dWh + gh, db + gb
    return dx, carried, dWx, dWh, db


def temporal_softmax_loss(h, W_out, b_out, y):
    N, T, H = h.shape
    C = W_out.shape[1]
    loss = 0.0
    dh, dW_out, db_out = np.zeros_like(h), np.zeros((H, C)), np.zeros(C)
    for n in range(N):
        for t in range(T):
            s = h[n, t] @ W_out + b_out
            top = max(s)
            e = [math.exp(v - top) for v in s]
            total = sum(e)
            # log softmax = s - top - log(total): no log of an underflowed probability.
            loss -= s[y[n, t]] - top - math.log(total)
            ds = np.array(e) / total
            ds[y[n, t]] -= 1
            ds /= N * T
            dh[n, t] = W_out @ ds
            dW_out += np.outer(h[n, t], ds)
            db_out += ds
    return loss / (N * T), dh, dW_out, db_out


def clip_gradients(grads, max_norm):
    total = 0.0
    for g in grads.values():
        for v in np.ravel(g):
            total += v * v
    norm = math.sqrt(total)
    out = {}
    for name, g in grads.items():
        out[name] = g * (max_norm / norm) if norm > max_norm else g.copy()
    return out
