"""The loss one time step at a time, each step's mean weighted by 1 / T."""
import numpy as np

BUG = ("temporal_softmax_loss", "db_out += ds.sum(0)", "db_out += ds.sum(0) * 2")


def temporal_softmax_loss(h, W_out, b_out, y):
    N, T, _ = h.shape
    loss, dh = 0.0, np.zeros_like(h)
    dW_out, db_out = np.zeros_like(W_out), np.zeros_like(b_out)
    for t in range(T):
        s = h[:, t] @ W_out + b_out
        s = s - s.max(1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
        loss += -np.mean(s[np.arange(N), y[:, t]] - np.log(np.exp(s).sum(1))) / T
        ds = p.copy()
        ds[np.arange(N), y[:, t]] -= 1
        ds /= N * T
        dh[:, t] = ds @ W_out.T
        dW_out += h[:, t].T @ ds
        db_out += ds.sum(0)
    return loss, dh, dW_out, db_out
