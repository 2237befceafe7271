"""Helpers for writing PyTorch references: inputs become float64 tensors, and
gradients come from ``torch.autograd`` for the case's own upstream gradient."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch


def tensors(inputs: Mapping, requires_grad: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
    """Every array input as a tensor (same dtype, a copy); the ones named in
    ``requires_grad`` track gradients. Scalars and strings are left as they are."""
    out = {}
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            t = torch.tensor(value)
            out[name] = t.requires_grad_(name in requires_grad)
        else:
            out[name] = value
    return out


def numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def gradients(out: torch.Tensor, dout: np.ndarray | None, wrt: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """``d(sum(out * dout)) / d(each of wrt)``, named ``d<name>``.

    ``dout=None`` means a scalar ``out`` (a loss), differentiated directly."""
    # sum(out * dout) rather than grad_outputs=dout: the same gradient, without
    # the first-call import of sympy (about a second per grading process).
    scalar = out if dout is None else (out * torch.as_tensor(dout, dtype=out.dtype)).sum()
    grads = torch.autograd.grad(scalar, list(wrt.values()), allow_unused=True)
    result = {}
    for (name, t), g in zip(wrt.items(), grads):
        result[f"d{name}"] = numpy(g) if g is not None else np.zeros(tuple(t.shape), dtype=np.float64)
    return result
