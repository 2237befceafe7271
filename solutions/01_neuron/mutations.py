"""The catalogued bugs of grader/suites/neuron.py made real: edits (old, new) of neuron.py, by bug name."""

MUTATIONS = {
    "sigmoid-derivative-applied-twice": (
        ("dx = dout * out * (1.0 - out)", "dx = dout * sigmoid_forward(out)[0] * (1.0 - sigmoid_forward(out)[0])"),
    ),
    "sigmoid-backward-ignores-dout": (("dx = dout * out * (1.0 - out)", "dx = out * (1.0 - out)"),),
    "tanh-exp-overflow": (("out = np.tanh(x)", "out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))"),),
    "tanh-derivative-not-squared": (("dx = dout * (1.0 - out ** 2)", "dx = dout * (1.0 - out)"),),
    "tanh-derivative-applied-twice": (("dx = dout * (1.0 - out ** 2)", "dx = dout * (1.0 - np.tanh(out) ** 2)"),),
    "relu-gradient-not-masked": (("dx = dout * (x > 0)", "dx = dout.copy()"),),
    "relu-gradient-times-output": (("dx = dout * (x > 0)", "dx = dout * np.maximum(0.0, x)"),),
    "leaky-relu-ignores-alpha": (("out = np.where(x > 0, x, alpha * x)", "out = np.where(x > 0, x, 0.01 * x)"),),
    "leaky-relu-slope-on-positive-side": (
        ("dx = np.where(x > 0, dout, alpha * dout)", "dx = np.where(x > 0, alpha * dout, dout)"),
    ),
    "leaky-relu-gradient-zero-for-negative": (
        ("dx = np.where(x > 0, dout, alpha * dout)", "dx = np.where(x > 0, dout, 0.0)"),
    ),
    "elu-forward-missing-alpha": (("alpha * np.expm1(np.minimum(x, 0.0))", "np.expm1(np.minimum(x, 0.0))"),),
    "elu-derivative-uses-out": (("np.where(x > 0, 1.0, out + alpha)", "np.where(x > 0, 1.0, out)"),),
    "elu-derivative-missing-alpha": (("np.where(x > 0, 1.0, out + alpha)", "np.where(x > 0, 1.0, np.exp(x))"),),
    "softmax-no-max-shift": (("shifted = x - np.max(x, axis=1, keepdims=True)", "shifted = x"),),
    "softmax-global-max-shift": (("shifted = x - np.max(x, axis=1, keepdims=True)", "shifted = x - np.max(x)"),),
    "softmax-wrong-axis": (
        ("shifted = x - np.max(x, axis=1, keepdims=True)", "shifted = x - np.max(x, axis=0, keepdims=True)"),
        ("out = e / np.sum(e, axis=1, keepdims=True)", "out = e / np.sum(e, axis=0, keepdims=True)"),
    ),
    "softmax-backward-diagonal-only": (
        ("dx = p * (dout - np.sum(dout * p, axis=1, keepdims=True))", "dx = dout * p * (1.0 - p)"),
    ),
    "neuron-skips-activation-gradient": (("dz = backward(dout, activation_cache)", "dz = dout"),),
    "neuron-dw-not-summed": (("dw = x.T @ dz", "dw = x * dz[:, None]"),),
    "neuron-dw-averaged": (("dw = x.T @ dz", "dw = x.T @ dz / len(dz)"),),
    "neuron-db-not-summed": (("db = float(np.sum(dz))", "db = dz"),),
}
