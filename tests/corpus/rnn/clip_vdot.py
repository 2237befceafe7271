"""Clipping with the squared norm from np.vdot and a division only when needed."""
import numpy as np

BUG = ("clip_gradients", "max_norm / np.sqrt(total)", "max_norm / total")


def clip_gradients(grads, max_norm):
    total = sum(float(np.vdot(g, g)) for g in grads.values())
    if total > max_norm ** 2:
        factor = max_norm / np.sqrt(total)
        return {k: v * factor for k, v in grads.items()}
    return {k: np.array(v, copy=True) for k, v in grads.items()}
