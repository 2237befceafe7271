"""Declarations of hidden test suites.

A suite declares, for every graded function of one assignment (in the spirit of
PyTorch's OpInfo):

* ``cases``: a generator ``rng -> [Case]`` of seeded random inputs and named edge
  cases;
* ``program``: which student functions to call with which inputs (a backward
  check calls ``*_forward`` first and hands its cache to ``*_backward``);
* ``reference``: the PyTorch reference, ``inputs -> {output name: array}``;
* ``tolerance``: how close a correct float64 *or* float32 result must be;
* ``bugs``: catalogued mistakes, each what the mistake computes (written with
  torch) and the hint shown when a student's output matches it (prose, in
  ``grader/suites/hints/<suite>.toml``: :class:`BugCatalogue`).

A program is plain data (names and indices, never code), because it is sent to
the untrusted process that runs the student's code: its classes are those of
the boundary's protocol (``grader/child/protocol.py``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (a dependency there)
    import tomli as tomllib

# A program's parts are the protocol's own classes: what a suite declares is
# what crosses the boundary, with no second description of it.
from grader.child.protocol import (  # noqa: F401 - re-exported for suites
    BUILTIN,
    Call,
    Device,
    DeviceName,
    Gradient,
    Input,
    Kept,
    Program,
    Returned,
    Stack,
    Tensor,
    call,
)
from grader.compare import Expected, Tolerance  # noqa: F401 - re-exported for suites
from grader.exits import DeclarationError

Value = Union[np.ndarray, float, int, bool, str, tuple[int, ...]]  # a tuple: a shape (the child's builtin:shape)


def forward_program(layer: str, *args: str, output: str = "out") -> Program:
    """``{layer}_forward(*args) -> (out, cache)``: grade ``out``."""
    return Program((call(f"{layer}_forward", *args),), {output: Returned(0, 0)})


def backward_program(layer: str, *args: str, grads: Sequence[str] = ("dx",)) -> Program:
    """``{layer}_forward(*args) -> (out, cache)`` then
    ``{layer}_backward(dout, cache) -> grads``: grade the gradients.

    With one gradient the backward function returns it alone, CS231n style;
    with several it returns them as a tuple in the order given."""
    calls = (call(f"{layer}_forward", *args), call(f"{layer}_backward", "dout", Returned(0, 1)))
    if len(grads) == 1:
        outputs = {grads[0]: Returned(1)}
    else:
        outputs = {g: Returned(1, i) for i, g in enumerate(grads)}
    return Program(calls, outputs)


def returns_pair_program(function: str, *args: str, names: tuple[str, str]) -> Program:
    """``function(*args) -> (a, b)``, e.g. a loss and its gradient."""
    return Program((call(function, *args),), {names[0]: Returned(0, 0), names[1]: Returned(0, 1)})


class Blocked(str):
    """What a ``Property`` check returns when the graded output cannot be
    judged because another of the student's functions failed on the input
    (a dropout backward whose own forward is not a valid dropout): the message,
    and that function's name."""

    function: str

    def __new__(cls, function: str, why: str):
        blocked = super().__new__(cls, f"not graded: `{function}` failed on this input ({why})")
        blocked.function = function
        return blocked


@dataclass(frozen=True)
class Property:
    """An output judged by a check instead of a reference value: accuracy
    against labels the child never sees, the keep rate of a dropout mask.
    ``check(actual, *given)`` returns None when the output is right, else what
    is wrong (without revealing hidden values); ``given`` names other outputs
    of the program it is judged with (a dropout backward against its own
    forward's mask), sent back beside it and not graded themselves (None when
    missing)."""

    check: Callable[..., str | None]
    given: tuple[str, ...] = ()

    def problem(self, name: str, actual: np.ndarray, outputs: Mapping[str, np.ndarray],
                tol: Tolerance) -> str | None:
        return self.check(actual, *(outputs.get(g) for g in self.given))


