"""The catalogued bugs of grader/suites/conv.py made real: edits (old, new) of conv.py, by bug name."""

_H_LINE = "H_out = (H - HH + 2 * pad) // stride + 1"
_W_LINE = "W_out = (W - WW + 2 * pad) // stride + 1"
_DX_SCATTER = "dx_pad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += dwindows[:, :, k, l]"
_MAX_SCATTER = "dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += dwindows[..., k, l]"
_AVG_SCATTER = "dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += share"

# The formula's mistakes, which layer_summary (by conv_output_size) makes too.
_PADDING_ONCE = (
    (_H_LINE, "H_out = (H - HH + pad) // stride + 1"), (_W_LINE, "W_out = (W - WW + pad) // stride + 1"),
)
_TRUE_DIVISION = (
    (_H_LINE, "H_out = (H - HH + 2 * pad) / stride + 1"), (_W_LINE, "W_out = (W - WW + 2 * pad) / stride + 1"),
)

MUTATIONS = {
    "output-size-h-w-swapped": (("return H_out, W_out", "return W_out, H_out"),),
    "output-size-padding-once": _PADDING_ONCE,
    "output-size-rounds-up": (
        (_H_LINE, "H_out = -(-(H - HH + 2 * pad) // stride) + 1"),
        (_W_LINE, "W_out = -(-(W - WW + 2 * pad) // stride) + 1"),
    ),
    "output-size-rounds-to-nearest": (
        (_H_LINE, "H_out = round((H - HH + 2 * pad) / stride) + 1"),
        (_W_LINE, "W_out = round((W - WW + 2 * pad) / stride) + 1"),
    ),
    "output-size-true-division": _TRUE_DIVISION,
    "conv-flipped-kernel": (
        ("np.einsum('ncijkl,fckl->nfij', windows, w, optimize=True)",
         "np.einsum('ncijkl,fckl->nfij', windows, w[:, :, ::-1, ::-1], optimize=True)"),
    ),
    "conv-bias-wrong-axis": (("+ b[:, None, None]", "+ b"),),
    "conv-padding-one-side": (
        ("np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))", "np.pad(x, ((0, 0), (0, 0), (0, pad), (0, pad)))"),
    ),
    "conv-forward-ignores-stride": (
        ("sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]",
         "sliding_window_view(x_pad, (HH, WW), axis=(2, 3))"),
    ),
    "conv-dw-not-summed-over-batch": (
        ("dw = np.einsum('nfij,ncijkl->fckl', dout, windows, optimize=True)",
         "dw = np.einsum('nfij,ncijkl->fckl', dout[-1:], windows[-1:], optimize=True)"),
    ),
    "conv-db-not-summed-over-pixels": (("db = np.sum(dout, axis=(0, 2, 3))", "db = np.sum(dout, axis=0)"),),
    "conv-dx-overlaps-overwritten": ((_DX_SCATTER, _DX_SCATTER.replace("+=", "=")),),
    "conv-backward-ignores-stride": (
        (_DX_SCATTER, "dx_pad[:, :, k:k + H_out, l:l + W_out] += dwindows[:, :, k, l]"),
    ),
    "pool-stride-equals-window": (
        ("windows = windows[:, :, ::stride, ::stride]", "windows = windows[:, :, ::pool_height, ::pool_width]"),
    ),
    "max-pool-starts-at-zero": (
        ("out = windows.max(axis=(4, 5))", "out = np.maximum(windows.max(axis=(4, 5)), 0.0)"),
    ),
    "max-pool-gradient-to-every-maximum": (
        ("mask = (np.arange(ph * pw) == first_max[..., None]).reshape(windows.shape)",
         "mask = windows == windows.max(axis=(4, 5), keepdims=True)"),
    ),
    "max-pool-overlaps-overwritten": ((_MAX_SCATTER, _MAX_SCATTER.replace("+=", "=")),),
    "avg-pool-sum-not-mean": ((".mean(axis=(4, 5))", ".sum(axis=(4, 5))"),),
    "avg-pool-gradient-not-shared": (("share = dout / (ph * pw)", "share = dout"),),
    "avg-pool-overlaps-overwritten": ((_AVG_SCATTER, _AVG_SCATTER.replace("+=", "=")),),
    "conv-params-bias-forgotten": (("F * C * HH * WW + (F if bias else 0)", "F * C * HH * WW"),),
    "conv-params-channels-forgotten": (("F * C * HH * WW + (F if bias else 0)", "F * HH * WW + (F if bias else 0)"),),
    "linear-params-bias-forgotten": (("D * M + (M if bias else 0)", "D * M"),),
    "layer-size-padding-once": _PADDING_ONCE,
    "layer-size-true-division": _TRUE_DIVISION,
    "batchnorm-counts-running-statistics": (("return C, H, W, 2 * C", "return C, H, W, 4 * C"),),
    "residual-shortcut-not-counted": (
        ("path[:, 3].sum() + network_summary(shape, shortcut)[:, 3].sum()", "path[:, 3].sum()"),
    ),
}
