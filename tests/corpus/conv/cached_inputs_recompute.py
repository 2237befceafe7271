"""The cache is just the inputs (x, w, b, conv_param); backward pads again and
recomputes every window. Loops over output positions with np.tensordot over
(C, HH, WW) inside; sizes from conv_output_size."""
import numpy as np

BUG = ("conv_backward", "dx = dxp[:, :, pad:pad + H, pad:pad + W]", "dx = dxp[:, :, pad:-pad, pad:-pad]")


def conv_forward(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_size(H, W, HH, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    out += b[None, :, None, None]
    return out, (x, w, b, {"stride": stride, "pad": pad})


def conv_backward(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_size(H, W, HH, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    db = np.einsum("nfij->f", dout)
    for i in range(Ho):
        for j in range(Wo):
            rs, cs = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], xp[:, :, rs, cs], axes=([0], [0]))
            dxp[:, :, rs, cs] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
