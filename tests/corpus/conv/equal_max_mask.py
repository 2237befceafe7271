"""CS231n's "fast-ish" pooling: a loop over output positions, vectorised over
the batch and channels; max-pool backward builds the mask window == max and
keeps only its first True (np.cumsum) so that a tie sends the gradient once."""
import numpy as np

BUG = ("max_pool_backward", "            mask &= np.cumsum(mask, axis=2) == 1\n", "")


def max_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool_height) // stride + 1, (W - pool_width) // stride + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            r, s = i * stride, j * stride
            out[:, :, i, j] = x[:, :, r:r + pool_height, s:s + pool_width].max(axis=(2, 3))
    return out, (x, pool_height, pool_width, stride)


def max_pool_backward(dout, cache):
    x, ph, pw, stride = cache
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            r, s = i * stride, j * stride
            win = x[:, :, r:r + ph, s:s + pw].reshape(N, C, -1)
            mask = win == win.max(axis=2, keepdims=True)
            mask &= np.cumsum(mask, axis=2) == 1
            dx[:, :, r:r + ph, s:s + pw] += (mask * dout[:, :, i, j, None]).reshape(N, C, ph, pw)
    return dx


def avg_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool_height) // stride + 1, (W - pool_width) // stride + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            r, s = i * stride, j * stride
            out[:, :, i, j] = np.mean(x[:, :, r:r + pool_height, s:s + pool_width], axis=(2, 3))
    return out, (x, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    x, ph, pw, stride = cache
    Ho, Wo = dout.shape[2:]
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            r, s = i * stride, j * stride
            dx[:, :, r:r + ph, s:s + pw] += dout[:, :, i, j, None, None] / (ph * pw)
    return dx
