"""Grading a model that the student's own code builds and trains (``spec.Training``).

The steps are separate requests to the child, so that the grader's clock times
training alone: data in, then CUDA and cuDNN warmed up, the model built, the
timed training run (the child waits for the GPU before it answers), then
predictions on test images whose labels never leave this process. On a GPU a
second, one-epoch run measures throughput against the reference solution's,
measured in the same grading process. A task with a pretrained backbone is
then trained once more, from scratch (the same architecture, initialised at
random), on the same examples, and its margin over that run is graded. The
model itself never crosses the boundary: it is kept in the child between
requests.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

import numpy as np

from grader.child.protocol import Request
from grader.results import CaseResult, FunctionResult
from grader.spec import BUILTIN, Call, Device, Input, Kept, Mode, Program, Returned, StandIn, Tensor, Training, call


class TrainingCase(str, enum.Enum):
    """The cases of every training task's result, in the order reported (the
    otter export names its test cases after them)."""

    ACCURACY = "test accuracy"
    ON_GPU = "model on the GPU"
    TIME = "training time"
    THROUGHPUT = "throughput"
    MARGIN = "margin over training from scratch"  # a task with a backbone only


def training_cases(task: Training) -> list[tuple[str, float]]:
    """(case name, points) of a training task's result, in its order."""
    points = {TrainingCase.ACCURACY: task.accuracy_points, TrainingCase.ON_GPU: task.on_gpu_points,
              TrainingCase.TIME: task.time_points, TrainingCase.THROUGHPUT: task.throughput_points,
              TrainingCase.MARGIN: task.margin_points}
    return [(case.value, points[case]) for case in TrainingCase if case is not TrainingCase.MARGIN or task.backbone]


SETUP_TIME_LIMIT = 120.0  # seconds for each step that is not timed (data, warm-up, building, predicting)


def _step(*calls, outputs=None, keep=None, synchronize=False) -> Program:
    return Program(tuple(calls), outputs or {}, keep or {}, synchronize)


_SEED = call(f"{BUILTIN}seed_everything", "seed")
BACKBONE_LAYERS = "backbone_layers"  # the input holding a backbone's architecture; its tensors are "backbone:<name>"


def backbone_inputs(task: Training) -> dict:
    """The inputs that carry the task's backbone to the child (none without one)."""
    if task.backbone is None:
        return {}
    backbone = task.backbone()
    return {BACKBONE_LAYERS: backbone.layers, **{f"backbone:{k}": v for k, v in backbone.tensors.items()}}


def step_programs(task: Training) -> dict[str, Program]:
    # The pretrained backbone is built in the child with the data and kept there; build is given it.
    backbone = {name.partition(":")[2]: Tensor(name) for name in backbone_inputs(task) if name != BACKBONE_LAYERS}
    made = (Call(f"{BUILTIN}dict", kwargs=tuple(backbone.items())),
            call(f"{BUILTIN}backbone.sequential", BACKBONE_LAYERS, Returned(3))) if task.backbone else ()
    given = (Kept("backbone"),) if task.backbone else ()
    return {
        "data": _step(call(f"{BUILTIN}images", "train_images"), call(f"{BUILTIN}labels", "train_labels"),
                      call(f"{BUILTIN}images", "test_images"), *made,
                      keep={"train_images": Returned(0), "train_labels": Returned(1), "test_images": Returned(2),
                            **({"backbone": Returned(4)} if made else {})}),
        "warm_up": _step(call(f"{BUILTIN}warm_up", Device(), Kept("train_images"), "classes")),
        # Every step that runs the student's random code starts from the case's seed (random, numpy, torch on
        # the CPU and CUDA): a regrade of the same submission trains the same model to the same score.
        "build": _step(_SEED, call(task.build, *given), keep={"model": Returned(1)}),
        # The from-scratch comparison: the backbone's architecture at torch's initialisation, made trainable
        # after build froze it, in place of the model (train and predict then run as for the transfer).
        "scratch": _step(_SEED, call(f"{BUILTIN}backbone.sequential", BACKBONE_LAYERS), call(task.build, Returned(1)),
                         call(f"{BUILTIN}backbone.unfrozen", Returned(1)), keep={"model": Returned(2)}),
        "train": _step(_SEED, call(task.train, Kept("model"), Kept("train_images"), Kept("train_labels"), Device()),
                       call(f"{BUILTIN}floats", Returned(1)), outputs={"losses": Returned(2)}, synchronize=True),
        "predict": _step(call(f"{BUILTIN}placement", Kept("model")),
                         call(task.predict, Kept("model"), Kept("test_images"), Device()),
                         outputs={"placement": Returned(0), "predictions": Returned(1)}),
        "one_epoch": _step(_SEED, call(task.build, *given),
                           call(task.train, Returned(1), Kept("train_images"), Kept("train_labels"), Device(),
                                epochs=Input("epochs")), synchronize=True),
    }


