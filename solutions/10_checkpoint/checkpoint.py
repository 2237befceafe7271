"""Assignment 10: checkpoints, resuming training, and early stopping, in PyTorch.

Long training runs get interrupted (a time limit on a cluster, a crash, a
laptop lid). A *checkpoint* holds everything needed to carry on as if nothing
had happened: not only the model's weights, but the optimiser's state (SGD's
momentum buffers, Adam's moment estimates and step count, the current
learning rate) and the learning-rate scheduler's (how many epochs it has
counted), and the number of epochs done. Resumed in a new process from a
checkpoint, training must give exactly the weights an uninterrupted run gives.

* ``save_checkpoint(path, model, optimizer, scheduler, epoch)`` and
  ``load_checkpoint(path, model, optimizer, scheduler) -> epoch``. Save state
  dicts (``model.state_dict()``, ...) and plain numbers with ``torch.save``,
  never whole objects: the grader opens your files only with
  ``torch.load(path, weights_only=True)``, which refuses to unpickle anything
  else (loading arbitrary pickles runs arbitrary code). ``path`` is in a
  folder of its own: one file is the usual way, but you may write others
  beside it.
* ``early_stopping(val_losses, patience, min_delta) -> (stop_epoch,
  best_epoch)``: when to stop training, given the validation loss of every
  epoch so far.
* ``fit(model, train_epoch, validate, max_epochs, patience, min_delta)``: a
  training loop that stops early by that rule and leaves the model with the
  weights of its best epoch.

Epochs are counted from 0. Use PyTorch (``torch``); the grader builds the
models, optimisers and schedulers, and runs everything on the CPU.
"""

import copy

import torch


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    """Write a checkpoint of a training run to ``path``.

    Args:
        path: the file to write (a ``str``), in a folder that exists.
        model: a ``torch.nn.Module``.
        optimizer: a ``torch.optim.Optimizer`` over the model's parameters.
        scheduler: a learning-rate scheduler of that optimiser
            (``torch.optim.lr_scheduler``), stepped once per epoch.
        epoch: the number of epochs completed (an ``int``), which is also the
            index of the next epoch to run.

    Returns:
        nothing. Every file written must load with
        ``torch.load(file, weights_only=True)``.
    """
    # BEGIN SOLUTION: torch.save a dict of the three state dicts and the epoch
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict(), "epoch": epoch}
    torch.save(checkpoint, path)
    # END SOLUTION


def load_checkpoint(path, model, optimizer, scheduler):
    """Restore a training run from the checkpoint ``save_checkpoint`` wrote
    to ``path``, possibly in another process: ``model``, ``optimizer`` and
    ``scheduler`` are new objects, built as the saved ones were.

    Args:
        path: the file ``save_checkpoint`` was given.
        model, optimizer, scheduler: updated in place to the saved state.

    Returns:
        epoch: the ``epoch`` that was saved (an ``int``): training resumes
        with ``for epoch in range(epoch, epochs)``.
    """
    # BEGIN SOLUTION: torch.load with weights_only=True, then load_state_dict into each of the three
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    return checkpoint["epoch"]
    # END SOLUTION


def early_stopping(val_losses, patience, min_delta=0.0):
    """When to stop training, by the validation loss of every epoch so far.

    An epoch *improves* when its loss is below the best loss of the epochs
    before it by more than ``min_delta``; epoch 0 is the first best. Training
    stops at the first epoch where ``patience`` epochs in a row have passed
    without an improvement.

    Args:
        val_losses: the validation loss of epochs 0, 1, ..., a sequence of floats.
        patience: how many epochs in a row without improvement to allow (an ``int`` >= 1).
        min_delta: how much lower than the best a loss must be to count as an
            improvement (a float >= 0).

    Returns:
        stop_epoch: the epoch at which to stop (the patience-th in a row
        without improvement), or -1 when that never happens in ``val_losses``.
        best_epoch: the epoch of the best loss up to ``stop_epoch`` (the last
        improvement), or up to the end when training does not stop.
    """
    # BEGIN SOLUTION: keep the best epoch; stop when the epochs since it reach the patience
    best_epoch = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best_epoch] - min_delta:
            best_epoch = epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return -1, best_epoch
    # END SOLUTION


def fit(model, train_epoch, validate, max_epochs, patience, min_delta=0.0):
    """Train with early stopping, and keep the best epoch's weights.

    Each epoch calls ``train_epoch(model)`` (one epoch of training, which
    updates the model's parameters in place) and then ``validate(model)``
    (its validation loss, a float). Stop at the epoch ``early_stopping`` says,
    or after ``max_epochs`` epochs; before returning, load the weights the
    model had at the end of the best epoch back into ``model``.

    Args:
        model: a ``torch.nn.Module``.
        train_epoch, validate: functions of the model, as above.
        max_epochs: the most epochs to train (an ``int``).
        patience, min_delta: as in ``early_stopping``.

    Returns:
        stop_epoch, best_epoch: as ``early_stopping`` gives them for the
        validation losses of the epochs trained.
    """
    # BEGIN SOLUTION: validate after every epoch, keep a copy of the best weights, load it back at the end
    losses, best_state = [], None
    stop_epoch = best_epoch = -1
    for epoch in range(max_epochs):
        train_epoch(model)
        losses.append(float(validate(model)))
        stop_epoch, best_epoch = early_stopping(losses, patience, min_delta)
        if best_epoch == epoch:
            best_state = copy.deepcopy(model.state_dict())
        if stop_epoch >= 0:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return stop_epoch, best_epoch
    # END SOLUTION
