"""Hidden suite of assignment 9 (transfer): a pretrained feature extractor,
frozen, with a new head, trained on a few examples of digits it never saw.

The extractor (``BACKBONE_FILE``: three Conv-BN-ReLU-MaxPool blocks, 576
features, 23 408 parameters) was trained on MNIST's digits 0-4 by
``solutions/09_transfer/train_backbone.py`` and ships with the grader as
safetensors, its architecture in the file's metadata; the file is checked
against ``BACKBONE_SHA256`` whenever it is loaded. The child builds it from
the tensors and layers sent to it and gives it to the student's
``build_model(backbone)``.

Graded: ``build_model`` on what it builds (as many scores as new classes, the
backbone inside and frozen, a trainable head); ``train`` on what one epoch
of it changes (nothing of the backbone, its BatchNorm statistics included, bit
for bit; something of the head), by digests of every tensor taken in the
student's process before and after (a deterrent, not a guarantee: code that
edits the interpreter's state can fool any check made there); and the
few-shot task (``grader/training.py``): test accuracy on digits 5-9 with the
labels kept here, and the margin over the same architecture trained from
scratch (initialised at random, every parameter trainable: what the lecture
compares with) by the student's own ``train`` on the same examples.

Measured on 2 CPU cores, one thread, ``SHOTS`` = 10 examples of each digit and
1000 test images, 22 draws: the reference solution reaches 85.1-94.9% test
accuracy, a margin over training from scratch by the same ``train`` of -1.8 to
+10.7 points (MNIST is easy to learn even from 50 images); the example
submissions 88.0-95.2%, margins -0.6 to +5.6 points. With five examples of each
the reference's accuracy spread over 74.2-92.7%, below the full points' 80%.
A head on the backbone at random, frozen, loses the margin
(tests/test_transfer.py).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from grader import datasets
from grader.child.tasks.backbone import sequential
from grader.spec import (
    Backbone,
    BugCatalogue,
    Call,
    Case,
    Device,
    GradedFunction,
    Input,
    Limits,
    Mode,
    Program,
    Property,
    Returned,
    StandIn,
    Suite,
    Tensor,
    Training,
    call,
)
from grader.training import BACKBONE_LAYERS, backbone_inputs

# The hints of this suite's catalogued bugs, prose kept in hints/transfer.toml.
bug = BugCatalogue(__file__)

BACKBONE_FILE = Path(datasets.__file__).resolve().parent / "data" / "transfer_backbone.safetensors"
# The file's SHA-256 (printed by the script that trains it, which says how to regenerate it).
BACKBONE_SHA256 = "d3490aa23d443c60e43fa151dd2a9aa8268dc9deb40c05f1cf2d76be49cf0414"
NEW_DIGITS = (5, 6, 7, 8, 9)  # the backbone was trained on 0-4; labels are digit - 5
CLASSES = len(NEW_DIGITS)
FEATURES = 576
# Labelled training images of each new digit: ten, since with five a draw of the reference solution falls below the
# full points' 80% (the module's docstring gives the figures).
SHOTS = 10


@lru_cache(maxsize=None)
def backbone() -> Backbone:
    """The pretrained extractor, checked against its SHA-256 (``datasets.DatasetError`` when missing or changed)."""
    try:
        data = BACKBONE_FILE.read_bytes()
    except OSError as e:
        raise datasets.DatasetError(f"{BACKBONE_FILE}: cannot be read ({e.strerror})") from None
    if (digest := hashlib.sha256(data).hexdigest()) != BACKBONE_SHA256:
        raise datasets.DatasetError(f"{BACKBONE_FILE}: SHA-256 {digest[:12]}..., not the {BACKBONE_SHA256[:12]}... "
                                    f"this grader expects (regenerate it with solutions/09_transfer/train_backbone.py)")
    from safetensors.numpy import load  # only this suite needs safetensors

    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    return Backbone(json.loads(header["__metadata__"]["layers"]), load(data))


def _module(pretrained: bool = True) -> torch.nn.Module:
    """The extractor as the child builds it, here for the bugs' torch descriptions."""
    b = backbone()
    return sequential(b.layers, {k: torch.from_numpy(v) for k, v in b.tensors.items()} if pretrained else None)


# --------------------------------------------------------------------------- data


@lru_cache(maxsize=None)
def _mnist() -> tuple:
    return (*datasets.load("train"), *datasets.load("test"))


