"""Works time-major inside: x transposed to (T, N, D), the states stacked
along the first axis, transposed back at the end."""
import numpy as np

BUG = ("rnn_forward", "states[t + 1] = np.tanh(", "states[t + 1] = 0.5 * np.tanh(")


def rnn_forward(x, h0, Wx, Wh, b):
    xs = np.transpose(x, (1, 0, 2))
    states = np.zeros((xs.shape[0] + 1,) + h0.shape)
    states[0] = h0
    for t in range(xs.shape[0]):
        states[t + 1] = np.tanh(xs[t] @ Wx + states[t] @ Wh + b)
    caches = [(xs[t], states[t], Wx, Wh, states[t + 1]) for t in range(xs.shape[0])]
    return np.transpose(states[1:], (1, 0, 2)), caches
