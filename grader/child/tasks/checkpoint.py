"""Builtins of assignment 10's programs (``builtin:checkpoint.<name>``): the grader's model, optimiser and
scheduler, training them for some epochs, a checkpoint's files carried to a fresh child, scripted epochs for
early stopping. Loaded by path in the child, like ``torch_support.py``; never imports the rest of ``grader``.
"""

from __future__ import annotations

import enum
import io
import os
import shutil
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

try:  # as grader.child.tasks.checkpoint, in the grader (its references run the same code)
    from ..torch_support import is_tensor
except ImportError:  # loaded by path in the child, after program.py has loaded torch_support
    from dlgrade_torch_support import is_tensor  # type: ignore[no-redef]


# The model, optimiser and scheduler a checkpoint holds are the grader's, built from a case's seed and
# hyper-parameters by this same code in the child that saves, in the fresh child that loads, and in the grader
# (grader/suites/checkpoint.py's reference): on the CPU a resumed run and an uninterrupted one then agree bit for bit.


class OptimizerKind(str, enum.Enum):
    SGD = "sgd"  # with momentum: its buffers are state that a checkpoint must hold
    ADAM = "adam"
    ADAMW = "adamw"
    RMSPROP = "rmsprop"


class SchedulerKind(str, enum.Enum):
    STEP = "step"
    COSINE = "cosine"
    ONE_CYCLE = "one_cycle"


OPTIMIZERS = {
    OptimizerKind.SGD: lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    OptimizerKind.ADAM: lambda params, lr: torch.optim.Adam(params, lr=lr),
    OptimizerKind.ADAMW: lambda params, lr: torch.optim.AdamW(params, lr=lr, weight_decay=0.05),
    OptimizerKind.RMSPROP: lambda params, lr: torch.optim.RMSprop(params, lr=lr, momentum=0.5),
}
# Schedulers that count epochs themselves, so that one restarted from scratch shows (an ExponentialLR would carry on
# from the optimiser's learning rate alone). One-cycle sets the momentum too; stepped once per epoch, it is given one
# step more than the epochs, as the last epoch's step computes the rate of an epoch that never runs.
STEP_SIZE = 3  # StepLR's epochs between decays
SCHEDULERS = {
    SchedulerKind.STEP: lambda opt, epochs: torch.optim.lr_scheduler.StepLR(opt, step_size=STEP_SIZE, gamma=0.5),
    SchedulerKind.COSINE: lambda opt, epochs: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs),
    SchedulerKind.ONE_CYCLE: lambda opt, epochs: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=opt.param_groups[0]["lr"], total_steps=epochs + 1),
}
CHECKPOINT_BYTES = 16 << 20  # what one checkpoint's files may take: state dicts of a small model take kilobytes