@dataclass
class _Run:
    seconds: float | None = None  # training time, as the grader's clock saw it
    losses: np.ndarray | None = None
    error: str | None = None


def _request(box, program: Program, inputs: dict, mode: Mode, time_limit: float):
    started = time.perf_counter()
    outcome = box.run(Request(program, mode.device), inputs, time_limit)
    return outcome, time.perf_counter() - started


def _prepare(box, task: Training, data: dict, mode: Mode) -> str | None:
    """Data in, GPU warmed up, model built: the error that stopped it, if any."""
    for step in ("data", "warm_up", "build"):
        inputs = data if step == "data" else {"seed": data["seed"], "classes": task.classes}
        outcome, _ = _request(box, step_programs(task)[step], inputs, mode, SETUP_TIME_LIMIT)
        if not outcome.ok:
            return outcome.message
    return None


@dataclass
class ReferenceThroughput:
    """The reference solution's training throughput (images per second), by
    mode and training-set size: measured once and kept by whoever grades more
    than one submission in this process (a batch worker), since every
    submission of an assignment is compared with the same figure."""

    measured: dict[tuple[Mode, int], float] = field(default_factory=dict)


def _one_epoch(box, task: Training, n: int, mode: Mode, seed: int) -> float | str:
    """Training images per second over one epoch (built fresh, then trained), or the error."""
    outcome, seconds = _request(box, step_programs(task)["one_epoch"], {"epochs": 1, "seed": seed}, mode,
                                mode.time_limit)
    return n / seconds if outcome.ok else outcome.message


def shuffled(data: tuple, rng: np.random.Generator) -> tuple:
    """``data`` (see ``grade_training``) with the training and the test
    examples each in an order drawn from ``rng`` (the submission's own). A
    fixed split, such as MNIST's test set on a GPU, is the same for every
    submission, and its labels are public; its order need not be: answers
    listed in the split's own order score as guesses."""
    train_x, train_y, test_x, test_y, description = data
    train, test = rng.permutation(len(train_x)), rng.permutation(len(test_x))
    return train_x[train], train_y[train], test_x[test], test_y[test], description


def grade_training(task: Training, mode: Mode, data: tuple, student, reference, seed: int = 0,
                   throughput: ReferenceThroughput | None = None) -> tuple[FunctionResult, list[dict]]:
    """``data``: (train images, train labels, test images, test labels, what they are).
    ``seed``: what the student's random number generators start from before building and training.
    ``reference``: a lazily started sandbox of the reference solution (falsy when there is none).
    ``throughput``: the reference's throughput measured so far (a new one when not given).
    Returns the result and Gradescope leaderboard entries."""
    train_x, train_y, test_x, test_y, description = data
    inputs = {"train_images": train_x, "train_labels": train_y, "test_images": test_x, "seed": seed,
              **backbone_inputs(task)}
    gpu = mode.device == "cuda"
    notes = [f"{'GPU' if gpu else 'CPU'} mode: trained on {len(train_x)} images of {description}, tested on "
             f"{len(test_x)}"]
    if not gpu:
        notes.append("CPU mode: no CUDA GPU here, so a subset of the data and a smaller budget; the GPU-only "
                     "checks are skipped")
    run = _Run(error=_prepare(student, task, inputs, mode))
    if run.error is None:
        outcome, run.seconds = _request(student, step_programs(task)["train"], {"seed": seed}, mode,
                                        mode.time_limit)
        if outcome.ok:
            run.losses = outcome.outputs["losses"]
        else:
            run.error, run.seconds = outcome.message, None
    predicted = None
    if run.error is None:
        outcome, _ = _request(student, step_programs(task)["predict"], {}, mode, SETUP_TIME_LIMIT)
        if outcome.ok:
            predicted = outcome.outputs
        else:
            run.error = outcome.message

    cases = [_accuracy_case(task, mode, predicted, test_y, run)]
    placement = predicted["placement"] if predicted else None
    cases.append(_gpu_case(task, mode, placement, run))
    cases.append(_time_case(task, mode, run))
    measured = None
    if not gpu:
        cases.append(_skipped(TrainingCase.THROUGHPUT.value, task.throughput_points,
                              "GPU-only check: no CUDA GPU here"))
    elif run.error is not None:
        cases.append(CaseResult(TrainingCase.THROUGHPUT.value, 0.0, task.throughput_points,
                                ["not measured: training failed"]))
    else:
        measured = _one_epoch(student, task, len(train_x), mode, seed)
        case, note = _throughput_case(task, mode, measured, reference, throughput or ReferenceThroughput(),
                                      len(train_x), inputs)
        cases.append(case)
        notes.append(note)
    accuracy = cases[0].details.get("accuracy")
    if task.backbone:
        case, note = _margin_case(task, accuracy, _from_scratch(student, task, mode, seed, inputs), test_y)
        cases.append(case)
        notes.append(note)
    if isinstance(description, StandIn):
        judged = {TrainingCase.ACCURACY.value, TrainingCase.MARGIN.value}
        # Only what was measured: a run that failed keeps its failure.
        cases = [_skipped(c.name, c.max_score, f"not judged on {description}")
                 if c.name in judged and ("accuracy" in c.details or "margin" in c.details) else c for c in cases]
    if run.seconds is not None:
        reached = f" (time to {100 * accuracy:.2f}% test accuracy)" if accuracy is not None else ""
        notes.append(f"training took {run.seconds:.2f} s{reached}")
    leaderboard = []
    if run.seconds is not None and accuracy is not None:
        leaderboard = [{"name": "Test accuracy (%)", "value": round(100 * accuracy, 2)},
                       {"name": "Training time (s)", "value": round(run.seconds, 3), "order": "asc"}]
        if isinstance(measured, float):
            leaderboard.append({"name": "Images/s (one epoch)", "value": round(measured)})
    return FunctionResult(task.name, cases, notes), leaderboard


