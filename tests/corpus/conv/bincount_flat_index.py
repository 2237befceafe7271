"""Pooling on sliding_window_view windows; backward computes the flat index
into x of every pixel that gets gradient and sums with np.bincount(weights=...)."""
import numpy as np

BUG = ("max_pool_backward", "weights=dout.ravel(), minlength=int(np.prod(shape))", "weights=dout.ravel()")


def _views(x, ph, pw, stride):
    return np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]


def _flat_index(shape, stride, Ho, Wo, k, l):
    """Flat index into an array of ``shape`` of pixel (k, l) of window (i, j) (k, l broadcast to ... x Ho x Wo)."""
    N, C, H, W = shape
    r = np.arange(Ho).reshape(-1, 1) * stride + k
    c = np.arange(Wo).reshape(1, -1) * stride + l
    plane = np.arange(N * C).reshape(N, C, 1, 1) * (H * W)
    return plane + r * W + c


def max_pool_forward(x, pool_height, pool_width, stride):
    v = _views(x, pool_height, pool_width, stride)
    flat = v.reshape(*v.shape[:4], pool_height * pool_width)
    first = flat.argmax(axis=-1)
    return flat.max(axis=-1), (x.shape, pool_width, stride, first)


def max_pool_backward(dout, cache):
    shape, pw, stride, first = cache
    k, l = first // pw, first % pw
    where = _flat_index(shape, stride, dout.shape[2], dout.shape[3], k, l)
    dx = np.bincount(where.ravel(), weights=dout.ravel(), minlength=int(np.prod(shape)))
    return dx.reshape(shape)


def avg_pool_forward(x, pool_height, pool_width, stride):
    return _views(x, pool_height, pool_width, stride).mean(axis=(-2, -1)), (x.shape, pool_height, pool_width, stride)


def avg_pool_backward(dout, cache):
    shape, ph, pw, stride = cache
    Ho, Wo = dout.shape[2:]
    size = int(np.prod(shape))
    dx = np.zeros(size)
    for k in range(ph):
        for l in range(pw):
            where = _flat_index(shape, stride, Ho, Wo, k, l)
            dx += np.bincount(where.ravel(), weights=dout.ravel() / (ph * pw), minlength=size)
    return dx.reshape(shape)
