"""Assignment 10, written another way: one file per state dict beside ``path``, early stopping with a counter."""

import torch

PARTS = ("model", "optimizer", "scheduler")


def _file(path, part):
    return path if part == "model" else f"{path}.{part}"


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    for part, obj in zip(PARTS, (model, optimizer, scheduler)):
        state = obj.state_dict()
        if part == "model":
            state = {"weights": state, "epoch": torch.tensor(epoch)}
        torch.save(state, _file(path, part))


def load_checkpoint(path, model, optimizer, scheduler):
    epoch = None
    for part, obj in zip(PARTS, (model, optimizer, scheduler)):
        state = torch.load(_file(path, part), map_location="cpu", weights_only=True)
        if part == "model":
            state, epoch = state["weights"], int(state["epoch"])
        obj.load_state_dict(state)
    return epoch


def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, bad_epochs = float("inf"), -1, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:  # the first epoch always: nothing is below inf
            best, best_epoch, bad_epochs = loss, epoch, 0
            continue
        bad_epochs += 1
        if bad_epochs == patience:
            return epoch, best_epoch
    return -1, best_epoch


def fit(model, train_epoch, validate, max_epochs, patience, min_delta=0.0):
    history, kept = [], {}
    for epoch in range(max_epochs):
        train_epoch(model)
        history.append(validate(model))
        stop, best = early_stopping(history, patience, min_delta)
        if best == epoch:
            kept = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
        if stop != -1:
            break
    model.load_state_dict(kept)
    return stop, best
