"""The catalogued bugs of grader/suites/mlp.py made real: edits (old, new) of mlp.py, by bug name."""

MUTATIONS = {
    "activation-on-scores": (
        ("scores = h @ U + b2\n    cache", "scores = h @ U + b2\n    scores = (np.maximum(scores, 0.0) "
         "if activation == 'relu' else 1.0 / (1.0 + np.exp(-scores)))\n    cache"),
    ),
    "forward-missing-hidden-bias": (("z = x @ W + b1\n    if", "z = x @ W\n    if"),),
    "weight-gradient-transposed": (("dW = x.T @ dz", "dW = dz.T @ x"),),
    "bias-gradient-not-summed": (("db1 = np.sum(dz, axis=0)", "db1 = dz"),),
    "bias-gradient-summed-over-classes": (("db2 = np.sum(dscores, axis=0)", "db2 = np.sum(dscores, axis=1)"),),
    "sigmoid-derivative-at-preactivation": (("dz = dh * h * (1.0 - h)", "dz = dh * z * (1.0 - z)"),),
    "relu-mask-from-upstream-gradient": (("dz = dh * (z > 0)", "dz = dh * (dh > 0)"),),
    "output-weight-gradient-uses-preactivation": (("dU = h.T @ dscores", "dU = z.T @ dscores"),),
    "backward-averages-over-batch": (
        ("dU = h.T @ dscores", "dU = h.T @ dscores / len(x)"), ("dW = x.T @ dz", "dW = x.T @ dz / len(x)"),
    ),
    "loss-gradient-not-averaged": (
        ("        dscores /= n\n", ""), ("dscores = 2.0 * diff / diff.size", "dscores = 2.0 * diff"),
    ),
    "mse-gradient-missing-factor-2": (("dscores = 2.0 * diff / diff.size", "dscores = diff / diff.size"),),
    "mse-gradient-divides-by-batch-size": (("dscores = 2.0 * diff / diff.size", "dscores = 2.0 * diff / len(diff)"),),
    "ce-gradient-missing-one-hot": (("        dscores[np.arange(n), y] -= 1.0\n", ""),),
    "ce-loss-summed": (
        ("value = -np.mean(log_probs[np.arange(n), y])", "value = -np.sum(log_probs[np.arange(n), y])"),
    ),
    "ce-no-max-shift": (("shifted = scores - np.max(scores, axis=1, keepdims=True)", "shifted = scores"),),
    "predict-argmax-over-batch": (("return np.argmax(scores, axis=1)", "return np.argmax(scores, axis=0)"),),
    "sgd-step-uphill": (
        ("params[name] = params[name] - lr * grads[name]", "params[name] = params[name] + lr * grads[name]"),
    ),
    "zero-initialisation": (
        ("rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, hidden))", "np.zeros((d, hidden))"),
        ("rng.normal(0.0, 1.0 / np.sqrt(hidden), size=(hidden, c))", "np.zeros((hidden, c))"),
    ),
    "fans-swapped": (
        ("return int(d_in), int(d_out)", "return int(d_out), int(d_in)"),
        ("return int(shape[1]) * receptive_field, int(shape[0]) * receptive_field",
         "return int(shape[0]) * receptive_field, int(shape[1]) * receptive_field"),
    ),
    "variance-as-std": (
        ("std = gain * np.sqrt(2.0 / (fan_in + fan_out))", "std = gain ** 2 * 2.0 / (fan_in + fan_out)"),
        ("std = np.sqrt(2.0 / fan_in)", "std = 2.0 / fan_in"),
    ),
    "uniform-limit-is-the-std": (
        ("limit = gain * np.sqrt(6.0 / (fan_in + fan_out))", "limit = gain * np.sqrt(2.0 / (fan_in + fan_out))"),
        ("bound = np.sqrt(6.0 / fan_in)", "bound = np.sqrt(2.0 / fan_in)"),
    ),
    "statistics-from-test-set": (
        ("(x_test - mean) / std", "(x_test - np.mean(x_test, axis=0)) / np.std(x_test, axis=0)"),
    ),
    "standardized-by-variance": (("std = np.std(x_train, axis=0)", "std = np.var(x_train, axis=0)"),),
}