@dataclass(frozen=True)
class Speed:
    """Efficiency points, given only to a function that passed every case: the
    student's function is timed against a baseline on fresh inputs for every
    call, drawn as case number ``case``'s are (or by ``inputs``), and every timed result is
    checked (memoising, or a wrong answer returned fast, loses the points);
    the median time ratio decides.

    ``baseline=None``: torch's own implementation of the same program, run
    in the grader's process on the same inputs (``torch``; default: the
    function's reference), one call in turn with the student's round trip,
    after a warm-up, both timed by the grader on one thread. No route needs
    the reference solution (a numpy baseline fast enough to time against
    would be a solution in the students' hands), so every route measures.
    ``baseline="name"``: the trusted builtin ``name`` of the child (e.g.
    torch's own ``F.conv2d``), timed in the same child, interleaved with the
    student's function, by the one timing harness (``grader/child/timing.py``:
    warm-up excluded, synchronised, CUDA events on a GPU). ``gpu_only``: on a
    machine without a GPU the points are skipped, with the reason."""

    points: float = 1.0
    max_ratio: float = 10.0  # slower than this many times the baseline loses the points
    case: int = 0
    # The timed calls' inputs, when they are not drawn as a graded case's: ``rng -> Case``, e.g. shapes too large
    # for correctness cases, which a plain loop implementation must finish far inside the time limit.
    inputs: Callable[[np.random.Generator], "Case"] | None = None
    repeats: int = 5
    baseline: str | None = None
    torch: Callable[[Mapping[str, "Value"]], Any] | None = None
    gpu_only: bool = False

    @classmethod
    def against_gpu_builtin(cls, baseline: str, max_ratio: float,
                            inputs: Callable[[np.random.Generator], "Case"]) -> "Speed":
        """A GPU function timed against torch's own kernel, the child's builtin ``baseline``, on ``inputs``: twenty
        calls each (one kernel call is short, so the median wants more than a CPU function's five), skipped with
        the reason on a machine without a GPU."""
        return cls(max_ratio=max_ratio, inputs=inputs, repeats=20, baseline=baseline, gpu_only=True)


@dataclass(frozen=True)
class Bug:
    """A catalogued mistake and what it computes: ``reference(inputs)`` gives
    the outputs of the graded program (by name, as the function's own
    reference does) that code with this mistake returns, written with torch
    operations (a flipped kernel is ``F.conv2d(x, w.flip(-1, -2))``), never
    as numpy code a line away from a solution: the suites are public, only
    ``solutions/`` is secret. It may return a subset of the outputs (the
    ones the mistake shows in) and may raise where the mistake cannot run.

    On a failed case, when one of the student's wrong outputs matches the
    bug's, ``hint`` is shown. Tests inject each bug into the solution (its
    edits live beside it, in ``solutions/<NN>/mutations.py``) and check that
    it loses points on this function and names itself: so the torch
    description and the mistake agree."""

    name: str
    hint: str
    reference: Callable[[Mapping[str, "Value"]], Mapping[str, Any]]


class BugCatalogue:
    """The hints of a suite's catalogued bugs: prose, kept in
    ``hints/<suite>.toml`` beside the suite's module and keyed by bug name, so
    that a suite declares each bug in one line (its name and what it computes)
    and the feedback can be edited as text. ``bug(name, reference)`` makes the
    :class:`Bug`; ``hint_key`` names another key where one mistake shows
    differently in two functions of a suite (both carry the mistake's name)."""

    def __init__(self, suite_module: str) -> None:
        module = Path(suite_module)
        self.path = module.parent / "hints" / f"{module.stem}.toml"
        try:
            self.hints: Mapping[str, str] = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise DeclarationError(f"{self.path}: the suite's hints cannot be read: {error}") from None

    def __call__(self, name: str, reference: Callable[[Mapping[str, "Value"]], Mapping[str, Any]],
                 hint_key: str | None = None) -> Bug:
        key = hint_key or name
        if not isinstance(self.hints.get(key), str):
            raise DeclarationError(f"{self.path}: no hint for the catalogued bug {key!r}")
        return Bug(name, self.hints[key], reference)


def float32_exact(x) -> np.ndarray:
    """``x`` rounded to values float32 can hold, as a float64 array: a student
    who casts the inputs to float32 then computes from exactly the grader's
    inputs, so only their arithmetic, never the cast, counts against them."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


@dataclass(frozen=True)
class Case:
    name: str
    inputs: Mapping[str, Value]
    points: float = 1.0


@dataclass(frozen=True)
class GradedFunction:
    name: str
    program: Program
    cases: Callable[[np.random.Generator], list[Case]]
    reference: Callable[[Mapping[str, Value]], Mapping[str, Any]]
    bugs: tuple[Bug, ...] = ()
    tolerance: Tolerance = field(default_factory=Tolerance)
    speed: Speed | None = None
    time_limit: float | None = None  # seconds per case; default: the suite's case_time_limit
    # Dotted names the function must not use (e.g. "torch.nn.functional.conv2d"
    # where convolution is the thing to implement): found by a scan of the
    # submission's source and, for torch functions, refused at run time.
    forbidden: tuple[str, ...] = ()
    # What its cases' points add up to, declared, so that listing a suite runs
    # none of its generators (tests/test_suites.py holds every seed's cases to it).
    points: float = field(kw_only=True)

    @property
    def max_points(self) -> float:
        """The cases' points, then the speed points."""
        return float(self.points) + (self.speed.points if self.speed else 0)


