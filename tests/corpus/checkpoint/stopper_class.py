"""The PyTorch-tutorial way: checkpoint keys "model_state_dict",
"optimizer_state_dict", ..., with the CPU RNG state saved and restored too;
an EarlyStopper class (best loss from inf, a counter, step(loss) -> stop?)
used by both early_stopping and fit; fit keeps the best weights serialised in
an io.BytesIO buffer."""
import io

import torch

BUG = ("early_stopping", "self.best_loss, self.best_epoch, self.counter = loss, self.epoch, 0",
       "self.best_loss, self.best_epoch = loss, self.epoch")  # the counter never starts again


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    torch.save({
        "epoch": epoch,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "scheduler_state_dict": scheduler.state_dict(),
        "rng_state": torch.get_rng_state(),
    }, path)


def load_checkpoint(path, model, optimizer, scheduler):
    ckpt = torch.load(path, map_location=torch.device("cpu"), weights_only=True)
    model.load_state_dict(ckpt["model_state_dict"])
    optimizer.load_state_dict(ckpt["optimizer_state_dict"])
    scheduler.load_state_dict(ckpt["scheduler_state_dict"])
    torch.set_rng_state(ckpt["rng_state"])
    return ckpt["epoch"]


class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = float("inf")
        self.best_epoch = -1
        self.counter = 0
        self.epoch = -1

    def step(self, loss):
        """Record one more epoch's loss; True when training should stop now."""
        self.epoch += 1
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.counter = loss, self.epoch, 0
        else:
            self.counter += 1
        return self.counter >= self.patience


def early_stopping(val_losses, patience, min_delta=0.0):
    stopper = EarlyStopper(patience, min_delta)
    for epoch, loss in enumerate(val_losses):
        if stopper.step(float(loss)):
            return epoch, stopper.best_epoch
    return -1, stopper.best_epoch


def fit(model, train_epoch, validate, max_epochs, patience, min_delta=0.0):
    stopper = EarlyStopper(patience, min_delta)
    best_weights = io.BytesIO()
    stop_epoch = -1
    for current in range(max_epochs):
        train_epoch(model)
        should_stop = stopper.step(validate(model))
        if stopper.best_epoch == current:
            best_weights = io.BytesIO()
            torch.save(model.state_dict(), best_weights)
        if should_stop:
            stop_epoch = current
            break
    best_weights.seek(0)
    model.load_state_dict(torch.load(best_weights, weights_only=True))
    return stop_epoch, stopper.best_epoch
