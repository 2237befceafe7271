"""Hidden suite of assignment 10 (checkpoint): saving a training run and
resuming it in a fresh process, and early stopping.

**Resuming** (``save_checkpoint`` and ``load_checkpoint``, graded together: the
format is the student's own). The model, optimiser and scheduler are the
grader's, built in the child from the case (an MLP initialised from the case's
seed, SGD with momentum, Adam, AdamW or RMSprop, a StepLR, cosine or one-cycle
schedule: ``training_objects`` in grader/child/tasks/checkpoint.py). The child
trains them for ``saved_at`` epochs and calls ``save_checkpoint``, and ends. A
fresh child (a new process of the submission's sandbox, which never held the
objects saved: ``Program.then``) builds everything anew from the same seed,
calls ``load_checkpoint`` and trains from the epoch it returns to the last
one. Its final parameters, the learning rate of every epoch after resuming and
the epoch returned are compared with an uninterrupted run of all the epochs,
made in the grader by the same code. On the CPU the two agree bit for bit, so
the tolerance is zero: a checkpoint restores state exactly or not at all.

The checkpoint's files (every file in the folder of ``path``, so a save may
write several side by side) go from the first child to the second as the bytes
of one zip archive, through this submission's own sandbox only: the grader
holds them as an array of uint8, never writes them to its disk and never
unpickles them. Each file is opened once, in the saving child, with
``torch.load(..., weights_only=True)``; one that needs full unpickling (a whole
model or optimiser saved, a class of the student's own) fails the case with a
message saying so. Each child starts from an emptied folder, so a checkpoint of
an earlier case never counts.

On a GPU the suite still runs on the CPU (``Suite.gpu`` is False): a checkpoint
holds nothing device-specific and the model is tiny. A CUDA run compared with
this CPU reference would need a band instead of bit identity. As a stand-in
for a GPU's other rounding (no GPU was at hand to measure on): moving every
initial weight by one float32 ulp moves the final parameters of these cases by
at most 8e-7 (80 draws, on the CPU), a sixtieth of what the default tolerance
(rtol 1e-4, atol 1e-5) allows, while every catalogued bug moves them by 1e-2
or more: that tolerance would be the band.

**Early stopping** (``early_stopping(val_losses, patience, min_delta) ->
(stop_epoch, best_epoch)``): validation curves built move by move relative to
the best loss so far (improvements, changes smaller than ``min_delta`` either
way, clear setbacks, ties), so that each case separates the rule from the
catalogued mistakes whatever the seed draws; the reference is the rule itself,
written below. **``fit``** runs it on a real model: the grader's
``train_epoch`` sets the parameters to scripted weights in place, as an
optimiser's step would, and ``validate`` gives the curve's loss; after ``fit``
returns, the model must hold the weights of the best epoch.
"""

from __future__ import annotations

import enum
from typing import Any, Callable, Mapping

import numpy as np

from grader.child.tasks.checkpoint import (
    STEP_SIZE,
    OptimizerKind,
    SchedulerKind,
    parameters,
    train_epochs,
    training_objects,
)
from grader.spec import (
    BugCatalogue,
    Case,
    Expected,
    GradedFunction,
    Limits,
    Program,
    Returned,
    Stack,
    Suite,
    Tolerance,
    call,
)
from grader.suites.inputs import normal, seed, uniform32

# The hints of this suite's catalogued bugs, prose kept in hints/checkpoint.toml.
bug = BugCatalogue(__file__)

# --------------------------------------------------------------------------- resuming from a checkpoint

PATH = "checkpoint/last.pt"  # in the child's own folder; a save may write other files beside it

# (name, optimiser, scheduler, learning rate, epochs, epochs before saving: None to draw it)
RESUMES = (
    ("SGD with momentum, StepLR", OptimizerKind.SGD, SchedulerKind.STEP, 0.1, 8, None),
    ("Adam, cosine annealing", OptimizerKind.ADAM, SchedulerKind.COSINE, 0.02, 7, None),
    ("AdamW, one-cycle, saved after the first epoch", OptimizerKind.ADAMW, SchedulerKind.ONE_CYCLE, 0.03, 6, 1),
    ("RMSprop with momentum, StepLR, saved before the last epoch", OptimizerKind.RMSPROP, SchedulerKind.STEP, 0.005,
     8, 7),
)