def _skipped(name: str, points: float, reason: str) -> CaseResult:
    return CaseResult(name, 0.0, points, skipped=reason)


def _accuracy_case(task: Training, mode: Mode, predicted: dict | None, labels: np.ndarray, run: _Run) -> CaseResult:
    name = TrainingCase.ACCURACY.value
    points = task.accuracy_points
    if predicted is None:
        return CaseResult(name, 0.0, points, [run.error or "no predictions"])
    p = _classes(task, predicted["predictions"], labels)
    if isinstance(p, str):
        return CaseResult(name, 0.0, points, [p])
    accuracy = float(np.mean(p == labels))
    share = np.clip((accuracy - mode.zero_accuracy) / (mode.full_accuracy - mode.zero_accuracy), 0.0, 1.0)
    score = round(points * float(share), 4)
    valid = (p >= 0) & (p < task.classes)
    confusion = np.zeros((task.classes, task.classes), dtype=np.int64)
    np.add.at(confusion, (labels[valid], p[valid]), 1)
    details = {"accuracy": accuracy, "confusion_matrix": confusion}
    if run.losses is not None and len(run.losses):
        details["training_curve"] = run.losses
    messages = [] if share >= 1 else [
        f"test accuracy {100 * accuracy:.2f}%: full points from {100 * mode.full_accuracy:g}%, none at "
        f"{100 * mode.zero_accuracy:g}% or below"]
    return CaseResult(name, score, points, messages, details=details)


def _classes(task: Training, p: np.ndarray, labels: np.ndarray) -> np.ndarray | str:
    """The predicted classes as int64, or what is wrong with them."""
    if p.shape != labels.shape:
        return f"{task.predict} returned shape {p.shape}; one class per image, shape {labels.shape}, is expected"
    if p.dtype.kind == "f" and not np.all(np.isfinite(p) & (p == np.round(p))):
        return (f"{task.predict} returned non-integer values: classes 0..{task.classes - 1} are expected (take the "
                f"argmax of the scores)")
    return p.astype(np.int64)


def _from_scratch(box, task: Training, mode: Mode, seed: int, inputs: dict) -> np.ndarray | str:
    """The predictions of the same architecture trained from scratch by the student's code, or the error."""
    programs = step_programs(task)
    for step, limit in (("scratch", SETUP_TIME_LIMIT), ("train", mode.time_limit), ("predict", SETUP_TIME_LIMIT)):
        # The architecture alone: the child builds it at random, and the pretrained tensors are not needed here.
        outcome, _ = _request(box, programs[step], {"seed": seed, BACKBONE_LAYERS: inputs[BACKBONE_LAYERS]}, mode,
                              limit)
        if not outcome.ok:
            return outcome.message
    return outcome.outputs["predictions"]


