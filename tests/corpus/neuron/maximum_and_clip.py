"""np.maximum / np.minimum / np.clip instead of branches: leaky ReLU as
max(x, alpha * x), the sigmoid on inputs clipped to [-500, 500], ELU as the
sum of its two clipped halves, slopes as clipped signs."""
import numpy as np

BUG = ("elu_forward", "alpha * np.expm1(np.minimum(x, 0))", "np.expm1(np.minimum(x, 0))")


def sigmoid_forward(x):
    s = 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))
    return s, s


def sigmoid_backward(dout, cache):
    return dout * (cache - cache ** 2)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * np.clip(np.sign(cache), 0, 1)


def leaky_relu_forward(x, alpha=0.01):
    # alpha < 1, so alpha * x is the larger one exactly where x < 0
    return np.maximum(x, alpha * x), (x, alpha)


def leaky_relu_backward(dout, cache):
    x, alpha = cache[0], cache[1]
    return dout * np.clip(np.sign(x), alpha, 1)


def elu_forward(x, alpha=1.0):
    y = np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0))
    return y, (x, alpha)


def elu_backward(dout, cache):
    x, alpha = cache[0], cache[1]
    # exp of min(x, 0) never overflows; the positive side's slope is 1
    return dout * ((x > 0) + (x <= 0) * alpha * np.exp(np.minimum(x, 0)))
