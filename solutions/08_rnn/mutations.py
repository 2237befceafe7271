"""The catalogued bugs of grader/suites/rnn.py made real: edits (old, new) of the solution, by bug name."""

MUTATIONS = {
    "tanh-derivative-at-wrong-point": (
        ("    cache = (x, h_prev, Wx, Wh, h_next)\n", "    cache = (x, h_prev, Wx, Wh, x @ Wx + h_prev @ Wh + b)\n"),
        ("    x, h_prev, Wx, Wh, h_next = cache\n", "    x, h_prev, Wx, Wh, pre_activation = cache\n"),
        ("da = dh_next * (1.0 - h_next**2)", "da = dh_next * (1.0 - pre_activation**2)"),
    ),
    "wh-gradient-not-accumulated": (
        ("        dWh += dWh_t\n", "        dWh = dWh_t\n"),
    ),
    "no-gradient-through-h": (
        ("rnn_step_backward(dh[:, t] + dh_later, cache[t])", "rnn_step_backward(dh[:, t], cache[t])"),
    ),
    "initial-state-gradient-dropped": (
        ("    return dx, dh_later, dWx, dWh, db\n", "    return dx, np.zeros_like(dh_later), dWx, dWh, db\n"),
    ),
    "clipping-per-element": (
        ("    return {name: g * scale for name, g in grads.items()}\n",
         "    return {name: np.clip(g, -max_norm, max_norm) for name, g in grads.items()}\n"),
    ),
}
