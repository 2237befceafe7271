"""One correlation helper (sliding_window_view + np.tensordot) used three
times: the forward pass, dw (the input correlated with the upsampled dout)
and dx (the upsampled, zero-framed dout correlated with the flipped filters),
the textbook "backward of a conv is a full convolution" derivation."""
import numpy as np

BUG = ("conv_backward", "w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)", "w.transpose(1, 0, 2, 3)")


def _correlate(a, k, stride):
    """out[n, f, i, j] = sum over c, p, q of k[f, c, p, q] * a[n, c, i * stride + p, j * stride + q]."""
    views = np.lib.stride_tricks.sliding_window_view(a, k.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.tensordot(views, k, axes=((1, 4, 5), (1, 2, 3))).transpose(0, 3, 1, 2)


def conv_forward(x, w, b, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return _correlate(xp, w, stride) + b.reshape(1, -1, 1, 1), (x, w, stride, pad)


def conv_backward(dout, cache):
    x, w, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    # dout back at stride 1: zeros between the outputs, and after the last one where the stride left rows out
    up = np.zeros((N, F, xp.shape[2] - HH + 1, xp.shape[3] - WW + 1))
    up[:, :, ::stride, ::stride] = dout
    db = dout.sum(axis=0).sum(axis=(1, 2))
    # batch and channel axes swap roles: sum over n, window of the size of up
    dw = _correlate(xp.transpose(1, 0, 2, 3), up.transpose(1, 0, 2, 3), 1).transpose(1, 0, 2, 3)
    framed = np.pad(up, ((0, 0), (0, 0), (HH - 1, HH - 1), (WW - 1, WW - 1)))
    dxp = _correlate(framed, w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), 1)
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
