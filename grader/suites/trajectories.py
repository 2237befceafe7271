"""The trajectory family: one declaration of an optimiser's update rule,
``step(w, dw, state, **hyper) -> (w, state)``, yields its two graded
functions, both graded on the whole trajectory (``w0``, then the parameters
after each step, stacked: index ``(t, ...)`` of the feedback is the point
after ``t`` steps):

* ``<step>``: ``STEPS`` steps on gradients the grader supplies, the state
  threaded from one call to the next;
* ``<step> on a quadratic``: ``QUADRATIC_STEPS`` steps minimising
  ``0.5 * w.A.w - b.w``, the child computing each gradient ``A w - b`` at the
  student's own previous point.

The references run ``torch.optim`` on a float64 ``Parameter``; a catalogued
bug is the update rule it amounts to, in torch (``rule_trajectory``), run on
either program. Both functions declare the same bugs and the same note on
where a trajectory departs (``Expected.departs``), so that the hints show on
either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import torch

from grader.reference import numpy, tensors
from grader.spec import (
    BUILTIN,
    Bug,
    Case,
    Expected,
    GradedFunction,
    Input,
    Program,
    Returned,
    Stack,
    Tolerance,
    call,
    float32_exact,
)
from grader.suites.inputs import uniform32

STEPS = 30  # steps on supplied gradients
# The arguments a step may update in place (w, state), as CS231n's optimisers do (w -= lr * dw; return w, config):
# each step's parameters are copied as its call returns, and the trajectory starts from the grader's own w0.
UPDATED_IN_PLACE = (0, 2)
QUADRATIC_STEPS = 40  # steps minimising a quadratic

# --------------------------------------------------------------------------- inputs


def _gradients(rng: np.random.Generator, shape, scale: float = 1.0, zeros: bool = False) -> np.ndarray:
    """``STEPS`` gradients of the given shape: a fixed drift per element plus
    noise as large, so momentum builds up and the signs sometimes flip. With
    ``zeros``, about a third of the elements get exactly 0 at every step."""
    drift = rng.standard_normal(shape)
    g = scale * (drift + rng.standard_normal((STEPS, *shape)))
    if zeros:
        dead = rng.random(shape) < 0.3
        dead.flat[rng.integers(dead.size)] = True
        g[:, dead] = 0.0
    return float32_exact(g)


def on_gradients(rng: np.random.Generator, shape, scale: float = 1.0, zeros: bool = False, **hyper) -> dict:
    """A case's inputs on supplied gradients: ``w0``, the ``STEPS`` gradients and the hyper-parameters."""
    return {"w0": float32_exact(rng.standard_normal(shape)), "grads": _gradients(rng, shape, scale, zeros), **hyper}


def on_quadratic(rng: np.random.Generator, shape, scale: float = 1.0, **hyper) -> dict:
    """``scale * (0.5 * w.A.w - b.w)`` with ``A`` symmetric, eigenvalues in
    [0.5, 4]; ``w`` a vector or a matrix (one quadratic per column, same ``A``).
    A small ``scale`` keeps the minimum where it is but makes the gradients
    small, where ``eps`` matters."""
    d = shape[0]
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eigenvalues = rng.uniform(0.5, 4.0, size=d)
    a = scale * (q * eigenvalues) @ q.T
    return {
        "w0": float32_exact(rng.standard_normal(shape)),
        "A": float32_exact(0.5 * (a + a.T)),
        "b": float32_exact(scale * rng.standard_normal(shape)),
        **hyper,
    }


# --------------------------------------------------------------------------- programs


def _trajectory_program(step: str, hyper: tuple[str, ...]) -> Program:
    """``STEPS`` calls of ``step``, each on the previous call's parameters and
    state (an empty dict at first) and on the next supplied gradient."""
    calls = [call(f"{BUILTIN}dict")]
    w: Input | Returned = Input("w0")
    state = Returned(0)
    for t in range(STEPS):
        calls.append(call(step, w, Input("grads", index=t), state, modifies=UPDATED_IN_PLACE, **{h: h for h in hyper}))
        w, state = Returned(len(calls) - 1, 0), Returned(len(calls) - 1, 1)
    points = (Input("w0"),) + tuple(Returned(1 + t, 0) for t in range(STEPS))
    return Program(tuple(calls), {"trajectory": Stack(points)})


def _quadratic_program(step: str, hyper: tuple[str, ...]) -> Program:
    """``QUADRATIC_STEPS`` rounds of: the gradient ``A w - b`` at the current
    point (a builtin of the child), then one call of ``step``."""
    calls = [call(f"{BUILTIN}dict")]
    w: Input | Returned = Input("w0")
    state = Returned(0)
    points: list[Input | Returned] = [Input("w0")]
    for _ in range(QUADRATIC_STEPS):
        calls.append(call(f"{BUILTIN}quadratic_gradient", w, "A", "b"))
        calls.append(call(step, w, Returned(len(calls) - 1), state, modifies=UPDATED_IN_PLACE,
                          **{h: h for h in hyper}))
        w, state = Returned(len(calls) - 1, 0), Returned(len(calls) - 1, 1)
        points.append(w)
    return Program(tuple(calls), {"trajectory": Stack(tuple(points))})


# --------------------------------------------------------------------------- references

Factory = Callable[[list, dict], torch.optim.Optimizer]


