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
  torch) and the hint shown when a student's output matches it.

A program is plain data (names and indices, never code), because it is sent to
the untrusted process that runs the student's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

# A call of f"{BUILTIN}name" runs a helper of the child's own (BUILTINS in
# grader/child/program.py: dict, rng, quadratic_gradient), not student code.
from grader.child.program import BUILTIN  # noqa: F401 - re-exported for suites
from grader.sandbox import Limits

Value = Union[np.ndarray, float, int, bool, str]


@dataclass(frozen=True)
class Input:
    """A case input (``index`` picks one item along its first axis, e.g. step
    ``t`` of a sequence of gradients). A plain string in a call means
    ``Input(name)``."""

    name: str
    index: int | None = None

    def to_json(self) -> dict:
        return {"input": self.name, "index": self.index}


@dataclass(frozen=True)
class Returned:
    """The value returned by call number ``call`` of a program: ``index`` picks
    one element when it returns a tuple, then ``key`` one entry of a dict
    (read after the whole program ran, so a state dict updated in place by a
    later call is seen updated)."""

    call: int
    index: int | None = None
    key: str | None = None

    def to_json(self) -> dict:
        return {"returned": {"call": self.call, "index": self.index, "key": self.key}}


@dataclass(frozen=True)
class Stack:
    """An output made of several values stacked along a new first axis, e.g.
    the parameters after each step of an optimiser."""

    parts: tuple[Input | Returned, ...]

    def to_json(self) -> dict:
        return {"stack": [p.to_json() for p in self.parts]}


@dataclass(frozen=True)
class Tensor:
    """A torch tensor made in the child from the array input ``name``, on the
    program's device (the same tensor object wherever the program names it)."""

    name: str
    requires_grad: bool = False

    def to_json(self) -> dict:
        return {"tensor": self.name, "requires_grad": self.requires_grad}


@dataclass(frozen=True)
class Device:
    """The device the program runs on, as a string: "cuda" where the grader
    found a GPU, else "cpu"."""

    def to_json(self) -> dict:
        return {"device": True}


@dataclass(frozen=True)
class Kept:
    """A value an earlier program of the same submission kept (see
    ``Program.keep``): a model built by one request and trained by the next."""

    name: str

    def to_json(self) -> dict:
        return {"kept": self.name}


@dataclass(frozen=True)
class Gradient:
    """The gradient of ``sum(of * cotangent)`` with respect to the tensor input
    ``wrt``, computed in the child by autograd after the program's calls."""

    of: Returned
    wrt: str
    cotangent: str

    def to_json(self) -> dict:
        return {"gradient": {"of": self.of.to_json(), "wrt": self.wrt, "cotangent": self.cotangent}}


Arg = Union[str, Input, Returned, Tensor, Device, Kept]


def _arg_json(a: Arg) -> dict:
    return Input(a).to_json() if isinstance(a, str) else a.to_json()


@dataclass(frozen=True)
class Call:
    """One call of a student function (or of a child builtin).

    Every array argument reaches the student as a copy of its own, and the
    call must leave it unchanged (and the arrays inside a tuple, list or dict
    argument): a change in place fails the case. ``modifies`` lists the
    positions (and keywords) of the arguments the function may update in
    place instead of (or besides) returning new ones, as documented in its
    docstring: an optimiser's ``w`` and ``state``."""

    function: str
    args: tuple[Arg, ...] = ()
    kwargs: tuple[tuple[str, Arg], ...] = ()
    modifies: tuple[int | str, ...] = ()

    def to_json(self) -> dict:
        return {
            "function": self.function,
            "args": [_arg_json(a) for a in self.args],
            "kwargs": {k: _arg_json(v) for k, v in self.kwargs},
            "modifies": list(self.modifies),
        }


def call(function: str, *args: Arg, modifies: tuple[int | str, ...] = (), **kwargs: Arg) -> Call:
    return Call(function, tuple(args), tuple(kwargs.items()), modifies)


