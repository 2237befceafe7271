"""Structural pattern matching on each layer (lists and tuples alike), the
output size written out again with its own floor division."""
import numpy as np

BUG = ("layer_summary", "F, (H + 2 * pad - HH) // stride + 1", "F, (H + pad - HH) // stride + 1")


def layer_summary(input_shape, layer):
    C, H, W = input_shape
    match layer:
        case ["conv", F, HH, WW, stride, pad, bias]:
            params = conv_params(C, F, HH, WW, bias)
            return F, (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1, params
        case ["max_pool" | "avg_pool", HH, WW, stride, pad]:
            return C, (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1, 0
        case ["batchnorm"]:
            return C, H, W, 2 * C
        case ["relu"]:
            return C, H, W, 0
        case ["flatten"]:
            return H * W * C, 1, 1, 0
        case ["linear", M, bias]:
            return M, 1, 1, linear_params(H * W * C, M, bias)
    raise ValueError(f"unknown layer {layer!r}")


def network_summary(input_shape, layers):
    table = np.zeros((0, 4), dtype=np.int64)
    shape = input_shape
    for layer in layers:
        match layer:
            case ["residual", main, shortcut]:
                paths = [network_summary(shape, main), network_summary(shape, shortcut)]
                row = [*paths[0][-1, :3], sum(int(p[:, 3].sum()) for p in paths)]
            case _:
                row = list(layer_summary(shape, layer))
        table = np.vstack([table, row])
        shape = tuple(row[:3])
    return table