@dataclass(frozen=True)
class Limits:
    """What the child may use. ``memory_bytes`` is on address space: fine for
    numpy, too tight for CUDA (which maps the GPU's memory), so GPU suites set
    it to None; ``resident_memory_bytes`` is the memory it may really use,
    held by a cgroup where the grader can make one (CUDA children included)."""

    cpu_seconds: int = 300
    memory_bytes: int | None = 4 << 30
    resident_memory_bytes: int = 6 << 30
    file_bytes: int = 64 << 20  # any file it writes, its printed output included
    # Size of each writable place in the view: its own folder, /tmp, /dev/shm.
    scratch_bytes: int = 64 << 20
    processes: int = 64  # the pids cgroup's limit, and RLIMIT_NPROC for a uid of its own
    allow_processes: bool = False
    # Programs the student's process may start all the same, by their path inside a package of the view: Triton on
    # a GPU runs its bundled ptxas to compile each kernel. The audit hook refuses any other (a deterrent: the view,
    # the uid and the PID namespace are what hold).
    executables: tuple[str, ...] = ()
    # Modules the student may not import, at any depth (torch for the numpy
    # assignments: autograd would compute the gradients they are to derive).
    # Where the view holds they are not in it at all; the import hook that also
    # refuses them is a deterrent, and the one layer where it does not.
    forbidden_modules: tuple[str, ...] = ("torch", "tensorflow", "jax", "autograd", "scipy", "sklearn", "cupy",
                                          "numba")
    # Imported once by the zygote that forks the children, so already loaded in
    # each: never a forbidden module, since the import hook only refuses new imports.
    preload: tuple[str, ...] = ("numpy",)
    # The distributions in the child's view (with what they require), besides
    # the standard library: nothing else of site-packages is there.
    packages: tuple[str, ...] = ("numpy",)
    gpu: bool = False  # the view holds the NVIDIA device nodes and /sys, which CUDA reads
    # Variables of the child's environment in CPU mode only (no GPU, or DLGRADE_DEVICE=cpu): Triton's
    # interpreter (TRITON_INTERPRET=1) runs GPU kernels on CPU tensors, and is chosen before triton is imported.
    cpu_environment: tuple[tuple[str, str], ...] = ()
    # Builtins of the child's tasks (``"<task>.<name>"``, in grader/child/tasks/<task>.py) that each child calls,
    # without arguments, before it imports the submission, in CPU mode only: the kernel lab's has Triton's
    # autotuner time its configurations on the CPU, where the interpreter has no GPU driver to time them.
    cpu_setup: tuple[str, ...] = ()

    def __post_init__(self):
        both = {name.partition(".")[0] for name in self.preload} & set(self.forbidden_modules)
        if both:
            raise ValueError(f"Limits: {', '.join(sorted(both))} cannot be both preloaded and forbidden")


