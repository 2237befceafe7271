"""Public checks for assignment 10. Run them with ``pytest test_public.py`` in this folder.

They train a small model for a few epochs, checkpoint it, resume in new
objects and compare with a run that never stopped (here in one process; the
grader resumes in a new process, from your files alone), and check early
stopping on curves you can work out by hand. Passing them is a good sign, not
a guarantee: the grader uses other optimisers, schedulers and curves.
"""

import torch
import torch.nn.functional as F
from checkpoint import early_stopping, fit, load_checkpoint, save_checkpoint

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]


def new_run():
    """A model, its optimiser and its scheduler, the same every time."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def train(model, optimizer, scheduler, epochs):
    data = torch.Generator().manual_seed(1)
    x, y = torch.randn(16, 3, generator=data), torch.randint(0, 2, (16,), generator=data)
    for _ in range(epochs):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        scheduler.step()


def saved_after(epochs, tmp_path):
    run = new_run()
    train(*run, epochs)
    (tmp_path / "checkpoint").mkdir()
    path = str(tmp_path / "checkpoint" / "last.pt")
    save_checkpoint(path, *run, epochs)
    return path


def test_save_checkpoint_writes_files_that_load_with_weights_only(tmp_path):
    saved_after(3, tmp_path)
    files = list((tmp_path / "checkpoint").iterdir())
    assert files, "save_checkpoint wrote no file"
    for file in files:
        torch.load(file, weights_only=True)  # raises when the file holds more than tensors, numbers, strings


def test_load_checkpoint_returns_the_epoch_saved(tmp_path):
    path = saved_after(3, tmp_path)
    assert load_checkpoint(path, *new_run()) == 3


def test_load_checkpoint_resumes_as_if_training_never_stopped(tmp_path):
    uninterrupted = new_run()
    train(*uninterrupted, 5)
    path = saved_after(3, tmp_path)
    resumed = new_run()
    epoch = load_checkpoint(path, *resumed)
    train(*resumed, 5 - epoch)
    for (name, expected), got in zip(uninterrupted[0].named_parameters(), resumed[0].parameters()):
        assert torch.equal(got, expected), f"{name} differs from the uninterrupted run's after resuming"
    assert resumed[1].param_groups[0]["lr"] == uninterrupted[1].param_groups[0]["lr"], \
        "the learning rate differs from the uninterrupted run's after resuming"


def test_early_stopping_by_hand():
    # 0.7 at epoch 2 is the best; epochs 3, 4 and 5 do not beat it: with patience 3, stop at epoch 5.
    assert tuple(early_stopping([1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9], patience=3, min_delta=0.0)) == (5, 2)


def test_early_stopping_with_min_delta():
    losses = [1.0, 0.9, 0.88, 0.87, 0.86]
    # Each epoch after the first improves by less than 0.05: epoch 1 stays the best, and patience runs out at 4.
    assert tuple(early_stopping(losses, patience=3, min_delta=0.05)) == (4, 1)
    # Without min_delta every epoch improves, and training never stops.
    assert tuple(early_stopping(losses, patience=3, min_delta=0.0)) == (-1, 4)


def test_fit_restores_the_best_weights():
    model = torch.nn.Linear(2, 1)
    losses = [0.9, 0.5, 0.7, 0.6, 0.8]
    epochs = []

    def train_epoch(model):
        with torch.no_grad():  # in place, as an optimiser's step: the weights of epoch e are all e
            for p in model.parameters():
                p.fill_(len(epochs))
        epochs.append(len(epochs))

    def validate(model):
        return losses[epochs[-1]]

    assert tuple(fit(model, train_epoch, validate, max_epochs=5, patience=2, min_delta=0.0)) == (3, 1)
    assert len(epochs) == 4, f"fit trained {len(epochs)} epochs; it should stop after epoch 3"
    for p in model.parameters():
        assert torch.all(p == 1), "after fit the model should hold the weights of the best epoch, 1"
