"""Checkpoint written through an open file object, nested as
{"states": {...}, "meta": {...}}; early stopping found from the gaps between
successive improvements; fit keeps a whole copy.deepcopy of the model and
loads its state dict back at the end."""
import copy
import itertools

import torch

BUG = ("early_stopping", "losses[epoch] < losses[best] - min_delta", "losses[epoch] < losses[best] + min_delta")


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    states = {"model": model.state_dict(), "optim": optimizer.state_dict(), "sched": scheduler.state_dict()}
    with open(path, "wb") as f:
        torch.save({"states": states, "meta": {"epochs_done": int(epoch)}}, f)


def load_checkpoint(path, model, optimizer, scheduler):
    with open(path, "rb") as f:
        saved = torch.load(f, map_location="cpu", weights_only=True)
    states = saved["states"]
    model.load_state_dict(states["model"])
    optimizer.load_state_dict(states["optim"])
    scheduler.load_state_dict(states["sched"])
    return saved["meta"]["epochs_done"]


def _improvements(losses, min_delta):
    """The epochs that improve on the best before them (epoch 0 first)."""
    best = 0
    yield best
    for epoch in range(1, len(losses)):
        if losses[epoch] < losses[best] - min_delta:
            best = epoch
            yield epoch


def early_stopping(val_losses, patience, min_delta=0.0):
    improved = list(_improvements(list(val_losses), min_delta))
    for last, following in itertools.pairwise(improved):
        if following - last > patience:  # patience ran out between these two
            return last + patience, last
    last = improved[-1]
    if last + patience < len(val_losses):
        return last + patience, last
    return -1, last


def fit(model, train_epoch, validate, max_epochs, patience, min_delta=0.0):
    seen = []
    best_model = copy.deepcopy(model)
    stop_at, best_at = -1, 0
    for n in range(max_epochs):
        train_epoch(model)
        seen.append(float(validate(model)))
        stop_at, best_at = early_stopping(seen, patience, min_delta)
        if best_at == n:
            best_model = copy.deepcopy(model)
        if stop_at > -1:
            break
    model.load_state_dict(best_model.state_dict())
    return stop_at, best_at