def _resume_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, optimizer, scheduler, lr, epochs, saved_at in RESUMES:
        rows, features, classes = int(rng.integers(18, 31)), int(rng.integers(3, 7)), 3
        if saved_at is None:
            # Saved after a multiple of StepLR's step size, a schedule started over would decay at the same epochs.
            choices = [k for k in range(2, epochs - 1) if scheduler is not SchedulerKind.STEP or k % STEP_SIZE]
            saved_at = int(rng.choice(choices))
        cases.append(Case(name, {
            "seed": seed(rng), "x": normal(rng, (rows, features)).astype(np.float32),
            "y": rng.integers(0, classes, rows), "classes": classes, "hidden": int(rng.integers(4, 9)),
            "batch": -(-rows // 3), "optimizer": optimizer, "lr": lr, "scheduler": scheduler, "epochs": epochs,
            "saved_at": saved_at, "path": PATH,
        }, points=2.5))
    return cases


_OBJECTS = call("builtin:checkpoint.training_objects", "seed", "x", "classes", "hidden", "optimizer", "lr", "scheduler",
                "epochs")
_MADE = (Returned(1, 0), Returned(1, 1), Returned(1, 2))  # what _OBJECTS returned, the second call of each part

RESUME_PROGRAM = Program(
    (call("builtin:checkpoint.checkpoint_folder", "path"), _OBJECTS,
     call("builtin:checkpoint.train_epochs", *_MADE, "x", "y", "batch", "saved_at"),
     call("save_checkpoint", "path", *_MADE, "saved_at"),
     call("builtin:checkpoint.checkpoint_files", "path")),
    {"checkpoint": Returned(4)},
    then=Program(
        (call("builtin:checkpoint.checkpoint_folder", "path", "checkpoint"), _OBJECTS,
         call("load_checkpoint", "path", *_MADE),
         call("builtin:checkpoint.train_epochs", *_MADE, "x", "y", "batch", "epochs", start=Returned(2)),
         call("builtin:checkpoint.parameters", Returned(1, 0))),
        {"parameters": Returned(4), "learning_rates": Returned(3), "epoch": Returned(2)}),
)


def _objects(inputs: Mapping[str, Any]) -> tuple:
    return training_objects(*(inputs[name] for name in ("seed", "x", "classes", "hidden", "optimizer", "lr",
                                                          "scheduler", "epochs")))


def _train(inputs: Mapping[str, Any], objects: tuple, start: int, stop: int) -> np.ndarray:
    model, optimizer, scheduler = objects
    return train_epochs(model, optimizer, scheduler, inputs["x"], inputs["y"], inputs["batch"], stop, start=start)


def _departs(saved_at: int) -> Callable[[int], str]:
    def note(i: int) -> str:
        if i == 0:
            return f"the learning rate differs already in the first epoch after resuming (epoch {saved_at})"
        return (f"the learning rate follows the uninterrupted run for {i} epoch{'s' * (i > 1)} after resuming at "
                f"epoch {saved_at}, then differs at epoch {saved_at + i}")

    return note


def _uninterrupted(inputs: Mapping[str, Any]) -> dict:
    """Every epoch in one go, with no checkpoint: what resuming must give."""
    objects = _objects(inputs)
    rates = _train(inputs, objects, 0, inputs["epochs"])
    saved_at = inputs["saved_at"]
    return {"parameters": parameters(objects[0]), "epoch": np.asarray(saved_at),
            "learning_rates": Expected(rates[saved_at:], departs=_departs(saved_at))}


class Part(enum.IntEnum):
    """What a checkpoint restores, by its place in what ``training_objects`` returns."""

    MODEL = 0
    OPTIMIZER = 1
    SCHEDULER = 2


def _resumed(restored: tuple[Part, ...], late: int = 0):
    """A bug's outputs: the run saved after ``saved_at`` epochs, resumed ``late`` epochs after that in fresh
    objects of which only the ``restored`` ones get back the state the first ones reached."""

    def reference(inputs: Mapping[str, Any]) -> dict:
        saved_at = inputs["saved_at"]
        first, fresh = _objects(inputs), _objects(inputs)
        _train(inputs, first, 0, saved_at)
        for part in restored:
            fresh[part].load_state_dict(first[part].state_dict())
        rates = _train(inputs, fresh, saved_at + late, inputs["epochs"])
        return {"parameters": parameters(fresh[0]), "learning_rates": rates, "epoch": np.asarray(saved_at + late)}

    return reference


RESUME = GradedFunction(
    name="save_checkpoint and load_checkpoint", points=10,
    program=RESUME_PROGRAM,
    cases=_resume_cases,
    reference=_uninterrupted,
    tolerance=Tolerance(rtol=0.0, atol=0.0),
    bugs=(
        bug("optimizer-state-not-saved", _resumed(restored=(Part.MODEL, Part.SCHEDULER))),
        bug("scheduler-state-not-saved", _resumed(restored=(Part.MODEL, Part.OPTIMIZER))),
        bug("epoch-off-by-one", _resumed(restored=tuple(Part), late=1)),
    ),
)

# --------------------------------------------------------------------------- early stopping

# How each move of a curve sets the next loss, in units of min_delta (of CLEAR where min_delta is 0), relative to
# the best loss so far under the rule: "I" improves on it by 2-4, "W" is worse by 2-4, "w" worse by less than 1
# (an improvement only for a rule that adds min_delta), "s" lower than every loss since the best but by less than
# 1 in all (an improvement only for a rule that ignores min_delta), "t" ties it; "u" is above the loss before it by
# less than a half (after an "s": an improvement only for a rule that adds min_delta to the best it moved to).
# Every loss stays at least a twentieth of min_delta from a threshold, so float32 and float64 arithmetic decide alike.
CLEAR = 0.05
SMALL_STEPS = 5  # "s" moves in a row at most: five of at most 0.15 each stay below min_delta


def curve(rng: np.random.Generator, moves: str, min_delta: float) -> np.ndarray:
    """A validation curve: a first loss, then one loss per move."""
    unit = min_delta or CLEAR
    best = lowest = uniform32(rng, 1.5, 2.5)
    losses = [best]
    for move in moves:
        if move == "I":
            best = lowest = best - unit * rng.uniform(2, 4)
            loss = best
        elif move == "W":
            loss = best + unit * rng.uniform(2, 4)
        elif move == "w":
            loss = best + min_delta * rng.uniform(0.2, 0.8)
        elif move == "s":
            lowest = loss = lowest - min_delta * rng.uniform(0.05, 0.15)
        elif move == "u":
            loss = losses[-1] + min_delta * rng.uniform(0.2, 0.5)
        else:  # "t"
            loss = best
        losses.append(loss)
    return np.asarray(losses, dtype=np.float32).astype(np.float64)


def stopping(losses, patience: int, min_delta: float, *, improves=lambda loss, best, delta: loss < best - delta,
             from_start: bool = False) -> tuple[int, int]:
    """The rule: (the epoch at which ``patience`` epochs in a row have not improved on the best loss by more than
    ``min_delta``, or -1 when the curve ends first; the best epoch up to then). ``improves`` and ``from_start``
    (patience counted from epoch 0 instead of the best epoch) describe the catalogued mistakes."""
    kept, waited = 0, 0  # the best epoch so far, and the epochs since the one that patience counts from
    for epoch, loss in enumerate(losses[1:], start=1):
        waited += 1
        if improves(loss, losses[kept], min_delta):
            kept = epoch
            waited = waited if from_start else 0
        elif waited >= patience:
            return epoch, kept
    return -1, kept


def _noisy_moves(rng: np.random.Generator, length: int) -> str:
    """Moves of every kind at random, at most SMALL_STEPS "s" between two improvements."""
    moves, small = [], 0
    for move in rng.choice(list("IIWWws"), size=length):
        small = 0 if move == "I" else small + (move == "s")
        moves.append("W" if small > SMALL_STEPS else str(move))
    return "".join(moves)


def _stopping_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, moves: str, patience: int, min_delta: float) -> Case:
        return Case(name, {"val_losses": curve(rng, moves, min_delta), "patience": patience, "min_delta": min_delta})

    delta = uniform32(rng, 0.005, 0.02)
    p = int(rng.integers(3, 5))
    return [
        case("improving to the end: never stops", "I" * int(rng.integers(8, 13)), int(rng.integers(2, 4)), delta),
        case("a plateau after improving", "IIIII" + "W" * 6, p, delta),
        case("improvements smaller than min_delta", "III" + "s" * SMALL_STEPS + "uWW", 3, delta),
        case("losses worse than the best by less than min_delta", "IIII" + "w" * 6, 3, delta),
        case("an improvement just before patience runs out", "I" + ("W" * (p - 1) + "I") * 3 + "W" * p, p, delta),
        case("a noisy curve", _noisy_moves(rng, int(rng.integers(20, 31))), int(rng.integers(2, 4)), delta),
        case("min_delta 0, a tie with the best", "IIIIWtIW", 2, 0.0),
    ]


