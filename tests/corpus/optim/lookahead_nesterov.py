"""CS231n's velocity, v = mu * v - lr * g then w += v, kept in place in the
config dict; Nesterov in its look-ahead form w += -mu * v_prev + (1 + mu) * v."""
import numpy as np

BUG = ("sgd_step", "v_prev = v.copy()", "v_prev = v")


def sgd_step(w, dw, config, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    grad = dw + weight_decay * w if weight_decay else dw
    if not momentum:
        w -= lr * grad
        return w, config
    v = config.setdefault("velocity", np.zeros_like(w))
    v_prev = v.copy()
    v *= momentum
    v -= lr * grad
    if nesterov:
        w += -momentum * v_prev + (1 + momentum) * v
    else:
        w += v
    return w, config
