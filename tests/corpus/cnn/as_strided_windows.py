"""Pads by copying into a zero tensor (x.new_zeros and a slice assignment),
builds the windows with torch.as_strided from the padded tensor's own strides,
(N, C, H', W', HH, WW), and contracts them with the weights by tensordot."""
import torch

BUG = ("conv2d", "sn, sc, sh * stride, sw * stride, sh, sw", "sn, sc, sh, sw, sh, sw")


def conv2d(x, weight, bias, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, hh, ww = weight.shape
    hp, wp = h + 2 * padding, w + 2 * padding
    padded = x.new_zeros((n, c, hp, wp))
    padded[:, :, padding:padding + h, padding:padding + w] = x
    out_h = (hp - hh) // stride + 1
    out_w = (wp - ww) // stride + 1
    sn, sc, sh, sw = padded.stride()
    windows = torch.as_strided(padded, (n, c, out_h, out_w, hh, ww),
                               (sn, sc, sh * stride, sw * stride, sh, sw))
    # sum over c, kernel rows, kernel columns: (n, out_h, out_w, f)
    res = torch.tensordot(windows, weight, dims=([1, 4, 5], [1, 2, 3]))
    return res.permute(0, 3, 1, 2) + bias[None, :, None, None]
