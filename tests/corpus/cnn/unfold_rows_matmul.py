"""im2col by hand with Tensor.unfold twice, the patches laid out as rows
(N*H'*W', C*HH*WW) and multiplied by the transposed flattened filters (one
big 2-D product, as in a fully-connected layer), then the rows put back to
(N, H', W', F) and permuted to channels first."""
import torch.nn.functional as F

BUG = ("conv2d", "out.reshape(n, out_h, out_w, f).permute(0, 3, 1, 2)", "out.reshape(n, f, out_h, out_w)")


def conv2d(x, weight, bias, stride=1, padding=0):
    n, c, _, _ = x.shape
    f, _, hh, ww = weight.shape
    if padding > 0:
        x = F.pad(x, (padding, padding, padding, padding), mode="constant", value=0.0)
    patches = x.unfold(2, hh, stride).unfold(3, ww, stride)  # (n, c, out_h, out_w, hh, ww)
    out_h, out_w = patches.shape[2], patches.shape[3]
    rows = patches.permute(0, 2, 3, 1, 4, 5).reshape(n * out_h * out_w, c * hh * ww)
    out = rows.matmul(weight.reshape(f, c * hh * ww).t()) + bias
    return out.reshape(n, out_h, out_w, f).permute(0, 3, 1, 2)