# The two epochs are one output: a catalogued mistake is recognised when both are its, never from a lone -1 that
# a rule which never stops shares with one.
EPOCHS = "(stop_epoch, best_epoch)"


def _stopped(**mistake):
    def reference(inputs: Mapping[str, Any]) -> dict:
        stop, best = stopping(inputs["val_losses"], inputs["patience"], inputs["min_delta"], **mistake)
        return {EPOCHS: np.asarray([stop, best])}

    return reference


EARLY_STOPPING = GradedFunction(
    name="early_stopping", points=7,
    program=Program((call("early_stopping", "val_losses", "patience", "min_delta"),),
                    {EPOCHS: Stack((Returned(0, 0), Returned(0, 1)))}),
    cases=_stopping_cases,
    reference=_stopped(),
    bugs=(
        bug("patience-from-first-epoch", _stopped(from_start=True)),
        bug("min-delta-ignored", _stopped(improves=lambda loss, best, delta: loss < best)),
        bug("min-delta-wrong-sign", _stopped(improves=lambda loss, best, delta: loss < best + delta)),
    ),
)

# --------------------------------------------------------------------------- fit: early stopping on a real model

FEATURES, HIDDEN, CLASSES = 4, 5, 3
WEIGHTS = (FEATURES + 1) * HIDDEN + (HIDDEN + 1) * CLASSES  # the parameters of tasks/checkpoint.py's mlp


