"""Both sets stacked into one array, the statistics taken from the training
rows of it by a slice, with keepdims and the square root of np.var."""
import numpy as np

BUG = ("standardize", "stats = both[:n]", "stats = both")


def standardize(x_train, x_test):
    n = len(x_train)
    both = np.concatenate([x_train, x_test], axis=0)
    stats = both[:n]
    centre = stats.mean(axis=0, keepdims=True)
    spread = np.sqrt(stats.var(axis=0, keepdims=True))
    out = (both - centre) / spread
    return out[:n], out[n:]
