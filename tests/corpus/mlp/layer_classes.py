"""Small layer classes (Linear, ReLU, Sigmoid) with forward/backward
methods that remember their inputs; the cache is the list of layer objects."""
import numpy as np

BUG = ("mlp_backward", "self.x.T @ dout", "dout.T @ self.x")


class Linear:
    def __init__(self, w, b, names):
        self.w, self.b, self.names = w, b, names

    def forward(self, x):
        self.x = x
        return x @ self.w + self.b

    def backward(self, dout):
        self.grads = {self.names[0]: self.x.T @ dout, self.names[1]: dout.sum(0)}
        return dout @ self.w.T


class ReLU:
    grads = {}

    def forward(self, x):
        self.on = x > 0
        return x * self.on

    def backward(self, dout):
        return dout * self.on


class Sigmoid:
    grads = {}

    def forward(self, x):
        self.s = 0.5 * (1.0 + np.tanh(0.5 * x))
        return self.s

    def backward(self, dout):
        return dout * self.s * (1.0 - self.s)


def _network(params, activation):
    hidden = {"relu": ReLU, "sigmoid": Sigmoid}[activation]()
    return [Linear(params["W"], params["b1"], ("W", "b1")), hidden, Linear(params["U"], params["b2"], ("U", "b2"))]


def mlp_forward(x, params, activation):
    net = _network(params, activation)
    for layer in net:
        x = layer.forward(x)
    return x, net


def mlp_backward(dscores, cache):
    grads, d = {}, dscores
    for layer in cache[::-1]:
        d = layer.backward(d)
        grads.update(layer.grads)
    grads["x"] = d
    return grads


def predict(x, params, activation):
    out, _ = mlp_forward(x, params, activation)
    return out.argmax(1)
