"""A careful student: the checkpoint written to a temporary file and moved
into place with os.replace (a crash mid-save never leaves half a file);
early stopping as a list of the best epoch after each epoch, written as
"best - loss > min_delta"; fit keeps its own patience counter inline and
copies the best parameters back with p.copy_ under torch.no_grad()."""
import math
import os

import torch

BUG = ("load_checkpoint", "return start", "return start + 1")  # resumes one epoch late


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    payload = {
        "weights": model.state_dict(),
        "optimiser": optimizer.state_dict(),
        "lr_schedule": scheduler.state_dict(),
        "progress": {"next_epoch": epoch},
    }
    partial = path + ".partial"
    torch.save(payload, partial)
    os.replace(partial, path)


def load_checkpoint(path, model, optimizer, scheduler):
    payload = torch.load(path, weights_only=True)
    model.load_state_dict(payload["weights"])
    optimizer.load_state_dict(payload["optimiser"])
    scheduler.load_state_dict(payload["lr_schedule"])
    start = payload["progress"]["next_epoch"]
    return start


def early_stopping(val_losses, patience, min_delta=0.0):
    best_at = []  # best_at[e]: the best epoch among 0..e
    for epoch, loss in enumerate(val_losses):
        if not best_at or val_losses[best_at[-1]] - loss > min_delta:
            best_at.append(epoch)
        else:
            best_at.append(best_at[-1])
    for epoch, best in enumerate(best_at):
        if epoch - best >= patience:
            return epoch, best
    return -1, best_at[-1]


def fit(model, train_epoch, validate, max_epochs, patience, min_delta=0.0):
    best_loss, best_at, waited, stopped_at = math.inf, -1, 0, -1
    kept = None
    for e in range(max_epochs):
        train_epoch(model)
        loss = float(validate(model))
        if best_loss - loss > min_delta:
            best_loss, best_at, waited = loss, e, 0
            kept = [p.detach().clone() for p in model.parameters()]
            continue
        waited += 1
        if waited >= patience:
            stopped_at = e
            break
    if kept is not None:
        with torch.no_grad():
            for param, saved in zip(model.parameters(), kept):
                param.copy_(saved)
    return stopped_at, best_at