@dataclass(frozen=True)
class Program:
    """``keep``: values the child holds on to for the submission's later
    programs (never sent back); ``synchronize``: wait for the GPU's queued
    work before answering, so that the grader's clock around a request
    measures the work, not its launch."""

    calls: tuple[Call, ...]
    outputs: Mapping[str, Input | Returned | Stack | Gradient]
    keep: Mapping[str, Returned] = field(default_factory=dict)
    synchronize: bool = False
    # The student function under test; default: the last one called. A case
    # where another student function (a backward's forward) fails says "not
    # graded: `<forward>` failed on this input", and its points are lost: the
    # graded function could not be shown right there (README, "For students").
    graded: str | None = None

    @property
    def functions(self) -> tuple[str, ...]:
        """The student functions it calls (builtins excluded)."""
        return tuple(dict.fromkeys(c.function for c in self.calls if not c.function.startswith(BUILTIN)))

    def to_json(self) -> dict:
        return {
            "calls": [c.to_json() for c in self.calls],
            "outputs": {name: r.to_json() for name, r in self.outputs.items()},
            "keep": {name: r.to_json() for name, r in self.keep.items()},
            "synchronize": self.synchronize,
            "graded": self.graded,
        }


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


@dataclass(frozen=True)
class Tolerance:
    """``|student - expected| <= atol * scale + rtol * |expected|`` elementwise, where
    ``scale = max(1, max|expected|)``.

    Scaling ``atol`` by the output's magnitude lets a float32 implementation
    pass on sums with cancellation (e.g. ``x.T @ dout`` with entries near 1000),
    while catalogued bugs are off by O(1) relative error and fail by orders of
    magnitude."""

    rtol: float = 1e-4
    atol: float = 1e-5


@dataclass(frozen=True)
class Expected:
    """A reference output, with positions where any value is accepted.

    ``free`` marks non-differentiable points (e.g. ReLU's gradient at exactly
    0), where torch's convention is one valid choice among several.
    ``departs`` is for a trajectory (axis 0: the steps): given the first step
    at which the student's differs, what the feedback adds (Adam wrong from
    step 1 points at the step counter, later at the state carried over)."""

    value: np.ndarray
    free: np.ndarray | None = None
    departs: Callable[[int], str] | None = None


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

    @property
    def max_points(self) -> float:
        """The same for every seed (a test holds suites to it)."""
        return sum(c.points for c in self.cases(np.random.default_rng(0))) + (self.speed.points if self.speed else 0)


@dataclass(frozen=True)
class Suite:
    assignment: str  # short name, e.g. "neuron"
    folder: str  # e.g. "01_neuron", under solutions/ and assignments/
    module: str  # the student's module, e.g. "neuron" for neuron.py
    title: str
    functions: tuple[GradedFunction, ...]
    case_time_limit: float = 10.0  # seconds of wall time per case
    # Seconds of wall time for the whole submission: a hostile or hopelessly
    # slow one cannot hold a batch up for long.
    submission_time_limit: float = 300.0
    limits: Limits = field(default_factory=Limits)  # what the process running student code may use
    training: "Training | None" = None  # a model the grader trains through the student's code (grader/training.py)
    gpu: bool = False  # student code runs on a CUDA GPU where there is one (else in CPU mode)

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

    device: str  # "cuda" or "cpu"
    train_size: int | None  # None: the whole training split
    test_size: int | None
    time_limit: float  # seconds for one training run; past it, training is stopped
    time_budget: float  # seconds of training for the time points
    full_accuracy: float  # test accuracy for full points ...
    zero_accuracy: float  # ... falling linearly to none at this one


@dataclass(frozen=True)
class Training:
    """A model trained by the student's own functions, in the child:
    ``model = build()``, ``train(model, images, labels, device)``, then
    ``predict(model, test_images, device)``; the test labels stay in the grader.

    ``data(mode, rng) -> (train_images, train_labels, test_images, test_labels,
    description)`` with uint8 images (N, H, W). Points: ``accuracy`` (partial
    between the mode's thresholds), ``on_gpu`` (every parameter and buffer on
    CUDA after training), ``time`` (training within the mode's budget),
    ``throughput`` (training images per second over one epoch, at least
    ``min_throughput_ratio`` times the reference solution's, measured in the
    same run). ``on_gpu`` and ``throughput`` are GPU-only."""

    name: str
    data: Callable[[Mode, np.random.Generator], tuple]
    gpu: Mode
    cpu: Mode
    build: str = "build_model"
    train: str = "train"
    predict: str = "predict"
    accuracy_points: float = 6.0
    on_gpu_points: float = 2.0
    time_points: float = 1.0
    throughput_points: float = 1.0
    min_throughput_ratio: float = 0.05

    @property
    def functions(self) -> tuple[str, ...]:
        return (self.build, self.train, self.predict)

    @property
    def max_points(self) -> float:
        return self.accuracy_points + self.on_gpu_points + self.time_points + self.throughput_points
