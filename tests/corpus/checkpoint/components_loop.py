"""One loop over the three parts: the checkpoint is {name: part.state_dict()}
from a dict comprehension, the epoch kept as a 0-d tensor; early stopping by
the best loss and a counter of bad epochs; fit clones the best weights tensor
by tensor (detach().clone())."""
import torch

BUG = ("fit", "tensor.detach().clone()", "tensor.detach()")  # a view of the live weights, not a copy


def _parts(model, optimizer, scheduler):
    return {"net": model, "opt": optimizer, "sched": scheduler}


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    state = {name: part.state_dict() for name, part in _parts(model, optimizer, scheduler).items()}
    state["epoch"] = torch.tensor(epoch)
    torch.save(state, path)


def load_checkpoint(path, model, optimizer, scheduler):
    state = torch.load(path, weights_only=True)
    for name, part in _parts(model, optimizer, scheduler).items():
        part.load_state_dict(state[name])
    return int(state["epoch"])


def early_stopping(val_losses, patience, min_delta=0.0):
    best_loss, best_idx, bad = None, 0, 0
    for epoch, loss in enumerate(val_losses):
        if best_loss is None or loss < best_loss - min_delta:
            best_loss, best_idx, bad = loss, epoch, 0
            continue
        bad += 1
        if bad >= patience:
            return epoch, best_idx
    return -1, best_idx


def fit(model, train_epoch, validate, max_epochs, patience, min_delta=0.0):
    history, snapshot = [], None
    stop, best = -1, -1
    for i in range(max_epochs):
        train_epoch(model)
        history.append(validate(model))
        stop, best = early_stopping(history, patience, min_delta)
        if best == i:
            snapshot = {key: tensor.detach().clone() for key, tensor in model.state_dict().items()}
        if stop != -1:
            break
    if snapshot is not None:
        model.load_state_dict(snapshot)
    return stop, best
