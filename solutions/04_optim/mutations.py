"""The catalogued bugs of grader/suites/optim.py made real: edits (old, new) of optim.py, by bug name."""

MUTATIONS = {
    "sgd-momentum-dampened": (
        ('b = momentum * state["momentum_buffer"] + g if "momentum_buffer" in state else g',
         'b = momentum * state.get("momentum_buffer", 0.0) + (1 - momentum) * g'),
    ),
    "sgd-nesterov-as-plain-momentum": (
        ("g = g + momentum * b if nesterov else b", "g = b"),
    ),
    "sgd-weight-decay-wrong-sign": (
        ("g = dw + weight_decay * w\n    if momentum", "g = dw - weight_decay * w\n    if momentum"),
    ),
    "sgd-momentum-buffer-not-kept": (
        ('        state["momentum_buffer"] = b\n', ""),
    ),
    "adam-no-bias-correction": (
        ("\n    m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)\n",
         "\n    m_hat = m\n    v_hat = v\n"),
    ),
    "adam-step-count-starts-at-0": (
        ('t = state.get("t", 0) + 1', 't = state.get("t", 0)'),
        ("state.update(t=t, m=m, v=v)", "state.update(t=t + 1, m=m, v=v)"),
    ),
    "adam-eps-inside-sqrt": (
        ("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),
    ),
    "adam-state-not-kept": (
        ("    state.update(t=t, m=m, v=v)\n", ""),
    ),
    "adamw-coupled-weight-decay": (
        ("return adam_step(decayed, dw, state, lr, beta1, beta2, eps)",
         "return adam_step(w, dw, state, lr, beta1, beta2, eps, weight_decay)"),
    ),
    "adamw-decay-without-lr": (
        ("decayed = w * (1 - lr * weight_decay)", "decayed = w * (1 - weight_decay)"),
    ),
    "rmsprop-eps-inside-sqrt": (
        ("np.sqrt(square_avg) + eps", "np.sqrt(square_avg + eps)"),
    ),
    "rmsprop-average-not-weighted": (
        ("(1 - alpha) * grad ** 2", "grad ** 2"),
    ),
    "rmsprop-bias-corrected": (
        ("step = grad / (np.sqrt(square_avg) + eps)",
         'state["t"] = state.get("t", 0) + 1\n'
         '    step = grad / (np.sqrt(square_avg / (1 - alpha ** state["t"])) + eps)'),
    ),
    "rmsprop-average-not-kept": (
        ('    state["square_avg"] = square_avg\n', ""),
    ),
}
