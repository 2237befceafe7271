"""CS231n style: a config dict with setdefault, updates in place (w -= ...)."""
import numpy as np

BUG = ("adam_step", "config['t'] += 1", "pass")  # the step counter frozen at its start


def sgd_step(w, dw, config, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = weight_decay * w + dw
    if momentum:
        if "velocity" not in config:
            config["velocity"] = g.copy()
        else:
            config["velocity"] *= momentum
            config["velocity"] += g
        g = g + momentum * config["velocity"] if nesterov else config["velocity"]
    w -= lr * g
    return w, config


def adam_step(w, dw, config, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    g = weight_decay * w + dw
    config['t'] += 1
    config["m"] = beta1 * config["m"] + (1 - beta1) * g
    config["v"] = beta2 * config["v"] + (1 - beta2) * g * g
    mt = config["m"] / (1 - beta1 ** config["t"])
    vt = config["v"] / (1 - beta2 ** config["t"])
    w -= lr * mt / (np.sqrt(vt) + eps)
    return w, config


def adamw_step(w, dw, config, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    w *= 1 - lr * weight_decay
    return adam_step(w, dw, config, lr, beta1, beta2, eps)


def rmsprop_step(w, dw, config, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    g = weight_decay * w + dw
    cache = config.setdefault("cache", np.zeros_like(w))
    cache *= alpha
    cache += (1 - alpha) * g ** 2
    step = g / (np.sqrt(cache) + eps)
    if momentum:
        buf = config.setdefault("buf", np.zeros_like(w))
        buf *= momentum
        buf += step
        step = buf
    w -= lr * step
    return w, config
