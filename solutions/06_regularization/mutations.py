"""The catalogued bugs of grader/suites/regularization.py made real: edits (old, new) of the solution, by bug name."""

_RUNNING_UPDATE = (
    '        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mu\n'
    '        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * unbiased\n'
)

MUTATIONS = {
    "dropout-scaled-at-eval": (
        ("        out = x\n", "        out = x * (1.0 - p)\n"),
    ),
    "dropout-applied-at-eval": (
        ("    if train:\n        keep = rng", "    if True:\n        keep = rng"),
    ),
    "dropout-keeps-with-probability-p": (
        ("rng.random(x.shape) >= p\n        # Rescaling", "rng.random(x.shape) < p\n        # Rescaling"),
    ),
    "dropout-not-rescaled": (
        ("out = x * keep / (1.0 - p)", "out = x * keep"),
    ),
    "dropout-backward-scaled-twice": (
        ("dx = dout * keep / (1.0 - p)", "dx = dout * keep / (1.0 - p) ** 2"),
    ),
    "dropout-backward-not-rescaled": (
        ("dx = dout * keep / (1.0 - p)", "dx = dout * keep"),
    ),
    "bn-eps-outside-sqrt": (
        ("std = np.sqrt(var + eps)", "std = np.sqrt(var) + eps"),
    ),
    "bn-unbiased-variance-normalising": (
        ("var = np.var(x, axis=0)", "var = np.var(x, axis=0, ddof=1)"),
        ("unbiased = var * n / (n - 1)", "unbiased = var"),
    ),
    "bn-wrong-axis": (
        ("mu = np.mean(x, axis=0)", "mu = np.mean(x, axis=1, keepdims=True)"),
        ("var = np.var(x, axis=0)", "var = np.var(x, axis=1, keepdims=True)"),
    ),
    "bn-eval-uses-batch-stats": (
        ('mu, var = state["running_mean"], state["running_var"]',
         "mu, var = np.mean(x, axis=0), np.var(x, axis=0)"),
    ),
    "bn-eval-without-eps": (
        ('mu, var = state["running_mean"], state["running_var"]',
         'mu, var = state["running_mean"], state["running_var"] - eps'),
    ),
    "bn-running-stats-not-updated": (
        (_RUNNING_UPDATE, ""),
    ),
    "bn-momentum-swapped": (
        (_RUNNING_UPDATE,
         '        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu\n'
         '        state["running_var"] = momentum * state["running_var"] + (1 - momentum) * unbiased\n'),
    ),
    "bn-running-var-biased": (
        ("unbiased = var * n / (n - 1)", "unbiased = var"),
    ),
    "bn-backward-mean-var-constant": (
        ("dx = (dx_hat - np.mean(dx_hat, axis=0) - x_hat * np.mean(dx_hat * x_hat, axis=0)) / std",
         "dx = dx_hat / std"),
    ),
    "bn-backward-missing-variance-path": (
        ("dx = (dx_hat - np.mean(dx_hat, axis=0) - x_hat * np.mean(dx_hat * x_hat, axis=0)) / std",
         "dx = (dx_hat - np.mean(dx_hat, axis=0)) / std"),
    ),
    "bn-backward-ignores-gamma": (
        ("dx_hat = dout * gamma", "dx_hat = dout"),
    ),
    "spatial-bn-per-pixel": (
        ("axes = (0, 2, 3)  # a channel's values", "axes = 0  # a channel's values"),
    ),
    "spatial-bn-stats-over-channels": (
        ("axes = (0, 2, 3)  # a channel's values", "axes = (0, 1, 2)  # a channel's values"),
    ),
    "spatial-bn-running-var-biased": (
        ("momentum * var.ravel() * m / (m - 1)", "momentum * var.ravel()"),
    ),
    "spatial-bn-eps-outside-sqrt": (
        ("inv_std = (var + eps) ** -0.5", "inv_std = 1.0 / (np.sqrt(var) + eps)"),
    ),
    "spatial-bn-gamma-wrong-axis": (
        ("gamma[:, None, None] * x_hat + beta[:, None, None]", "gamma * x_hat + beta"),
    ),
    "spatial-bn-backward-gamma-wrong-axis": (
        ("dx_hat = gamma[:, None, None] * dout", "dx_hat = gamma * dout"),
    ),
    "spatial-bn-backward-count-n": (
        ("mean_dx_hat = np.mean(dx_hat, axis=axes, keepdims=True)",
         "mean_dx_hat = np.sum(dx_hat, axis=axes, keepdims=True) / len(dout)"),
        ("mean_dx_hat_x_hat = np.mean(dx_hat * x_hat, axis=axes, keepdims=True)",
         "mean_dx_hat_x_hat = np.sum(dx_hat * x_hat, axis=axes, keepdims=True) / len(dout)"),
    ),
}
