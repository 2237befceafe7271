"""The loss with a log-sum-exp written out, on (N, T, C) scores without reshaping."""
import numpy as np

BUG = ("temporal_softmax_loss", "ds /= N * T", "ds /= N")


def temporal_softmax_loss(h, W_out, b_out, y):
    N, T, _ = h.shape
    scores = np.matmul(h, W_out) + b_out
    m = scores.max(axis=2, keepdims=True)
    lse = m + np.log(np.sum(np.exp(scores - m), axis=2, keepdims=True))
    n, t = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = np.mean(lse[..., 0] - scores[n, t, y])
    ds = np.exp(scores - lse)
    ds[n, t, y] -= 1
    ds /= N * T
    dW_out = np.tensordot(h, ds, axes=([0, 1], [0, 1]))
    return loss, ds @ W_out.T, dW_out, ds.sum(axis=(0, 1))