def _margin_case(task: Training, accuracy: float | None, scratch: np.ndarray | str,
                 labels: np.ndarray) -> tuple[CaseResult, str]:
    name, points = TrainingCase.MARGIN.value, task.margin_points
    if accuracy is None:
        return CaseResult(name, 0.0, points, ["not compared: the transfer run failed"]), "from scratch: not trained"
    classes = scratch if isinstance(scratch, str) else _classes(task, scratch, labels)
    if isinstance(classes, str):
        return (CaseResult(name, 0.0, points, [f"training from scratch failed: {classes}"]),
                "from scratch: failed")
    from_scratch = float(np.mean(classes == labels))
    margin = accuracy - from_scratch
    share = (margin - task.zero_margin) / (task.full_margin - task.zero_margin)
    score = round(points * float(np.clip(share, 0.0, 1.0)), 4)
    note = (f"the same architecture trained from scratch on the same examples: {100 * from_scratch:.2f}% test "
            f"accuracy, so the pretrained backbone's margin is {100 * margin:+.2f} points")
    messages = [] if score >= points else [
        f"the transfer's test accuracy minus training from scratch's is {100 * margin:+.2f} points: full points "
        f"from {100 * task.full_margin:+g}, none at {100 * task.zero_margin:+g} or below (are the pretrained "
        f"features used, frozen, with their statistics?)"]
    return CaseResult(name, score, points, messages,
                      details={"scratch_accuracy": from_scratch, "margin": margin}), note


def _gpu_case(task: Training, mode: Mode, placement: np.ndarray | None, run: _Run) -> CaseResult:
    name = TrainingCase.ON_GPU.value
    if mode.device != "cuda":
        return _skipped(name, task.on_gpu_points, "GPU-only check: no CUDA GPU here")
    if placement is None:
        return CaseResult(name, 0.0, task.on_gpu_points, ["not checked: training failed"])
    on_cuda, total = (int(v) for v in placement)
    if total < 0:
        return CaseResult(name, 0.0, task.on_gpu_points, [f"{task.build} did not return a torch.nn.Module"])
    if total == 0 or on_cuda < total:
        return CaseResult(name, 0.0, task.on_gpu_points, [
            f"after training, {total - on_cuda} of the model's {total} parameters and buffers are not on the GPU: "
            f"move the model with model.to(device)"])
    return CaseResult(name, task.on_gpu_points, task.on_gpu_points)


def _time_case(task: Training, mode: Mode, run: _Run) -> CaseResult:
    name = TrainingCase.TIME.value
    if run.seconds is None:
        return CaseResult(name, 0.0, task.time_points, [f"not timed: training did not finish (budget "
                                                        f"{mode.time_budget:g} s)"])
    if run.seconds > mode.time_budget:
        return CaseResult(name, 0.0, task.time_points, [f"training took {run.seconds:.1f} s, over the budget of "
                                                        f"{mode.time_budget:g} s"])
    return CaseResult(name, task.time_points, task.time_points)


def _throughput_case(task: Training, mode: Mode, throughput: float | str, reference,
                     reference_throughput: ReferenceThroughput, n: int, inputs: dict) -> tuple[CaseResult, str]:
    name = TrainingCase.THROUGHPUT.value
    points = task.throughput_points
    if isinstance(throughput, str):
        return CaseResult(name, 0.0, points, [f"while measuring one epoch: {throughput}"]), "throughput: not measured"
    if not reference:
        # Skipped, never awarded unmeasured: a route without solutions/ (a student's own CI) is not the grade of
        # record, and its feedback must not promise a point the real grading may take.
        note = f"throughput {throughput:,.0f} images/s over one epoch (no reference solution here to compare with)"
        return CaseResult(name, 0.0, points, skipped="no reference solution here to compare the throughput with"), note
    key = (mode, n)
    if key not in reference_throughput.measured:
        box = reference.get()
        error = _prepare(box, task, inputs, mode)
        # The student's epoch runs after their training, in a warm process: so does the reference's.
        measured = error or _one_epoch(box, task, n, mode, inputs["seed"])
        measured = measured if isinstance(measured, str) else _one_epoch(box, task, n, mode, inputs["seed"])
        if isinstance(measured, str):
            return CaseResult(name, points, points), f"throughput: the reference solution failed ({measured})"
        reference_throughput.measured[key] = measured
    ratio = throughput / reference_throughput.measured[key]
    note = (f"throughput {throughput:,.0f} images/s over one epoch, {ratio:.2f}x the reference solution's "
            f"(full points from {task.min_throughput_ratio:g}x)")
    if ratio >= task.min_throughput_ratio:
        return CaseResult(name, points, points), note
    return CaseResult(name, 0.0, points, [
        f"{throughput:,.0f} images/s is {ratio:.3f}x the reference solution's; keep the data on the GPU and "
        f"use larger batches"]), note
