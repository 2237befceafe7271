"""The layer family, in the spirit of PyTorch's OpInfo: one declaration of a
layer yields its two graded functions, ``<name>_forward`` (graded on its
output) and ``<name>_backward`` (``<name>_forward`` then ``<name>_backward``
on its cache and an upstream gradient ``dout``, graded on the gradients).

A layer declares its cases' inputs once (``samples``), its output in torch
(``torch``), which inputs its backward differentiates (``grads``), where a
gradient is not unique (``kinks``), and per pass what is its own: points,
bugs, speed. The references follow: the forward's output is torch's, the
backward's gradients torch's autograd of ``sum(out * dout)``, free at the
kinks. A pass may replace its program or reference where the layer is judged
otherwise (a dropout mask by its validity, a max-pool with ties by a search).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch

from grader.reference import gradients, numpy, tensors
from grader.spec import (
    Bug,
    Case,
    Expected,
    GradedFunction,
    Program,
    Speed,
    Tolerance,
    Value,
    backward_program,
    forward_program,
)
from grader.suites.inputs import normal

Reference = Callable[[Mapping[str, Any]], dict[str, Any]]
# A layer's output (or a mistaken one) in torch, from its inputs as tensors and as they are.
TorchLayer = Callable[[dict, Mapping[str, Any]], torch.Tensor]


@dataclass(frozen=True)
class Sample:
    """The inputs of one case of a layer; its backward case adds ``dout``."""

    name: str
    inputs: Mapping[str, Value]
    forward_only: bool = False  # graded on the forward alone (batch norm in eval mode: no backward pass)


@dataclass(frozen=True)
class Pass:
    """What one of a layer's two graded functions declares of its own.

    ``points``: what its cases add up to. ``timed``: the inputs its speed
    check times, drawn as a case's (the backward's with their ``dout``)."""

    points: float
    bugs: tuple[Bug, ...] = ()
    program: Program | None = None  # default: forward_program / backward_program of the layer's args
    reference: Reference | None = None  # default: torch's output, or autograd's gradients
    tolerance: Tolerance = field(default_factory=Tolerance)
    speed: Speed | None = None
    timed: Callable[[np.random.Generator], Sample] | None = None
    time_limit: float | None = None


@dataclass(frozen=True)
class Layer:
    """``samples(rng)`` gives the cases' inputs in order; each backward case
    draws its ``dout`` (the output's shape, standard normal) in turn, after
    its sample: a generator that yields its samples one by one gets each
    ``dout`` right after that sample, one that returns a list gets them all
    after the last (each suite keeps the order it drew in, so that a regrade
    gets the same inputs). ``torch(t, inputs)``: the layer's output from the inputs
    as tensors (``grader.reference.tensors``; a scalar in ``grads`` becomes a
    0-d tensor). ``kinks(inputs)``: per gradient output (``dx``, ...), where
    any value is accepted (a ReLU at exactly 0)."""

    name: str
    args: tuple[str, ...]
    samples: Callable[[np.random.Generator], Iterable[Sample]]
    torch: TorchLayer
    forward: Pass
    backward: Pass
    grads: tuple[str, ...] = ("x",)
    kinks: Callable[[Mapping[str, Any]], Mapping[str, np.ndarray]] | None = None
    output: str = "out"

    @property
    def functions(self) -> tuple[GradedFunction, GradedFunction]:
        return (self._graded(self.forward, "forward", forward_program(self.name, *self.args, output=self.output),
                             self.output_reference),
                self._graded(self.backward, "backward",
                             backward_program(self.name, *self.args, grads=tuple(f"d{g}" for g in self.grads)),
                             self.gradient_reference))

    def _graded(self, p: Pass, direction: str, program: Program, reference: Reference) -> GradedFunction:
        backward = direction == "backward"
        speed = p.speed
        if speed is not None and p.timed is not None:
            timed = p.timed
            speed = dataclasses.replace(speed, inputs=lambda rng: self._case(rng, timed(rng), backward))
        return GradedFunction(
            name=f"{self.name}_{direction}", program=program if p.program is None else p.program,
            reference=reference if p.reference is None else p.reference,
            cases=lambda rng: [self._case(rng, s, backward) for s in self.samples(rng)
                               if not (backward and s.forward_only)],
            points=p.points, bugs=p.bugs, tolerance=p.tolerance, speed=speed, time_limit=p.time_limit)

    def _case(self, rng: np.random.Generator, sample: Sample, backward: bool) -> Case:
        if not backward:
            return Case(sample.name, sample.inputs)
        shape = self.torch(tensors(sample.inputs), sample.inputs).shape
        return Case(sample.name, {**sample.inputs, "dout": normal(rng, tuple(shape))})

    def output_reference(self, inputs: Mapping[str, Any]) -> dict:
        return output_of(self.torch, self.output)(inputs)

    def gradient_reference(self, inputs: Mapping[str, Any]) -> dict:
        grads = gradients_of(self.torch, self.grads)(inputs)
        free = self.kinks(inputs) if self.kinks else {}
        return {name: Expected(value, free=free[name]) if name in free and free[name].any() else value
                for name, value in grads.items()}


def output_of(f: TorchLayer, output: str = "out") -> Reference:
    """The output named ``output`` of the layer ``f``: a reference, the layer's own or a forward bug's."""
    return lambda inputs: {output: numpy(f(tensors(inputs), inputs))}


def gradients_of(f: TorchLayer, grads: tuple[str, ...] = ("x",)) -> Reference:
    """The gradients ``d<name>`` of ``sum(f(t, inputs) * dout)`` by autograd, for each input in ``grads`` (a
    scalar one becomes a 0-d tensor): a reference, the layer's own or a backward bug's."""

    def reference(inputs: Mapping[str, Any]) -> dict:
        t = tensors(inputs, requires_grad=grads)
        for g in grads:
            if not isinstance(t[g], torch.Tensor):  # a scalar: the bias of one unit
                t[g] = torch.tensor(float(t[g]), dtype=torch.float64, requires_grad=True)
        return gradients(f(t, inputs), inputs["dout"], {g: t[g] for g in grads})

    return reference
