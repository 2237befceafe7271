"""State kept in small layer objects with forward/backward methods (as in
many course frameworks): the cache is the layer object itself, which
remembers what its forward pass saw; the sigmoid is 0.5 * (1 + tanh(x / 2))."""
import numpy as np

BUG = ("sigmoid_backward", "return dout * self.s * (1 - self.s)", "return self.s * (1 - self.s)")


class Sigmoid:
    def forward(self, x):
        self.s = 0.5 * (1 + np.tanh(0.5 * x))
        return self.s

    def backward(self, dout):
        return dout * self.s * (1 - self.s)


class Tanh:
    def forward(self, x):
        self.t = np.tanh(x)
        return self.t

    def backward(self, dout):
        return dout * (1 - np.square(self.t))


class ReLU:
    def forward(self, x):
        self.active = x > 0
        return np.where(self.active, x, 0.0)

    def backward(self, dout):
        return np.where(self.active, dout, 0.0)


class Neuron:
    ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}

    def __init__(self, w, b, activation):
        self.w, self.b, self.act = w, b, self.ACTIVATIONS[activation]()

    def forward(self, x):
        self.x = x
        return self.act.forward(x @ self.w + self.b)

    def backward(self, dout):
        dz = self.act.backward(dout)
        return np.outer(dz, self.w), self.x.T @ dz, dz.sum()


def _run(layer, x):
    return layer.forward(x), layer


def sigmoid_forward(x):
    return _run(Sigmoid(), x)


def tanh_forward(x):
    return _run(Tanh(), x)


def relu_forward(x):
    return _run(ReLU(), x)


def neuron_forward(x, w, b, activation):
    return _run(Neuron(w, b, activation), x)


def sigmoid_backward(dout, cache):
    return cache.backward(dout)


tanh_backward = relu_backward = neuron_backward = sigmoid_backward
