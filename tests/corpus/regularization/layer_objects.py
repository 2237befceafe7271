"""Layers as objects, like torch.nn modules: each graded forward builds one,
runs it and hands it over as the cache; backward is a method."""
import numpy as np

BUG = ("batchnorm_forward",
       'self.momentum * mean + (1 - self.momentum) * s["running_mean"]',
       '(1 - self.momentum) * mean + self.momentum * s["running_mean"]')  # Keras's convention


class Dropout:
    def __init__(self, p, rng):
        self.p, self.rng = p, rng

    def forward(self, x, train):
        self.train = train
        if not train:
            return x.copy()
        self.keep = self.rng.random(size=x.shape) < 1.0 - self.p
        return np.where(self.keep, x, 0.0) / (1.0 - self.p)

    def backward(self, dout):
        return np.where(self.keep, dout, 0.0) / (1.0 - self.p) if self.train else dout.copy()


class BatchNorm1d:
    def __init__(self, gamma, beta, state, momentum, eps):
        self.gamma, self.beta, self.state, self.momentum, self.eps = gamma, beta, state, momentum, eps

    def forward(self, x, train):
        s = self.state
        if train:
            n = len(x)
            mean, var = x.mean(0), x.var(0)
            s["running_mean"] = self.momentum * mean + (1 - self.momentum) * s["running_mean"]
            s["running_var"] = self.momentum * var * n / (n - 1) + (1 - self.momentum) * s["running_var"]
        else:
            mean, var = s["running_mean"], s["running_var"]
        self.std = np.sqrt(var + self.eps)
        self.xhat = (x - mean) / self.std
        return self.gamma * self.xhat + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        g = dout * self.gamma
        dx = (n * g - g.sum(0) - self.xhat * (g * self.xhat).sum(0)) / (n * self.std)
        return dx, (dout * self.xhat).sum(0), dout.sum(0)


def dropout_forward(x, p, train, rng):
    layer = Dropout(p, rng)
    return layer.forward(x, train), layer


def dropout_backward(dout, cache):
    return cache.backward(dout)


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    layer = BatchNorm1d(gamma, beta, state, momentum, eps)
    return layer.forward(x, train), layer


def batchnorm_backward(dout, cache):
    return cache.backward(dout)
