"""Pooling by loops over the window offsets (k, l) only, vectorised over
every window: a running maximum with the offset where it was first reached,
and a running sum for the average."""
import numpy as np

BUG = ("max_pool_forward", "best = np.full((N, C, Ho, Wo), -np.inf)", "best = np.zeros((N, C, Ho, Wo))")


def _grid(k, l, Ho, Wo, stride):
    return (slice(None), slice(None), slice(k, k + (Ho - 1) * stride + 1, stride),
            slice(l, l + (Wo - 1) * stride + 1, stride))


def max_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool_height) // stride + 1, (W - pool_width) // stride + 1
    best = np.full((N, C, Ho, Wo), -np.inf)
    where = np.zeros((N, C, Ho, Wo), dtype=int)
    for k in range(pool_height):
        for l in range(pool_width):
            cand = x[_grid(k, l, Ho, Wo, stride)]
            better = cand > best
            best = np.where(better, cand, best)
            where[better] = k * pool_width + l
    return best, (x.shape, pool_height, pool_width, stride, where)


def max_pool_backward(dout, cache):
    shape, ph, pw, stride, where = cache
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(shape)
    for k in range(ph):
        for l in range(pw):
            dx[_grid(k, l, Ho, Wo, stride)] += np.where(where == k * pw + l, dout, 0.0)
    return dx


def avg_pool_forward(x, pool_height, pool_width, stride):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool_height) // stride + 1, (W - pool_width) // stride + 1
    total = np.zeros((N, C, Ho, Wo))
    for k in range(pool_height):
        for l in range(pool_width):
            total += x[_grid(k, l, Ho, Wo, stride)]
    return total / (pool_height * pool_width), (x.shape, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    shape, ph, pw, stride = cache
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(shape)
    for k in range(ph):
        for l in range(pw):
            dx[_grid(k, l, Ho, Wo, stride)] += dout / (ph * pw)
    return dx