def _fit_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, moves: str, patience: int, min_delta: float) -> Case:
        losses = curve(rng, moves, min_delta)
        return Case(name, {"seed": seed(rng), "inputs": FEATURES, "hidden": HIDDEN, "classes": CLASSES,
                           "weights": normal(rng, (len(losses), WEIGHTS)).astype(np.float32), "val_losses": losses,
                           "max_epochs": len(losses), "patience": patience, "min_delta": min_delta})

    delta = uniform32(rng, 0.005, 0.02)
    return [
        case("stops on a plateau: the best epoch is well before the last", "IIIII" + "WWsWWW", 4, delta),
        case("the best epoch is the first", "WWWW", 3, delta),
        case("a noisy curve", _noisy_moves(rng, int(rng.integers(15, 25))), 3, delta),
        case("never stops: the best epoch is the last", "I" * int(rng.integers(5, 9)), 3, delta),
    ]


def _fitted(inputs: Mapping[str, Any]) -> dict:
    """The rule's epochs, and the weights of the best epoch."""
    stop, best = stopping(inputs["val_losses"], inputs["patience"], inputs["min_delta"])
    return {EPOCHS: np.asarray([stop, best]), "restored": inputs["weights"][best]}


def _last_trained(inputs: Mapping[str, Any]) -> dict:
    """The weights of the last epoch trained: the one the rule stops at, or the last of all."""
    stop, _ = stopping(inputs["val_losses"], inputs["patience"], inputs["min_delta"])
    return {"restored": inputs["weights"][stop if stop >= 0 else inputs["max_epochs"] - 1]}


FIT = GradedFunction(
    name="fit", points=4,
    program=Program(
        (call("builtin:checkpoint.scripted_training", "seed", "inputs", "hidden", "classes", "weights", "val_losses"),
         call("fit", Returned(0, 0), Returned(0, 1), Returned(0, 2), "max_epochs", "patience", "min_delta"),
         call("builtin:checkpoint.parameters", Returned(0, 0))),
        {EPOCHS: Stack((Returned(1, 0), Returned(1, 1))), "restored": Returned(2)}),
    cases=_fit_cases,
    reference=_fitted,
    bugs=(
        bug("last-weights-restored", _last_trained),
    ),
)

SUITE = Suite(
    folder="10_checkpoint",
    title="Checkpoints: saving and resuming training, and early stopping",
    functions=(RESUME, EARLY_STOPPING, FIT),
    # torch is the point here, and in the view; every child runs on the CPU. The zygote preloads torch._dynamo,
    # which the first use of an optimiser imports (2-4 s): else each of a resumed run's two children would.
    limits=Limits(forbidden_modules=("tensorflow", "jax", "keras"), preload=("numpy", "torch", "torch._dynamo"),
                  packages=("numpy", "torch")),
)
