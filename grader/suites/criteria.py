"""The loss family: one declaration of a loss, ``name(prediction, target) ->
(loss, d<prediction>)``, yields its graded function, judged on both outputs
against torch's loss and autograd's gradient of it; a catalogued bug is the
mistaken loss it amounts to, in torch (``loss_outputs``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from grader.reference import gradients, numpy, tensors
from grader.spec import Bug, Case, GradedFunction, returns_pair_program

LossOf = Callable[[dict], torch.Tensor]  # the loss from the case's inputs as tensors


def loss_outputs(loss_of: LossOf, wrt: str, *names: str):
    """A reference, the function's own or a catalogued bug's: the outputs
    ``names`` (of ``loss`` and ``d<wrt>``) of the loss ``loss_of(tensors)``, its
    value and its autograd gradient. A bug names only the outputs its mistake
    changes."""

    def reference(inputs) -> dict[str, np.ndarray]:
        t = tensors(inputs, requires_grad=(wrt,))
        loss = loss_of(t)
        outputs = {"loss": numpy(loss), **gradients(loss, None, {wrt: t[wrt]})}
        return {name: outputs[name] for name in names}

    return reference


def loss(name: str, prediction: str, target: str, torch_loss: LossOf,
         cases: Callable[[np.random.Generator], list[Case]], points: float, bugs: tuple[Bug, ...]) -> GradedFunction:
    """The graded function of the loss ``name(prediction, target)``, torch's being ``torch_loss``; ``cases`` draws
    its cases, whose points add up to ``points``."""
    gradient = f"d{prediction}"
    return GradedFunction(name=name, program=returns_pair_program(name, prediction, target, names=("loss", gradient)),
                          cases=cases, reference=loss_outputs(torch_loss, prediction, "loss", gradient),
                          points=points, bugs=bugs)
