"""Rows of the table as a namedtuple, one handler per kind of layer in a dict,
and a residual block as a recursive walk over both paths."""
from collections import namedtuple

import numpy as np

BUG = ("layer_summary", "Row(C * H * W, 1, 1, 0)", "Row(C, 1, 1, 0)")

Row = namedtuple("Row", "C H W params")


def _window(shape, kh, kw, stride, pad):
    return conv_output_size(shape[1], shape[2], kh, kw, stride, pad)


_HANDLERS = {
    "conv": lambda C, H, W, F, kh, kw, s, p, bias: Row(F, *_window((C, H, W), kh, kw, s, p),
                                                       conv_params(C, F, kh, kw, bias)),
    "max_pool": lambda C, H, W, kh, kw, s, p: Row(C, *_window((C, H, W), kh, kw, s, p), 0),
    "avg_pool": lambda C, H, W, kh, kw, s, p: Row(C, *_window((C, H, W), kh, kw, s, p), 0),
    "batchnorm": lambda C, H, W: Row(C, H, W, 2 * C),
    "relu": lambda C, H, W: Row(C, H, W, 0),
    "flatten": lambda C, H, W: Row(C * H * W, 1, 1, 0),
    "linear": lambda C, H, W, M, bias: Row(M, 1, 1, linear_params(C * H * W, M, bias)),
}


def layer_summary(input_shape, layer):
    return _HANDLERS[layer[0]](*input_shape, *layer[1:])


def _walk(shape, layers):
    rows = []
    for kind, *entries in layers:
        if kind == "residual":
            main, shortcut = (_walk(shape, path) for path in entries)
            rows.append(Row(*main[-1][:3], sum(r.params for r in main + shortcut)))
        else:
            rows.append(layer_summary(shape, [kind, *entries]))
        shape = rows[-1][:3]
    return rows


def network_summary(input_shape, layers):
    return np.array(_walk(tuple(input_shape), layers), dtype=np.int64).reshape(-1, 4)