def _balanced(images: np.ndarray, labels: np.ndarray, per_class: int | None, total: int | None,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Images of the new digits, relabelled 0..CLASSES-1: ``per_class`` of each, else ``total`` at random (None:
    every one)."""
    if per_class is not None:
        pick = np.concatenate([rng.choice(np.flatnonzero(labels == d), per_class, replace=False) for d in NEW_DIGITS])
    else:
        new = np.flatnonzero(np.isin(labels, NEW_DIGITS))
        pick = new if total is None or total >= len(new) else rng.choice(new, total, replace=False)
    pick = np.sort(pick)
    return images[pick], labels[pick] - NEW_DIGITS[0]


def few_shot(mode: Mode, rng: np.random.Generator) -> tuple:
    """``mode.train_size // CLASSES`` training images of each new digit from MNIST's training split, test images
    of the new digits from its test split; in CPU mode without the files, synthetic digits, said so."""
    shots = (mode.train_size or CLASSES) // CLASSES
    try:
        train_x, train_y, test_x, test_y = _mnist()
        what = "MNIST digits 5-9"
    except datasets.DatasetError:
        if mode.device == "cuda" or mode.test_size is None:
            raise  # no stand-in for a whole split
        # Every digit is drawn with probability 1/10: enough of each new one, with a wide margin.
        train_x, train_y = datasets.synthetic_digits(40 * shots, rng)
        test_x, test_y = datasets.synthetic_digits(3 * mode.test_size, rng)
        # The digits are too unlike MNIST's for the pretrained features to help: trained on and reported, not judged.
        what = StandIn("synthetic seven-segment digits 5-9 (the MNIST files were not found)")
    return (*_balanced(train_x, train_y, shots, None, rng), *_balanced(test_x, test_y, None, mode.test_size, rng),
            what)


# --------------------------------------------------------------------------- build_model and train

classifier = Training(
    name="few-shot classifier",
    data=few_shot,
    classes=CLASSES,
    backbone=backbone,
    # Uncalibrated on a GPU (none was at hand): the CPU's thresholds, on the whole test split's 4861 images of
    # digits 5-9; the few examples make the task no heavier there.
    gpu=Mode("cuda", train_size=SHOTS * CLASSES, test_size=None, time_limit=60.0, time_budget=20.0,
             full_accuracy=0.80, zero_accuracy=0.50),
    # SHOTS images of each new digit, 1000 test images: see the figures above.
    cpu=Mode("cpu", train_size=SHOTS * CLASSES, test_size=1000, time_limit=60.0, time_budget=20.0,
             full_accuracy=0.80, zero_accuracy=0.50),
    # The margin is noisy with so few examples (the draw decides much): full points from 5 points below training
    # from scratch, none at 15 below. The lecture's margin itself is reported in every result.
    full_margin=-0.05,
    zero_margin=-0.15,
    margin_points=2.0,
)


def _backbone_calls(first: int = 0) -> tuple:
    """Calls ``first`` and ``first + 1`` of a program: the backbone's tensors, then the pretrained backbone."""
    names = [name for name in backbone_inputs(classifier) if name != BACKBONE_LAYERS]
    return (Call("builtin:dict", kwargs=tuple((name.partition(":")[2], Tensor(name)) for name in names)),
            call("builtin:backbone.sequential", BACKBONE_LAYERS, Returned(first)))


def _count(name: str, wrong, expected: str = "0"):
    """A count judged by ``wrong(count) -> message or None``."""
    def check(actual: np.ndarray) -> str | None:
        if actual.shape != () or actual.dtype.kind not in "iu":
            return f"{name} could not be counted"
        return wrong(int(actual))

    return Property(check)


def _build_model_reference(inputs) -> dict:
    parameters = len(list(_module().parameters()))
    return {
        "classes": _count("classes", lambda n: None if n == CLASSES else
                          f"the model gives {n} scores per image; the new task has {CLASSES} classes (digits 5-9)"),
        "inside": _count("inside", lambda n: None if n else
                         "the model does not contain the backbone it was given: build it around that very module "
                         "(not a copy, not a new one)"),
        "frozen": _count("frozen", lambda n: None if n == 0 else
                         f"{n} of the backbone's {parameters} parameters still require gradients: freeze them"),
        "head": _count("head", lambda n: None if n else
                       "no parameter outside the backbone requires gradients: add a new, trainable head"),
    }


def _bn_statistics_updated(inputs) -> dict:
    """Training mode in the backbone: a forward pass updates every BatchNorm's running mean, variance and count."""
    module = _module().train()
    before = [b.clone() for b in module.buffers()]
    with torch.no_grad():
        module(torch.from_numpy(inputs["train_images"]))
    return {"buffers": sum(not torch.equal(a, b) for a, b in zip(before, module.buffers()))}


def _not_frozen(inputs) -> dict:
    """Every parameter of the backbone trainable: one step of an optimiser changes each of them."""
    module = _module()
    return {"frozen": len(list(module.parameters())), "parameters": len(list(module.parameters()))}


def _torch_classes(inputs) -> dict:
    """The pretrained task's head size kept: as many scores as MNIST's ten digits."""
    features = _module().eval()(torch.zeros(1, 1, 28, 28))
    return {"classes": torch.nn.Linear(features.shape[1], 10)(features).shape[1]}


NOT_FROZEN = bug("backbone-not-frozen", _not_frozen)

build_model = GradedFunction(
    name="build_model",
    program=Program((*_backbone_calls(), call("build_model", Returned(1)),
                     call("builtin:backbone.inventory", Returned(2), Returned(1), images=Tensor("images"))),
                    {"classes": Returned(3, key="classes"), "inside": Returned(3, key="inside"),
                     "frozen": Returned(3, key="part_trainable"), "head": Returned(3, key="others_trainable")}),
    cases=lambda rng: [Case("the pretrained backbone, a batch of 8 images", {
        **backbone_inputs(classifier), "images": rng.random((8, 1, 28, 28), dtype=np.float32)}, points=4)],
    points=4,
    reference=_build_model_reference,
    bugs=(NOT_FROZEN, bug("wrong-classes", _torch_classes)),
)


def _train_case(rng: np.random.Generator) -> list[Case]:
    # Random pictures serve as well as digits: what one epoch changes, not what it learns, is graded here.
    labels = np.repeat(np.arange(CLASSES), 4)
    return [Case("one epoch on 20 images", {
        **backbone_inputs(classifier), "train_images": rng.random((len(labels), 1, 28, 28), dtype=np.float32),
        "train_labels": rng.permutation(labels), "epochs": 1, "seed": int(rng.integers(2**31 - 1))}, points=3)]


def _train_reference(inputs) -> dict:
    module = _module()
    parameters, buffers = len(list(module.parameters())), len(list(module.buffers()))
    return {
        "parameters": _count("parameters", lambda n: None if n == 0 else
                             f"training changed {n} of the backbone's {parameters} parameters: a frozen backbone "
                             f"must come out of train bit for bit as it went in"),
        "buffers": _count("buffers", lambda n: None if n == 0 else
                          f"training changed {n} of the backbone's {buffers} BatchNorm statistics (running mean, "
                          f"variance, count): those are buffers, which requires_grad does not protect"),
        "head": _count("head", lambda n: None if n else
                       "training changed none of the head's parameters: the optimiser must be given them"),
    }


train = GradedFunction(
    name="train",
    # The seed first: the head's initialisation and the batches' order are the same on every regrade.
    program=Program((call("builtin:seed_everything", "seed"), *_backbone_calls(first=1),
                     call("build_model", Returned(2)), call("builtin:backbone.inventory", Returned(3), Returned(2)),
                     call("builtin:labels", "train_labels"),
                     call("train", Returned(3), Tensor("train_images"), Returned(5), Device(), epochs=Input("epochs")),
                     call("builtin:backbone.inventory", Returned(3), Returned(2), Returned(4))),
                    {"parameters": Returned(7, key="parameters_changed"), "buffers": Returned(7, key="buffers_changed"),
                     "head": Returned(7, key="others_changed")}),
    cases=_train_case,
    points=3,
    reference=_train_reference,
    bugs=(NOT_FROZEN, bug("batchnorm-statistics", _bn_statistics_updated)),
)

SUITE = Suite(
    folder="09_transfer",
    title="Transfer learning: a pretrained feature extractor, frozen, with a new head, on a few examples",
    functions=(build_model, train),
    training=classifier,
    support=("backbone.py",),
    gpu=True,
    case_time_limit=60.0,
    submission_time_limit=600.0,
    # As the CNN's: CUDA maps the GPU's memory into the address space, which the cgroup's limit holds instead.
    limits=Limits(memory_bytes=None, forbidden_modules=("tensorflow", "jax", "keras"),
                  preload=("numpy", "torch"), packages=("numpy", "torch"), gpu=True),
)
