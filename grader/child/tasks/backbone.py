"""Builtins of a training task with a pretrained backbone (``builtin:backbone.<name>``, ``Training.backbone``):
the extractor built in the child, what the frozen-feature checks read of a model, the from-scratch comparison.
Loaded by path in the child, like ``torch_support.py``; never imports the rest of ``grader``.
"""

from __future__ import annotations

import hashlib

import torch

# A pretrained extractor reaches the student's build_model as a module built here from its architecture (torch.nn
# layers by name, with their arguments: data, as the weights file's metadata holds them) and its tensors, both sent
# by the grader: no course file needs to be in the child's view, and nothing of it is code.


def sequential(layers, state=None) -> torch.nn.Module:
    """``nn.Sequential`` of the torch.nn layers ``layers`` ([class name, keyword arguments] each) holding the
    tensors of ``state`` (a dict by state-dict name); without ``state``, torch's own initialisation, drawn from
    the caller's seed (the from-scratch comparison's extractor)."""
    module = torch.nn.Sequential(*(getattr(torch.nn, name)(**kwargs) for name, kwargs in layers))
    if state is not None:
        module.load_state_dict(state)
    return module


def _digest(t: torch.Tensor) -> str:
    t = torch.Tensor.detach(t).cpu().contiguous()
    return hashlib.sha256(f"{t.dtype}{tuple(t.shape)}".encode() + t.reshape(-1).view(torch.uint8).numpy().tobytes()
                          ).hexdigest()


def inventory(model, part, before=None, images=None) -> dict:
    """What the frozen-feature checks read of ``model`` and of the pretrained ``part`` it was built around: the
    SHA-256 of each of the part's parameters and buffers and of the model's other tensors, how many parameters of
    each require gradients, whether ``part`` is inside ``model`` at all; given an earlier inventory ``before``, how
    many of each changed since (a tensor of the others that is new counts as changed); given ``images``, how many
    scores the model gives each (in evaluation mode, without gradients, every module's mode restored after).
    Computed in the student's process, as every check of a model there is: a deterrent against code that edits
    the interpreter's state, not a guarantee."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"build_model must return a torch.nn.Module, not {type(model).__name__}")
    own = {id(t) for t in (*part.parameters(), *part.buffers())}
    others = [t for t in (*model.parameters(), *model.buffers()) if id(t) not in own]
    found = {"parameters": [_digest(t) for t in part.parameters()], "buffers": [_digest(t) for t in part.buffers()],
             "others": [_digest(t) for t in others],
             "part_trainable": sum(p.requires_grad for p in part.parameters()),
             "others_trainable": sum(p.requires_grad for p in model.parameters() if id(p) not in own),
             "inside": int(any(m is part for m in model.modules()))}
    if before is not None:
        for kind in ("parameters", "buffers"):
            found[f"{kind}_changed"] = sum(a != b for a, b in zip(found[kind], before[kind]))
        found["others_changed"] = len(set(found["others"]) - set(before["others"]))
    if images is not None:
        modes = [(m, m.training) for m in model.modules()]
        with torch.no_grad():
            found["classes"] = model.eval()(images).shape[-1]
        for m, training in modes:
            m.training = training
    return found


def unfrozen(module) -> None:
    """Every parameter of ``module`` trainable: the from-scratch comparison trains the whole network."""
    module.requires_grad_(True)


BUILTINS = {"sequential": sequential, "inventory": inventory, "unfrozen": unfrozen}
