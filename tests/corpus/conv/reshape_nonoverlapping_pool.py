"""The reshape trick for non-overlapping pooling (stride equal to the window:
crop, reshape to (N, C, Ho, ph, Wo, pw), reduce axes 3 and 5; np.repeat in
backward), with a per-window loop as the fallback for every other stride."""
import numpy as np

BUG = ("avg_pool_backward", "np.repeat(np.repeat(dout, ph, axis=2), pw, axis=3) / (ph * pw)",
       "np.repeat(np.repeat(dout, ph, axis=2), pw, axis=3)")


def _tiles(x, ph, pw):
    N, C, H, W = x.shape
    Ho, Wo = H // ph, W // pw
    return x[:, :, :Ho * ph, :Wo * pw].reshape(N, C, Ho, ph, Wo, pw)


def _starts(n_out, stride):
    return [i * stride for i in range(n_out)]


def max_pool_forward(x, pool_height, pool_width, stride):
    ph, pw = pool_height, pool_width
    if stride == ph == pw:
        return _tiles(x, ph, pw).max(axis=(3, 5)), (x, ph, pw, stride)
    Ho, Wo = (x.shape[2] - ph) // stride + 1, (x.shape[3] - pw) // stride + 1
    out = np.zeros(x.shape[:2] + (Ho, Wo))
    for i, r in enumerate(_starts(Ho, stride)):
        for j, s in enumerate(_starts(Wo, stride)):
            out[:, :, i, j] = x[:, :, r:r + ph, s:s + pw].max(axis=(2, 3))
    return out, (x, ph, pw, stride)


def max_pool_backward(dout, cache):
    x, ph, pw, stride = cache
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    if stride == ph == pw:
        tiles = _tiles(x, ph, pw).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho, Wo, ph * pw)
        onehot = tiles.argmax(axis=-1)[..., None] == np.arange(ph * pw)
        grads = (onehot * dout[..., None]).reshape(N, C, Ho, Wo, ph, pw).transpose(0, 1, 2, 4, 3, 5)
        dx[:, :, :Ho * ph, :Wo * pw] = grads.reshape(N, C, Ho * ph, Wo * pw)
        return dx
    for i, r in enumerate(_starts(Ho, stride)):
        for j, s in enumerate(_starts(Wo, stride)):
            flat = x[:, :, r:r + ph, s:s + pw].reshape(N, C, -1)
            k, l = np.divmod(flat.argmax(axis=-1), pw)
            n, c = np.indices((N, C))
            dx[n, c, r + k, s + l] += dout[:, :, i, j]
    return dx


def avg_pool_forward(x, pool_height, pool_width, stride):
    ph, pw = pool_height, pool_width
    if stride == ph == pw:
        return _tiles(x, ph, pw).mean(axis=(3, 5)), (x.shape, ph, pw, stride)
    Ho, Wo = (x.shape[2] - ph) // stride + 1, (x.shape[3] - pw) // stride + 1
    out = np.zeros(x.shape[:2] + (Ho, Wo))
    for i, r in enumerate(_starts(Ho, stride)):
        for j, s in enumerate(_starts(Wo, stride)):
            out[:, :, i, j] = x[:, :, r:r + ph, s:s + pw].mean(axis=(2, 3))
    return out, (x.shape, ph, pw, stride)


def avg_pool_backward(dout, cache):
    shape, ph, pw, stride = cache
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(shape)
    if stride == ph == pw:
        dx[:, :, :Ho * ph, :Wo * pw] = np.repeat(np.repeat(dout, ph, axis=2), pw, axis=3) / (ph * pw)
        return dx
    for i, r in enumerate(_starts(Ho, stride)):
        for j, s in enumerate(_starts(Wo, stride)):
            dx[:, :, r:r + ph, s:s + pw] += dout[:, :, i:i + 1, j:j + 1] / (ph * pw)
    return dx
