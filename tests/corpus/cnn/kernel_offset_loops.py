"""Loops over the kernel's offsets only: F.pad once, then for every (k, l)
the strided slice of the padded input that offset touches, contracted
with the filters' (F, C) slice at that offset over the channels (einsum)
and accumulated; bias added by broadcasting at the end."""
import torch
import torch.nn.functional as F

BUG = ("conv2d", "weight[:, :, k, l]", "weight[:, :, kh - 1 - k, kw - 1 - l]")


def conv2d(x, weight, bias, stride=1, padding=0):
    N, C, H, W = x.shape
    Fo, _, kh, kw = weight.shape
    Ho = (H + 2 * padding - kh) // stride + 1
    Wo = (W + 2 * padding - kw) // stride + 1
    xp = F.pad(x, [padding] * 4)
    out = 0
    for k in range(kh):
        for l in range(kw):
            patch = xp[:, :, k:k + stride * (Ho - 1) + 1:stride, l:l + stride * (Wo - 1) + 1:stride]
            out = out + torch.einsum("nchw,fc->nfhw", patch, weight[:, :, k, l])
    return out + bias.view(1, -1, 1, 1)
