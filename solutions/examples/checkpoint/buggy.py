"""Assignment 10, a plausible first attempt with some classic mistakes."""

import torch


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    # BUG: optimizer-state-not-saved
    torch.save({"model": model.state_dict(), "scheduler": scheduler.state_dict(), "epoch": epoch}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    scheduler.load_state_dict(state["scheduler"])
    return state["epoch"]


def early_stopping(val_losses, patience, min_delta=0.0):
    best_epoch, waited = 0, 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best_epoch]:  # BUG: min-delta-ignored
            best_epoch, waited = epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return -1, best_epoch


def fit(model, train_epoch, validate, max_epochs, patience, min_delta=0.0):
    losses, best_weights = [], None
    for epoch in range(max_epochs):
        train_epoch(model)
        losses.append(validate(model))
        stop, best = early_stopping(losses, patience, min_delta)
        if best == epoch:
            best_weights = model.state_dict()  # BUG: last-weights-restored
        if stop >= 0:
            break
    model.load_state_dict(best_weights)
    return stop, best