def departure(first_step: str, carried: str) -> Callable[[int], str]:
    """What a trajectory's feedback adds, given the first step that differs:
    ``first_step`` for a trajectory already wrong after one step, ``carried``
    (the state a step passes on) for one that departs later."""

    def says(step: int) -> str:
        if step <= 1:
            return f"step 1 already differs: {first_step}"
        return (f"the trajectory follows torch's for {step - 1} steps and first departs at step {step}: check what "
                f"a step carries over to the next one in state ({carried})")

    return says


def _gradients_reference(make: Factory, departs: Callable[[int], str]):
    """torch's trajectory when ``.grad`` is set to the supplied gradient of each step."""

    def reference(inputs) -> dict:
        p = torch.nn.Parameter(torch.tensor(inputs["w0"]))
        opt = make([p], inputs)
        points = [inputs["w0"]]
        for g in inputs["grads"]:
            opt.zero_grad()
            p.grad = torch.tensor(g)
            opt.step()
            points.append(p.detach().numpy().copy())
        return {"trajectory": Expected(np.stack(points), departs=departs)}

    return reference


def _quadratic_reference(make: Factory, departs: Callable[[int], str]):
    """torch's trajectory minimising ``0.5 * w.A.w - b.w`` by autograd."""

    def reference(inputs) -> dict:
        p = torch.nn.Parameter(torch.tensor(inputs["w0"]))
        a, b = torch.tensor(inputs["A"]), torch.tensor(inputs["b"])
        opt = make([p], inputs)
        points = [inputs["w0"]]
        for _ in range(QUADRATIC_STEPS):
            opt.zero_grad()
            loss = 0.5 * torch.sum(p * (a @ p)) - torch.sum(b * p)
            loss.backward()
            opt.step()
            points.append(p.detach().numpy().copy())
        return {"trajectory": Expected(np.stack(points), departs=departs)}

    return reference


Hyper = Mapping[str, float | bool | tuple[float, float]]


@dataclass(frozen=True)
class Trajectory:
    """One case of either program: the parameters' ``shape``, the ``hyper``-parameters that differ from the
    optimiser's defaults (a ``(low, high)`` pair is drawn uniformly, float32-representable), the gradients'
    ``scale`` (on a quadratic, the loss's) and, on supplied gradients, ``zeros``: some gradients exactly 0."""

    name: str
    shape: tuple[int, ...]
    hyper: Hyper = field(default_factory=dict)
    scale: float = 1.0
    zeros: bool = False

    def case(self, rng: np.random.Generator, defaults: Hyper, quadratic: bool) -> Case:
        drawn = {name: uniform32(rng, *value) if isinstance(value, tuple) else value
                 for name, value in {**defaults, **self.hyper}.items()}
        if quadratic:
            return Case(self.name, on_quadratic(rng, self.shape, self.scale, **drawn))
        return Case(self.name, on_gradients(rng, self.shape, self.scale, self.zeros, **drawn))


@dataclass(frozen=True)
class Optimiser:
    """An optimiser's two graded functions: ``torch(params, hyper)`` makes torch's optimiser with the case's
    hyper-parameters (``defaults``: their names and torch's default values, passed to the step as keywords);
    ``on_gradients`` and ``on_quadratic`` are the cases of each program, whose points add up to ``points``."""

    step: str
    torch: Factory
    defaults: Hyper
    on_gradients: tuple[Trajectory, ...]
    on_quadratic: tuple[Trajectory, ...]
    points: tuple[float, float]
    bugs: tuple[Bug, ...]
    departs: Callable[[int], str]
    quadratic_tolerance: Tolerance = field(default_factory=Tolerance)

    def _cases(self, table: tuple[Trajectory, ...], quadratic: bool) -> Callable[[np.random.Generator], list[Case]]:
        return lambda rng: [trajectory.case(rng, self.defaults, quadratic) for trajectory in table]

    @property
    def functions(self) -> tuple[GradedFunction, GradedFunction]:
        hyper = tuple(self.defaults)
        return (
            GradedFunction(name=self.step, program=_trajectory_program(self.step, hyper),
                           cases=self._cases(self.on_gradients, quadratic=False),
                           reference=_gradients_reference(self.torch, self.departs),
                           points=self.points[0], bugs=self.bugs),
            GradedFunction(name=f"{self.step} on a quadratic", program=_quadratic_program(self.step, hyper),
                           cases=self._cases(self.on_quadratic, quadratic=True),
                           reference=_quadratic_reference(self.torch, self.departs),
                           points=self.points[1], bugs=self.bugs, tolerance=self.quadratic_tolerance),
        )


# A catalogued bug is described by the update rule it amounts to, written with torch operations:
# ``rule(w, g, state, h) -> w_next`` on tensors, with ``h`` the case's hyper-parameters and ``state`` the dict in
# which the rule carries values over to the next step. Each optimiser has one rule, torch's update by default;
# each of its keywords puts one catalogued mistake in.
Rule = Callable[[torch.Tensor, torch.Tensor, dict, Mapping], torch.Tensor]


def rule_trajectory(rule: Rule):
    """A bug's reference: the trajectory of ``rule`` on the case's program, the supplied gradients or the
    quadratic's gradient ``A w - b`` at each point reached (each bug is declared on both graded functions)."""

    def reference(inputs) -> dict:
        t = tensors(inputs)
        supplied = "grads" in inputs
        w, points = t["w0"], [t["w0"]]
        state: dict = {}
        for step in range(STEPS if supplied else QUADRATIC_STEPS):
            g = t["grads"][step] if supplied else t["A"] @ w - t["b"]
            w = rule(w, g, state, inputs)
            points.append(w)
        return {"trajectory": numpy(torch.stack(points))}

    return reference
