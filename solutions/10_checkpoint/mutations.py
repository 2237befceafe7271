"""The catalogued bugs of grader/suites/checkpoint.py made real: edits (old, new) of the solution, by bug name."""

MUTATIONS = {
    "optimizer-state-not-saved": (
        (' "optimizer": optimizer.state_dict(),', ""),
        ('    optimizer.load_state_dict(checkpoint["optimizer"])\n', ""),
    ),
    "scheduler-state-not-saved": (
        ('                  "scheduler": scheduler.state_dict(), "epoch": epoch}',
         '                  "epoch": epoch}'),
        ('    scheduler.load_state_dict(checkpoint["scheduler"])\n', ""),
    ),
    "epoch-off-by-one": (
        ('    return checkpoint["epoch"]\n', '    return checkpoint["epoch"] + 1\n'),
    ),
    "patience-from-first-epoch": (
        ("elif epoch - best_epoch >= patience:", "elif epoch >= patience:"),
    ),
    "min-delta-ignored": (
        ("val_losses[epoch] < val_losses[best_epoch] - min_delta", "val_losses[epoch] < val_losses[best_epoch]"),
    ),
    "min-delta-wrong-sign": (
        ("val_losses[best_epoch] - min_delta", "val_losses[best_epoch] + min_delta"),
    ),
    "last-weights-restored": (
        ("best_state = copy.deepcopy(model.state_dict())", "best_state = model.state_dict()"),
    ),
}