def mlp(seed, inputs, hidden, classes) -> torch.nn.Module:
    """Linear, tanh, linear, initialised from ``seed`` (the caller's own torch generator left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return torch.nn.Sequential(torch.nn.Linear(int(inputs), int(hidden)), torch.nn.Tanh(),
                                   torch.nn.Linear(int(hidden), int(classes)))


def training_objects(seed, x, classes, hidden, optimizer, lr, scheduler, epochs) -> tuple:
    """(model, optimizer, scheduler) of a case: an MLP for the rows of ``x``, the optimiser and scheduler named."""
    model = mlp(seed, x.shape[1], hidden, classes)
    opt = OPTIMIZERS[OptimizerKind(optimizer)](model.parameters(), float(lr))
    return model, opt, SCHEDULERS[SchedulerKind(scheduler)](opt, int(epochs))


def train_epochs(model, optimizer, scheduler, x, y, batch, stop, start=0) -> np.ndarray:
    """Epochs ``start`` to ``stop - 1`` over ``x`` and its classes ``y``, in batches of ``batch`` rows in order: a
    step of cross-entropy per batch, a step of the scheduler per epoch. Returns each epoch's learning rate.
    ``start`` is the epoch ``load_checkpoint`` returned: an int (or a tensor holding one)."""
    if is_tensor(start) and start.numel() == 1 and not start.is_floating_point():
        start = start.item()
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
        raise TypeError(f"load_checkpoint must return the epoch to resume from, an int; it returned "
                        f"{type(start).__name__}")
    inputs, labels, batch = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y).long(), int(batch)
    rates = []
    for _ in range(int(start), int(stop)):
        rates.append(optimizer.param_groups[0]["lr"])
        for i in range(0, len(inputs), batch):
            optimizer.zero_grad()
            F.cross_entropy(model(inputs[i:i + batch]), labels[i:i + batch]).backward()
            optimizer.step()
        scheduler.step()
    return np.array(rates, dtype=np.float64)


def parameters(model) -> np.ndarray:
    """Every parameter of ``model``, flattened and concatenated."""
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()


def checkpoint_folder(path, carried=None) -> None:
    """Empty the folder of ``path`` (made where missing): a checkpoint left by an earlier case must not count.
    In the fresh child that resumes, write back into it the files that ``checkpoint_files`` carried."""
    folder = os.path.dirname(path)
    assert folder, "a checkpoint's path names a folder of its own"
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    if carried is not None:
        with zipfile.ZipFile(io.BytesIO(carried.tobytes())) as archive:
            for name in archive.namelist():
                with open(os.path.join(folder, os.path.basename(name)), "wb") as file:
                    file.write(archive.read(name))


def checkpoint_files(path) -> np.ndarray:
    """The files ``save_checkpoint`` wrote in the folder of ``path`` (one, or several side by side), as the bytes of
    one zip archive, each checked first to load with ``torch.load(..., weights_only=True)``: the only way the
    grader ever opens a checkpoint, here in the student's own process."""
    folder = os.path.dirname(path)
    names = sorted(os.listdir(folder))
    if not names:
        raise ValueError(f"save_checkpoint wrote no file: nothing in {folder}/ after it returned")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            file = os.path.join(folder, name)
            if os.path.islink(file) or not os.path.isfile(file):
                raise ValueError(f"{folder}/{name} is not a regular file: a checkpoint is files beside its path")
            try:
                torch.load(file, map_location="cpu", weights_only=True)
            except Exception as e:  # noqa: BLE001 - whatever the file holds, it cannot be loaded safely
                raise ValueError(f"{folder}/{name} cannot be loaded with torch.load(path, weights_only=True) "
                                 f"({type(e).__name__}): save state dicts and plain numbers "
                                 f"(model.state_dict(), not the model itself)") from None
            archive.write(file, name)
            if buffer.tell() > CHECKPOINT_BYTES:
                raise ValueError(f"the checkpoint takes more than {CHECKPOINT_BYTES >> 20} MiB: save the state "
                                 f"dicts, not the data")
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy()


class _ScriptedEpochs:
    """The grader's side of ``fit``: ``train_epoch(model)`` sets the model's parameters to the next epoch's
    scripted weights, in place as an optimiser's step does (so a state dict kept without a copy changes with
    them), and ``validate(model)`` gives that epoch's scripted loss."""

    def __init__(self, weights: np.ndarray, losses: np.ndarray):
        self.weights, self.losses, self.trained = weights, losses, 0

    def train_epoch(self, model) -> None:
        if self.trained == len(self.weights):
            raise ValueError(f"train_epoch was called more than max_epochs = {len(self.weights)} times")
        flat = torch.from_numpy(self.weights[self.trained])
        sizes = [p.numel() for p in model.parameters()] if isinstance(model, torch.nn.Module) else []
        if sum(sizes) != flat.numel():
            raise TypeError("train_epoch must be given the model that fit was given")
        with torch.no_grad():  # not vector_to_parameters, which replaces each parameter's data instead
            for p, w in zip(model.parameters(), flat.split(sizes)):
                p.copy_(w.view_as(p))
        self.trained += 1

    def validate(self, model) -> float:
        if not self.trained:
            raise ValueError("validate was called before the first train_epoch: each epoch trains, then validates")
        return float(self.losses[self.trained - 1])


def scripted_training(seed, inputs, hidden, classes, weights, losses) -> tuple:
    """(model, train_epoch, validate) for ``fit``: the MLP, and epochs whose weights and losses are the case's."""
    script = _ScriptedEpochs(weights, losses)
    return mlp(seed, inputs, hidden, classes), script.train_epoch, script.validate


BUILTINS = {"training_objects": training_objects, "train_epochs": train_epochs, "parameters": parameters,
            "checkpoint_folder": checkpoint_folder, "checkpoint_files": checkpoint_files,
            "scripted_training": scripted_training}
