"""Declarations of hidden test suites.

A suite declares, for every graded function of one assignment (in the spirit of
PyTorch's OpInfo):

* ``cases``: a generator ``rng -> [Case]`` of seeded random inputs and named edge
  cases;
* ``program``: which student functions to call with which inputs (a backward
  check calls ``*_forward`` first and hands its cache to ``*_backward``);
* ``reference``: the PyTorch reference, ``inputs -> {output name: array}``;
* ``tolerance``: how close a correct float64 *or* float32 result must be;
* ``bugs``: catalogued mistakes, each a small edit of the solution's source and
  the hint shown when a student's output matches the edited solution's.

A program is plain data (names and indices, never code), because it is sent to
the untrusted process that runs the student's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

Value = Union[np.ndarray, float, int, bool, str]


@dataclass(frozen=True)
class Returned:
    """The value returned by call number ``call`` of a program (``index`` picks
    one element when the function returns a tuple)."""

    call: int
    index: int | None = None

    def to_json(self) -> dict:
        return {"call": self.call, "index": self.index}


@dataclass(frozen=True)
class Call:
    """One call of a student function. String arguments name case inputs."""

    function: str
    args: tuple[str | Returned, ...] = ()
    kwargs: tuple[tuple[str, str | Returned], ...] = ()

    def to_json(self) -> dict:
        def arg(a):
            return {"input": a} if isinstance(a, str) else {"returned": a.to_json()}

        return {
            "function": self.function,
            "args": [arg(a) for a in self.args],
            "kwargs": {k: arg(v) for k, v in self.kwargs},
        }


def call(function: str, *args: str | Returned, **kwargs: str | Returned) -> Call:
    return Call(function, tuple(args), tuple(kwargs.items()))


@dataclass(frozen=True)
class Program:
    calls: tuple[Call, ...]
    outputs: Mapping[str, Returned]

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.function for c in self.calls))

    def to_json(self) -> dict:
        return {
            "calls": [c.to_json() for c in self.calls],
            "outputs": {name: r.to_json() for name, r in self.outputs.items()},
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
    0), where torch's convention is one valid choice among several."""

    value: np.ndarray
    free: np.ndarray | None = None


@dataclass(frozen=True)
class Bug:
    """A catalogued mistake: ``edits`` turn the solution into the buggy version
    (each ``old`` text must occur exactly once in the solution's module).

    Grading runs the edited solution on a failed case; when the student's output
    matches it, ``hint`` is shown. Tests inject every bug alone and check that
    it loses points on this function and names itself."""

    name: str
    hint: str
    edits: tuple[tuple[str, str], ...]


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

    @property
    def max_points(self) -> float:
        """The same for every seed (a test holds suites to it)."""
        return sum(c.points for c in self.cases(np.random.default_rng(0)))


@dataclass(frozen=True)
class Suite:
    assignment: str  # short name, e.g. "neuron"
    folder: str  # e.g. "01_neuron", under solutions/ and assignments/
    module: str  # the student's module, e.g. "neuron" for neuron.py
    title: str
    functions: tuple[GradedFunction, ...]
    case_time_limit: float = 10.0  # seconds of wall time per case

    def function(self, name: str) -> GradedFunction:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(f"{self.assignment} has no graded function {name!r}")

    @property
    def max_points(self) -> float:
        return sum(f.max_points for f in self.functions)

    @property
    def student_functions(self) -> tuple[str, ...]:
        """Every student function some program calls, in order of first use."""
        return tuple(dict.fromkeys(n for f in self.functions for n in f.program.functions))
