"""The catalogued bugs of grader/suites/losses.py made real: edits (old, new) of losses.py, by bug name."""

MUTATIONS = {
    "mse-grad-missing-factor-2": (("dpred = 2.0 * diff / diff.size", "dpred = diff / diff.size"),),
    "mse-loss-summed": (("loss = np.mean(diff ** 2)", "loss = np.sum(diff ** 2)"),),
    "mse-grad-not-averaged": (("dpred = 2.0 * diff / diff.size", "dpred = 2.0 * diff"),),
    "mse-grad-divides-by-batch-size": (("dpred = 2.0 * diff / diff.size", "dpred = 2.0 * diff / len(diff)"),),
    "ce-grad-not-averaged": (("    dlogits /= n\n", ""),),
    "ce-loss-summed": (("loss = -np.mean(", "loss = -np.sum("),),
    "ce-log-of-softmax": (
        ("log_probs = shifted - np.log(sum_exp)", "log_probs = np.log(exp_shifted / sum_exp)"),
    ),
    "ce-no-max-subtraction": (("shifted = logits - np.max(logits, axis=1, keepdims=True)", "shifted = logits"),),
    "ce-global-max-shift": (
        ("shifted = logits - np.max(logits, axis=1, keepdims=True)", "shifted = logits - np.max(logits)"),
    ),
    "ce-grad-missing-one-hot": (("    dlogits[np.arange(n), labels] -= 1.0\n", ""),),
    "bce-naive-log-sigmoid": (
        (
            "loss = np.mean(np.maximum(logits, 0) - logits * targets + np.log1p(e))",
            "p = 1.0 / (1.0 + np.exp(-logits))\n"
            "    loss = np.mean(-targets * np.log(p) - (1 - targets) * np.log(1 - p))",
        ),
    ),
    "bce-grad-sign-flipped": (("dlogits = (sig - targets) / logits.size", "dlogits = (targets - sig) / logits.size"),),
    "bce-grad-not-averaged": (("dlogits = (sig - targets) / logits.size", "dlogits = sig - targets"),),
    "bce-grad-divides-by-batch-size": (
        ("dlogits = (sig - targets) / logits.size", "dlogits = (sig - targets) / len(logits)"),
    ),
}
