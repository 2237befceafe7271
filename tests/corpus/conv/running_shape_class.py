"""A small object that walks the network, keeping the current shape and the
rows so far; a residual block walks its two paths with walkers of their own."""
import numpy as np

BUG = ("network_summary", "sum(r[3] for r in main.rows + shortcut.rows)", "sum(r[3] for r in main.rows)")


class _Walker:
    def __init__(self, shape):
        self.shape = tuple(int(v) for v in shape)
        self.rows = []

    def add(self, layer):
        if layer[0] != "residual":
            row = tuple(int(v) for v in layer_summary(self.shape, layer))
        else:
            main, shortcut = _Walker(self.shape).walk(layer[1]), _Walker(self.shape).walk(layer[2])
            row = (*main.shape, sum(r[3] for r in main.rows + shortcut.rows))
        self.rows.append(row)
        self.shape = row[:3]

    def walk(self, layers):
        for layer in layers:
            self.add(layer)
        return self


def network_summary(input_shape, layers):
    rows = _Walker(input_shape).walk(layers).rows
    return np.array(rows, dtype=np.int64).reshape(len(rows), 4)
