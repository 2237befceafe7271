"""The global norm of all gradients flattened into one vector, as
clip_grad_norm_ describes it, with a small epsilon as torch has."""
import numpy as np

BUG = ("clip_gradients", "np.concatenate([g.ravel() for g in grads.values()])",
       "np.concatenate([g.ravel() for g in list(grads.values())[:1]])")


def clip_gradients(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    coef = min(max_norm / (norm + 1e-6), 1.0)
    return {name: g * coef for name, g in grads.items()}