@dataclass(frozen=True)
class Suite:
    # "NN_<assignment>", e.g. "01_neuron": the folder under solutions/ and assignments/, which names the
    # assignment ("neuron"), its suite's module (grader/suites/neuron.py) and the student's (neuron.py).
    folder: str
    title: str
    functions: tuple[GradedFunction, ...]
    case_time_limit: float = 10.0  # seconds of wall time per case
    # Seconds of wall time for the whole submission: a hostile or hopelessly
    # slow one cannot hold a batch up for long.
    submission_time_limit: float = 300.0
    limits: Limits = field(default_factory=Limits)  # what the process running student code may use
    training: "Training | None" = None  # a model the grader trains through the student's code (grader/training.py)
    gpu: bool = False  # student code runs on a CUDA GPU where there is one (else in CPU mode)
    # Modules of the course beside the student's that the public tests and the notebook import and the student
    # reads but does not hand in (the lectures' layer tables, a weights loader): copied verbatim from
    # solutions/<folder>/ by generate. The graded functions never need them (they are not in the child's view).
    support: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d+_[a-z][a-z0-9_]*", self.folder):
            raise DeclarationError(f"a suite's folder is NN_<assignment>, e.g. 01_neuron, not {self.folder!r}")

    @property
    def assignment(self) -> str:
        """The short name, e.g. "neuron"."""
        return self.folder.partition("_")[2]

    @property
    def module(self) -> str:
        """The student's module, e.g. "neuron" for neuron.py."""
        return self.assignment

    def function(self, name: str) -> GradedFunction:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(f"{self.assignment} has no graded function {name!r}")

    @property
    def max_points(self) -> float:
        return sum(f.max_points for f in self.functions) + (self.training.max_points if self.training else 0)

    @property
    def graded(self) -> tuple[tuple[str, float], ...]:
        """(name, points) of everything graded: the functions, then the training task."""
        items = [(f.name, f.max_points) for f in self.functions]
        if self.training:
            items.append((self.training.name, self.training.max_points))
        return tuple(items)

    @property
    def student_functions(self) -> tuple[str, ...]:
        """Every student function some program calls, in order of first use."""
        training = self.training.functions if self.training else ()
        return tuple(dict.fromkeys([*(n for f in self.functions for n in f.program.functions), *training]))


@dataclass(frozen=True)
class Mode:
    """How a training task runs on one kind of machine: how much data, how
    long training may take, and the accuracy thresholds."""

    device: DeviceName
    train_size: int | None  # None: the whole training split
    test_size: int | None
    time_limit: float  # seconds for one training run; past it, training is stopped
    time_budget: float  # seconds of training for the time points
    full_accuracy: float  # test accuracy for full points ...
    zero_accuracy: float  # ... falling linearly to none at this one


class StandIn(str):
    """A training task's description of the data it was given (``Training.data``) when that data is a stand-in
    that accuracy cannot be judged on (09_transfer's synthetic digits, where the MNIST files are missing): the
    accuracy checks are then skipped, saying so, unless the run failed (a failure is never hidden)."""


@dataclass(frozen=True)
class Training:
    """A model trained by the student's own functions, in the child:
    ``model = build()``, ``train(model, images, labels, device)``, then
    ``predict(model, test_images, device)``; the test labels stay in the grader.

    ``data(mode, rng) -> (train_images, train_labels, test_images, test_labels,
    description)`` with uint8 images, (N, H, W) grey or (N, H, W, C) in
    colour, which the student's functions get as float tensors (N, C, H, W)
    in [0, 1]; everything the child needs of the task comes from here. Points: ``accuracy`` (partial
    between the mode's thresholds), ``on_gpu`` (every parameter and buffer on
    CUDA after training), ``time`` (training within the mode's budget),
    ``throughput`` (training images per second over one epoch, at least
    ``min_throughput_ratio`` times the reference solution's, measured in the
    same run). ``on_gpu`` and ``throughput`` are GPU-only.

    ``backbone``: a pretrained feature extractor, loaded when grading (``Backbone``), that ``build(backbone)`` is
    given as a module; the same architecture, initialised at random and trainable, is then also given to ``build``
    and trained by ``train`` on the same examples, and ``margin_points`` are for the transfer's test accuracy
    minus that from-scratch run's: all from ``full_margin``, none at ``zero_margin``, linear between."""

    name: str
    data: Callable[[Mode, np.random.Generator], tuple]
    gpu: Mode
    cpu: Mode
    classes: int = 10  # labels are 0 .. classes - 1
    build: str = "build_model"
    train: str = "train"
    predict: str = "predict"
    accuracy_points: float = 6.0
    on_gpu_points: float = 2.0
    time_points: float = 1.0
    throughput_points: float = 1.0
    min_throughput_ratio: float = 0.05
    backbone: Callable[[], "Backbone"] | None = None
    full_margin: float = 0.05
    zero_margin: float = 0.0
    margin_points: float = 2.0

    @property
    def functions(self) -> tuple[str, ...]:
        return (self.build, self.train, self.predict)

    @property
    def max_points(self) -> float:
        return (self.accuracy_points + self.on_gpu_points + self.time_points + self.throughput_points
                + (self.margin_points if self.backbone else 0.0))


@dataclass(frozen=True)
class Backbone:
    """A pretrained feature extractor: ``layers``, its architecture as data ([torch.nn class name, keyword
    arguments] each, in order: the child builds the ``nn.Sequential``), and its ``tensors`` by state-dict name."""

    layers: list
    tensors: Mapping[str, np.ndarray]
