"""Assignment 8, computing in float32 throughout, with einsum."""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    x, h_prev, Wx, Wh, b = (np.asarray(a, dtype=np.float32) for a in (x, h_prev, Wx, Wh, b))
    h_next = np.tanh(np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b)
    return h_next, (x, h_prev, Wx, Wh, h_next)


def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next.astype(np.float32) * (1 - h_next * h_next)
    return (np.einsum("nh,dh->nd", da, Wx), np.einsum("nh,kh->nk", da, Wh),
            np.einsum("nd,nh->dh", x, da), np.einsum("nk,nh->kh", h_prev, da), da.sum(0))


def rnn_forward(x, h0, Wx, Wh, b):
    h = np.empty(x.shape[:2] + (Wh.shape[1],), dtype=np.float32)
    caches = []
    state = h0
    for t in range(x.shape[1]):
        state, c = rnn_step_forward(x[:, t], state, Wx, Wh, b)
        h[:, t] = state
        caches.append(c)
    return h, caches


def rnn_backward(dh, cache):
    grads = None
    dx = []
    back = 0
    for t in reversed(range(dh.shape[1])):
        g_x, back, *g_w = rnn_step_backward(dh[:, t] + back, cache[t])
        dx.append(g_x)
        grads = g_w if grads is None else [a + c for a, c in zip(grads, g_w)]
    return (np.stack(dx[::-1], axis=1), back, *grads)


def temporal_softmax_loss(h, W_out, b_out, y):
    h, W_out, b_out = (np.asarray(a, dtype=np.float32) for a in (h, W_out, b_out))
    N, T, _ = h.shape
    s = np.einsum("nth,hc->ntc", h, W_out) + b_out
    s = s - s.max(-1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(-1, keepdims=True))
    loss = -np.take_along_axis(log_p, y[..., None], -1).mean()
    p = np.exp(log_p)
    ds = p.copy()
    np.put_along_axis(ds, y[..., None], np.take_along_axis(ds, y[..., None], -1) - 1, -1)
    ds /= N * T
    return float(loss), np.einsum("ntc,hc->nth", ds, W_out), np.einsum("nth,ntc->hc", h, ds), ds.sum((0, 1))


def clip_gradients(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([np.ravel(g).astype(np.float32) for g in grads.values()]))
    factor = np.float32(min(1.0, max_norm / norm)) if norm else np.float32(1.0)
    return {k: (g * factor).astype(np.float32) for k, g in grads.items()}
