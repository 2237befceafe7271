"""Weights drawn in float32 by the generator itself (dtype=np.float32), and
standardisation computed and returned in float32."""
import numpy as np

BUG = ("xavier_normal", "np.sqrt(np.float32(2.0) / (fi + fo))", "np.float32(2.0) / (fi + fo)")


def xavier_uniform(shape, rng, gain=1.0):
    fi, fo = fan_in_and_out(shape)
    a = np.float32(gain) * np.sqrt(np.float32(6.0) / (fi + fo))
    return a * (2 * rng.random(shape, dtype=np.float32) - 1)


def xavier_normal(shape, rng, gain=1.0):
    fi, fo = fan_in_and_out(shape)
    sigma = np.float32(gain) * np.sqrt(np.float32(2.0) / (fi + fo))
    return sigma * rng.standard_normal(shape, dtype=np.float32)


def he_normal(shape, rng):
    sigma = np.sqrt(np.float32(2.0) / fan_in_and_out(shape)[0])
    return sigma * rng.standard_normal(shape, dtype=np.float32)


def standardize(x_train, x_test):
    train, test = x_train.astype(np.float32), x_test.astype(np.float32)
    centre = train.mean(axis=0)
    spread = train.std(axis=0)
    return (train - centre) / spread, (test - centre) / spread
