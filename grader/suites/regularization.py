"""Hidden suite of assignment 6 (regularization): inverted dropout and batch
normalisation, each graded on its forward output and, separately, on the
gradients of its backward pass; batch normalisation also on its running
statistics, after one call and over several training steps followed by an
evaluation step.

Dropout is judged by what makes it valid, never by the grader's own mask: the
generator the docstring names is passed in (``builtin:rng``), and a student may
draw the mask from it any way (``rng.random(x.shape) >= p``, ``< 1 - p``,
``rng.binomial(1, 1 - p, x.shape)``) or not use it at all.

* forward, train mode: every unit 0 or ``x / (1 - p)``, and the number dropped
  consistent with ``p`` by an exact binomial test whose false-fail rate per
  case is at most ``FALSE_FAIL`` (1e-6); the two large cases
  (``"judge": "statistics"``, 2400 units) also check that units are dropped
  independently and that the mean is kept; eval mode is the identity, exactly;
* backward, train mode: ``dout / (1 - p)`` where the student's own forward
  kept a unit, 0 where it dropped one, read from the forward's output (which
  the program sends back beside ``dx``); a forward output that is not a valid
  dropout makes the case "not graded: `dropout_forward` failed on this input",
  and its points are lost; eval mode: ``dout``, exactly.

Catalogued dropout bugs are described on the mask the docstring's example
draws: one uniform number per unit from the grader's generator
(``np.random.default_rng(seed).random(x.shape)``), the unit kept where it is at
least ``p``; the rest is torch. They are recognised when the student draws the
mask so; drawn another way, the property's message alone says what is wrong.

Batch normalisation is compared with ``torch.nn.functional.batch_norm`` (which
updates the running statistics in place, with the unbiased batch variance) and
its gradients with autograd. The running statistics start non-trivial and the
momentum is never 0.5, so that a forgotten or swapped update shows. The "tiny
variance" case has per-feature variances below eps, where putting eps outside
the square root changes the output by a factor of about 3. No column of a
training batch is nearly constant (see ``_features``), which keeps a float32
dx well inside the tolerance for batches of 2 and 4.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from grader.compare import compare
from grader.reference import gradients, numpy, tensors
from grader.spec import (
    Blocked,
    Bug,
    Call,
    Case,
    Expected,
    GradedFunction,
    Input,
    Program,
    Property,
    Returned,
    Suite,
    Tolerance,
    call,
    float32_exact,
)

# --------------------------------------------------------------------------- helpers

TOLERANCE = Tolerance()
LOW_DROP_RATES = (0.125, 0.25, 0.375)
HIGH_DROP_RATES = (0.625, 0.75, 0.875)
MOMENTA = (0.1, 0.2, 0.25, 0.3)  # never 0.5, where momentum and 1 - momentum coincide
STATISTICAL_SHAPE = (40, 60)
# The probability that a correct dropout fails a case, at most: the binomial test on the number of units dropped
# rejects a count with FALSE_FAIL / 2 of probability on each side, and the large cases' further checks add less
# than 1e-8 (SIGMAS: 2e-9 for a normal sum; MAX_DISPERSION: a variance ratio of 3 over 39 or 59 degrees of freedom,
# below 1e-9 for a chi-square).
FALSE_FAIL = 1e-6
SIGMAS = 6.0
# The spread of the drop counts per row or column over a binomial's: about 1 +- 0.25 for a correct mask.
MAX_DISPERSION = 3.0


def _normal(rng: np.random.Generator, shape, scale: float = 1.0, shift=0.0) -> np.ndarray:
    return float32_exact(shift + scale * rng.standard_normal(shape))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _pick(rng: np.random.Generator, values: tuple[float, ...]) -> float:
    return float(values[rng.integers(len(values))])


# --------------------------------------------------------------------------- dropout


def _binomial_bounds(n: int, p: float, alpha: float) -> tuple[int, int]:
    """The fewest and most of ``n`` units that may be dropped with probability
    ``p`` each: counts outside ``[low, high]`` have probability below
    ``alpha / 2`` on each side (an exact binomial test, two-sided)."""
    if p == 0.0:
        return 0, 0
    k = np.arange(n + 1)
    log_pmf = (np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k])
               + k * math.log(p) + (n - k) * math.log1p(-p))
    pmf = np.exp(log_pmf)
    below, above = np.cumsum(pmf), np.cumsum(pmf[::-1])[::-1]  # P(K <= k), P(K >= k)
    return int(np.argmax(below >= alpha / 2)), int(n - np.argmax(above[::-1] >= alpha / 2))


def _kept_mask(out: np.ndarray, x: np.ndarray, p: float, name: str) -> tuple[np.ndarray, np.ndarray] | str:
    """Which units a train-mode output kept and which it dropped, or what is
    wrong with it: every unit must be 0 or ``x / (1 - p)``. A unit whose input
    is 0 is neither told kept nor dropped."""
    if out.shape != x.shape:
        return f"{name} has shape {out.shape}; expected shape {x.shape}"
    if out.dtype.kind != "f":
        return f"{name} has dtype {out.dtype}; a float32 or float64 array is expected"
    got = out.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return f"{name} contains NaN or infinite values"
    scaled = x / (1.0 - p)
    allowed = TOLERANCE.atol * max(1.0, float(np.max(np.abs(scaled), initial=0.0))) + TOLERANCE.rtol * np.abs(scaled)
    informative = x != 0
    dropped, kept = (got == 0) & informative, (np.abs(got - scaled) <= allowed) & informative
    bad = int(np.sum(informative & ~dropped & ~kept) + np.sum(~informative & (got != 0)))
    if bad:
        return (f"{name} has {bad} of {x.size} units that are neither 0 (dropped) nor x / (1 - p) (kept and "
                f"rescaled)")
    return kept, dropped


def _valid_dropout(x: np.ndarray, p: float, independence: bool) -> Property:
    """Any valid inverted dropout of ``x``: every unit 0 or ``x / (1 - p)``,
    and the number dropped consistent with ``p`` (``_binomial_bounds`` at
    FALSE_FAIL). With ``independence`` (the large cases) also: the drop counts
    per row and per column spread as independent units' do, and the sum is
    kept within SIGMAS of its standard deviation."""
    n = int(np.sum(x != 0))
    low, high = _binomial_bounds(n, p, FALSE_FAIL)

    def check(actual: np.ndarray) -> str | None:
        judged = _kept_mask(actual, x, p, "out")
        if isinstance(judged, str):
            return judged
        _, dropped = judged
        count = int(dropped.sum())
        if not low <= count <= high:
            return (f"out drops {count} of its {n} units; with p = {p:g} a count outside [{low}, {high}] has "
                    f"probability below {FALSE_FAIL:g}: each unit is dropped with probability p, kept with 1 - p")
        if not independence:
            return None
        # A mask shared by a whole row or column spreads the counts per row (column) far more than a binomial's.
        grid = dropped.reshape(x.shape[0], -1)
        for axis in (0, 1):
            counts = grid.sum(axis=axis)
            if np.var(counts) > MAX_DISPERSION * grid.shape[axis] * p * (1.0 - p):
                return ("out drops whole rows or columns together more often than chance allows: draw one "
                        "independent number per unit, with the shape of x")
        # E[sum] = sum(x); Var[sum] = sum(x^2) * p / (1 - p).
        spread = SIGMAS * np.sqrt(np.sum(x ** 2) * p / (1.0 - p))
        if abs(np.sum(actual.astype(np.float64)) - np.sum(x)) > spread:
            return ("the mean of out is far from the mean of x; inverted dropout keeps it the same on average: is "
                    "the mask independent of the values?")
        return None

    return Property(check)


def _backward_through_own_mask(inputs) -> Property:
    """``dx = dout / (1 - p)`` where the student's own forward (its output
    ``out``, sent back beside ``dx``) kept a unit, 0 where it dropped one."""
    x, p, dout = inputs["x"], inputs["p"], inputs["dout"]

    def check(dx: np.ndarray, out: np.ndarray | None) -> str | None:
        judged = "its output was not returned" if out is None else _kept_mask(out, x, p, "its output")
        if isinstance(judged, str):
            return Blocked("dropout_forward", judged)
        kept, dropped = judged
        # Units whose input was 0 were neither: either gradient is accepted there.
        expected = Expected(np.where(kept, dout / (1.0 - p), 0.0), free=~(kept | dropped))
        return compare("dx", dx, expected, TOLERANCE).message or None

    return Property(check, given=("out",))


def _dropout_cases(backward: bool) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        def case(x: np.ndarray, p: float, train: bool = True, judge: str = "exact") -> dict:
            inputs = {"x": x, "p": p, "train": train, "seed": _seed(rng), "judge": judge}
            if backward:
                inputs["dout"] = _normal(rng, x.shape)
            return inputs

        any_rate = LOW_DROP_RATES + HIGH_DROP_RATES
        low, high, mid = _pick(rng, LOW_DROP_RATES), _pick(rng, HIGH_DROP_RATES), _pick(rng, any_rate)
        # Positive inputs for the statistics: the mean check is meaningful, and no input is 0.
        stats_low = float32_exact(rng.uniform(0.5, 2.0, STATISTICAL_SHAPE))
        stats_high = float32_exact(rng.uniform(0.5, 2.0, STATISTICAL_SHAPE))
        result = [
            Case("train (N=8, D=10)", case(_normal(rng, (8, 10), 2.0), mid)),
            Case("train, 4-d activations (2, 3, 4, 5)", case(_normal(rng, (2, 3, 4, 5), 2.0), low)),
            Case("train, batch of 1 (N=1, D=12)", case(_normal(rng, (1, 12), 2.0), high)),
            Case("train, p = 0 (nothing dropped)", case(_normal(rng, (6, 7), 2.0), 0.0)),
            Case("eval mode (identity)", case(_normal(rng, (7, 9), 2.0), _pick(rng, any_rate), train=False)),
            Case(f"mask statistics, p < 0.5 ({stats_low.size} units)", case(stats_low, low, judge="statistics")),
        ]
        if not backward:
            result.append(Case(f"mask statistics, p > 0.5 ({stats_high.size} units)",
                               case(stats_high, high, judge="statistics")))
        return result

    return cases


def _dropout_reference(backward: bool):
    def reference(inputs) -> dict:
        if inputs["train"]:
            if backward:
                return {"dx": _backward_through_own_mask(inputs)}
            return {"out": _valid_dropout(inputs["x"], inputs["p"], independence=inputs["judge"] == "statistics")}
        t = tensors(inputs, requires_grad=("x",))
        out = F.dropout(t["x"], inputs["p"], training=False)
        if not backward:
            return {"out": numpy(out)}
        return {"dx": gradients(out, inputs["dout"], {"x": t["x"]})["dx"]}

    return reference


def _dropout_program(backward: bool) -> Program:
    """The generator the docstring describes is passed in (``builtin:rng``);
    using it is not required. The backward program sends the forward's output
    back too: the backward is judged against the mask it shows."""
    calls = (call("builtin:rng", "seed"), call("dropout_forward", "x", "p", "train", Returned(0)))
    if not backward:
        return Program(calls, {"out": Returned(1, 0)})
    return Program(calls + (call("dropout_backward", "dout", Returned(1, 1)),),
                   {"dx": Returned(2), "out": Returned(1, 0)})


Mode = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]  # (x or dout, uniform numbers u, p) -> output


def _masked(v: torch.Tensor, u: torch.Tensor, p: float) -> torch.Tensor:
    """``v`` where the docstring's mask keeps a unit (``u >= p``), 0 elsewhere."""
    return v * (u >= p)


def _inverted(v: torch.Tensor, u: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout on the docstring's mask; for a fixed mask, its own backward pass too."""
    return _masked(v, u, p) / (1 - p)


def _dropout_bug(train: Mode = _inverted, evaluate: Mode = lambda v, u, p: v, backward: bool = False):
    """A dropout bug's reference: the forward's ``out`` (with ``backward``, the backward's ``dx``), computed by
    ``train`` or ``evaluate`` as the case's mode says, from ``x`` (``dout``) and ``u``: the uniform numbers, one
    per unit, that the docstring's way of drawing the mask (``rng.random(x.shape)``) gets from the grader's
    generator. The defaults are the right layer's; a bug replaces one of them."""

    def reference(inputs) -> dict:
        v = torch.tensor(inputs["dout" if backward else "x"])
        u = torch.tensor(np.random.default_rng(inputs["seed"]).random(v.shape))
        mode = train if inputs["train"] else evaluate
        return {"dx" if backward else "out": numpy(mode(v, u, inputs["p"]))}

    return reference


DROPOUT_FORWARD = GradedFunction(
    name="dropout_forward",
    program=_dropout_program(backward=False),
    cases=_dropout_cases(backward=False),
    reference=_dropout_reference(backward=False),
    bugs=(
        Bug(
            name="dropout-scaled-at-eval",
            hint="In eval mode your output is scaled. Inverted dropout already rescales the kept units by "
            "1 / (1 - p) while training, so at test time the layer is the identity: the output is x itself.",
            reference=_dropout_bug(evaluate=lambda x, u, p: x * (1 - p)),
        ),
        Bug(
            name="dropout-applied-at-eval",
            hint="In eval mode your output still drops units. Dropout is only active while training; at test "
            "time every unit is kept and the output is x.",
            reference=_dropout_bug(evaluate=_inverted),
        ),
        Bug(
            name="dropout-keeps-with-probability-p",
            hint="Your mask keeps a unit with probability p. Here p is the probability of dropping a unit "
            "(as in torch.nn.Dropout): a unit is kept with probability 1 - p.",
            reference=_dropout_bug(train=lambda x, u, p: x * (u < p) / (1 - p)),
        ),
        Bug(
            name="dropout-not-rescaled",
            hint="While training, your kept units are not rescaled. Inverted dropout divides them by the keep "
            "probability 1 - p, so that the expected output equals the input and nothing changes at test time.",
            reference=_dropout_bug(train=_masked),
        ),
    ),
)

DROPOUT_BACKWARD = GradedFunction(
    name="dropout_backward",
    program=_dropout_program(backward=True),
    cases=_dropout_cases(backward=True),
    reference=_dropout_reference(backward=True),
    bugs=(
        Bug(
            name="dropout-backward-scaled-twice",
            hint="Your gradient is rescaled by 1 / (1 - p) twice. If the cached mask already holds the scale, "
            "multiply dout by it once: the backward pass applies exactly what the forward pass applied to x.",
            reference=_dropout_bug(train=lambda dout, u, p: _inverted(dout, u, p) / (1 - p), backward=True),
        ),
        Bug(
            name="dropout-backward-not-rescaled",
            hint="Your gradient is masked but not rescaled. The forward pass multiplies the kept units by "
            "1 / (1 - p), so the same factor multiplies their gradient.",
            reference=_dropout_bug(train=_masked, backward=True),
        ),
    ),
)


# --------------------------------------------------------------------------- batch normalisation


def _bn_parameters(rng: np.random.Generator, d: int) -> dict:
    """gamma of both signs and away from 1 (so a forgotten gamma shows), any beta."""
    gamma = float32_exact(rng.choice(np.array([-1.0, 1.0]), size=d) * rng.uniform(0.5, 2.0, size=d))
    return {"gamma": gamma, "beta": _normal(rng, (d,))}


def _running(rng: np.random.Generator, d: int, mean_scale: float = 1.0, var_scale: float = 1.0) -> dict:
    """Running statistics that are not torch's initial zeros and ones."""
    return {"running_mean": _normal(rng, (d,), mean_scale),
            "running_var": float32_exact(var_scale * rng.uniform(0.5, 3.0, size=d))}


def _features(rng: np.random.Generator, n: int, d: int, scale: float = 1.0, shift: float = 0.0,
              leading=()) -> np.ndarray:
    """Activations with a different mean and spread per feature (column).

    No column of a batch is nearly constant (its standard deviation is at least
    half its spread): dx is a near-cancellation of terms of size
    |gamma * dout| / std, so a float32 result is only as accurate as std is
    large, and small batches (N = 2, 4) would otherwise draw such columns."""
    means = shift * rng.standard_normal(d)
    spreads = scale * rng.uniform(0.5, 2.0, size=d)
    z = rng.standard_normal((*leading, n, d))
    centre = np.mean(z, axis=-2, keepdims=True)
    z = centre + (z - centre) * np.maximum(1.0, 0.5 / np.maximum(np.std(z, axis=-2, keepdims=True), 1e-9))
    return float32_exact(means + spreads * z)


def _bn_case(rng: np.random.Generator, x: np.ndarray, *, train: bool = True, eps: float = 1e-5,
             stats_scale: tuple[float, float] = (1.0, 1.0), dout: bool = False) -> dict:
    d = x.shape[-1]
    inputs = {"x": x, **_bn_parameters(rng, d), **_running(rng, d, *stats_scale), "train": train,
              "momentum": _pick(rng, MOMENTA), "eps": eps}
    if dout:
        inputs["dout"] = _normal(rng, x.shape)
    return inputs


def _bn_train_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray, dict]]:
    """Named training batches shared by the forward and backward cases."""
    return [
        ("random (N=16, D=8)", _features(rng, 16, 8, shift=2.0), {}),
        ("batch of 2 (N=2, D=5)", _features(rng, 2, 5, shift=1.0), {"eps": 1e-3}),
        ("one feature (N=12, D=1)", _features(rng, 12, 1, 3.0, shift=2.0), {}),
        ("non-square (N=4, D=20)", _features(rng, 4, 20, 2.0, shift=1.0), {}),
        ("large magnitudes (|x| ~ 1000)", _features(rng, 10, 6, 300.0, shift=1000.0),
         {"stats_scale": (1000.0, 1e5)}),
        ("tiny variance (below eps)", _features(rng, 16, 5, 1e-3, shift=1e-3), {}),
    ]


def _bn_forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(name, _bn_case(rng, x, **options)) for name, x, options in _bn_train_inputs(rng)]
    cases += [
        Case("eval mode (running statistics)", _bn_case(rng, _features(rng, 9, 6, 2.0, shift=1.0), train=False)),
        Case("eval mode, batch of 1 (N=1, D=7)", _bn_case(rng, _features(rng, 1, 7, 2.0, shift=1.0), train=False)),
        # Running variances of about 1e-6, below eps = 1e-5: leaving eps out of the eval-mode root shows.
        Case("eval mode, running variance near 0", _bn_case(rng, _features(rng, 8, 5, 1e-3), train=False,
                                                             stats_scale=(1e-3, 1e-6))),
    ]
    return cases


def _bn_backward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, _bn_case(rng, x, dout=True, **options)) for name, x, options in _bn_train_inputs(rng)]


def _batch_norm(t: dict, x: torch.Tensor, inputs, train: bool) -> torch.Tensor:
    """torch's batch norm on ``x``, updating ``t``'s running statistics in place."""
    return F.batch_norm(x, t["running_mean"], t["running_var"], weight=t["gamma"], bias=t["beta"],
                        training=train, momentum=inputs["momentum"], eps=inputs["eps"])


# A batch norm layer, ``layer(t, x, inputs, train) -> out``, that updates the running statistics held in ``t``:
# torch's, or in a bug's reference one with the mistake.
Layer = Callable[[dict, torch.Tensor, Mapping, bool], torch.Tensor]


def _bn_forward_reference(inputs, layer: Layer = _batch_norm) -> dict:
    t = tensors(inputs)
    out = layer(t, t["x"], inputs, inputs["train"])
    return {"out": numpy(out), "running_mean": numpy(t["running_mean"]), "running_var": numpy(t["running_var"])}


def _bn_backward_reference(inputs) -> dict:
    t = tensors(inputs, requires_grad=("x", "gamma", "beta"))
    out = _batch_norm(t, t["x"], inputs, True)
    return gradients(out, inputs["dout"], {k: t[k] for k in ("x", "gamma", "beta")})


STATE = call("builtin:dict", running_mean="running_mean", running_var="running_var")


def _bn_call(x: str | Input = "x", train: str = "train") -> Call:
    """``batchnorm_forward`` on the state dict built by the program's first call."""
    return call("batchnorm_forward", x, "gamma", "beta", Returned(0), train, momentum="momentum", eps="eps",
                modifies=(3,))


BN_FORWARD_PROGRAM = Program(
    (STATE, _bn_call()),
    {"out": Returned(1, 0), "running_mean": Returned(0, key="running_mean"),
     "running_var": Returned(0, key="running_var")},
)

BN_BACKWARD_PROGRAM = Program(
    (STATE, _bn_call(), call("batchnorm_backward", "dout", Returned(1, 1))),
    {"dx": Returned(2, 0), "dgamma": Returned(2, 1), "dbeta": Returned(2, 2)},
)

# Several training steps on x[0], x[1], ..., then one evaluation step on x[-1].
TRAIN_STEPS = 3
BN_STEPS_PROGRAM = Program(
    (STATE, *(_bn_call(Input("x", i)) for i in range(TRAIN_STEPS)), _bn_call(Input("x", TRAIN_STEPS), "test")),
    {"out": Returned(TRAIN_STEPS + 1, 0), "running_mean": Returned(0, key="running_mean"),
     "running_var": Returned(0, key="running_var")},
)


def _bn_steps_case(rng: np.random.Generator, n: int, d: int, scale: float = 1.0, shift: float = 1.0,
                   fresh: bool = False, stats_scale=(1.0, 1.0)) -> dict:
    inputs = _bn_case(rng, _features(rng, n, d, scale, shift, leading=(TRAIN_STEPS + 1,)), stats_scale=stats_scale)
    inputs["test"] = False
    if fresh:  # torch's initial running statistics
        inputs["running_mean"], inputs["running_var"] = np.zeros(d), np.ones(d)
    return inputs


def _bn_steps_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(f"{TRAIN_STEPS} train steps from torch's initial statistics, then eval (N=8, D=6)",
             _bn_steps_case(rng, 8, 6, 2.0, fresh=True)),
        Case(f"{TRAIN_STEPS} train steps, then eval (N=12, D=4)", _bn_steps_case(rng, 12, 4, 2.0, shift=3.0)),
        Case(f"{TRAIN_STEPS} train steps on batches of 2, then eval (D=5)", _bn_steps_case(rng, 2, 5)),
        Case(f"{TRAIN_STEPS} train steps, large magnitudes, then eval", _bn_steps_case(
            rng, 10, 4, 300.0, shift=1000.0, stats_scale=(1000.0, 1e5))),
    ]


def _bn_steps_reference(inputs, layer: Layer = _batch_norm) -> dict:
    t = tensors(inputs)
    for i in range(TRAIN_STEPS):
        layer(t, t["x"][i], inputs, True)
    out = layer(t, t["x"][TRAIN_STEPS], inputs, False)
    return {"out": numpy(out), "running_mean": numpy(t["running_mean"]), "running_var": numpy(t["running_var"])}


# --------------------------------------------------------------------------- batch normalisation bugs

Update = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]  # (running, batch statistic, momentum) -> new


def _bn_running_bug(update: Update, unbiased: bool = True):
    """A bug of the running statistics (the output is torch's): each training step sets each of them to
    ``update(running, batch statistic, momentum)``, the batch variance being the unbiased one, or with
    ``unbiased=False`` the biased one. It runs either program that grades them: one call, or the training steps
    then an evaluation."""

    def layer(t, x, inputs, train):
        if not train:
            return _batch_norm(t, x, inputs, False)
        momentum = inputs["momentum"]
        t["running_mean"] = update(t["running_mean"], x.mean(0), momentum)
        t["running_var"] = update(t["running_var"], x.var(0, unbiased=unbiased), momentum)
        return F.batch_norm(x, None, None, t["gamma"], t["beta"], training=True, eps=inputs["eps"])

    # The running-statistics program's inputs alone name the mode of its evaluation step, "test".
    return lambda inputs: (_bn_steps_reference if "test" in inputs else _bn_forward_reference)(inputs, layer)


# out = normalise(t, mean, var, eps), from the tensors of the inputs and the statistics torch's layer normalises
# with in the case's mode (the batch's, with the biased variance, while training; the running ones in eval mode).
Normalise = Callable[[dict, torch.Tensor, torch.Tensor, float], torch.Tensor]


def _bn_output_bug(train: Normalise | None = None, evaluate: Normalise | None = None):
    """A bug of the forward's output alone, its running statistics being torch's: ``out`` as ``train`` or
    ``evaluate`` gives it, by the case's mode; None for a mode the mistake leaves right."""

    def reference(inputs) -> dict:
        normalise = train if inputs["train"] else evaluate
        if normalise is None:
            return {}
        t = tensors(inputs)
        x = t["x"]
        mean, var = ((x.mean(0), x.var(0, unbiased=False)) if inputs["train"]
                     else (t["running_mean"], t["running_var"]))
        return {"out": numpy(normalise(t, mean, var, inputs["eps"]))}

    return reference


def _normalised(t: dict, mean: torch.Tensor, var: torch.Tensor, eps: float) -> torch.Tensor:
    """torch's batch norm of ``t["x"]`` with the statistics given."""
    return F.batch_norm(t["x"], mean, var, t["gamma"], t["beta"], training=False, eps=eps)


def _eps_outside_root(t: dict, mean: torch.Tensor, var: torch.Tensor, eps: float) -> torch.Tensor:
    return t["gamma"] * (t["x"] - mean) / (torch.sqrt(var) + eps) + t["beta"]


def _bn_dx(*, through_mean: bool = True, through_variance: bool = True, scaled_by_gamma: bool = True):
    """A backward bug's reference: ``dx`` by autograd through the training forward pass, with the batch mean or
    variance taken for a constant (detached), or gamma left out, as the mistake does (its dgamma and dbeta are
    right)."""

    def reference(inputs) -> dict:
        t = tensors(inputs, requires_grad=("x",))
        x = t["x"]
        mean, var = x.mean(0), x.var(0, unbiased=False)
        x_hat = ((x - (mean if through_mean else mean.detach()))
                 / torch.sqrt((var if through_variance else var.detach()) + inputs["eps"]))
        out = (t["gamma"] if scaled_by_gamma else 1.0) * x_hat + t["beta"]
        return {"dx": gradients(out, inputs["dout"], {"x": x})["dx"]}

    return reference


NOT_UPDATED = Bug(
    name="bn-running-stats-not-updated",
    hint="Your running mean and variance do not change in train mode. Each training step moves them toward "
    "the batch statistics: running = (1 - momentum) * running + momentum * batch statistic; eval mode then "
    "normalises with them.",
    reference=_bn_running_bug(lambda running, batch, momentum: running),
)

MOMENTUM_SWAPPED = Bug(
    name="bn-momentum-swapped",
    hint="Your running statistics weight the new batch statistic by 1 - momentum and the old value by "
    "momentum. With torch's convention momentum is the weight of the new batch statistic (0.1 by default).",
    reference=_bn_running_bug(lambda running, batch, momentum: momentum * running + (1 - momentum) * batch),
)

RUNNING_VAR_BIASED = Bug(
    name="bn-running-var-biased",
    hint="Your running variance is built from the biased batch variance (divided by N). torch normalises the "
    "batch with the biased variance but feeds the unbiased one (divided by N - 1) into the running estimate.",
    reference=_bn_running_bug(lambda running, batch, momentum: (1 - momentum) * running + momentum * batch,
                              unbiased=False),
)

BATCHNORM_FORWARD = GradedFunction(
    name="batchnorm_forward",
    program=BN_FORWARD_PROGRAM,
    cases=_bn_forward_cases,
    reference=_bn_forward_reference,
    bugs=(
        Bug(
            name="bn-eps-outside-sqrt",
            hint="Your output is far off when a feature's variance is tiny: eps is added after the square root. "
            "Normalise by sqrt(var + eps), which keeps the scale bounded when the variance is near 0.",
            reference=_bn_output_bug(train=_eps_outside_root, evaluate=_eps_outside_root),
        ),
        Bug(
            name="bn-unbiased-variance-normalising",
            hint="Your output is normalised with the unbiased batch variance (divided by N - 1). Batch norm "
            "normalises with the batch's own, biased variance (divided by N); only the running estimate uses "
            "the unbiased one.",
            # The unbiased batch variance (N - 1: torch's default) in place of the biased one.
            reference=_bn_output_bug(train=lambda t, mean, var, eps: _normalised(t, mean, t["x"].var(0), eps)),
        ),
        Bug(
            name="bn-wrong-axis",
            hint="Your statistics are taken over the features of each example instead of over the batch. Batch "
            "norm normalises each feature (column) with its mean and variance across the N examples (axis 0).",
            # Statistics over each row are layer norm's. Only the output is described: the running statistics the
            # mistake feeds (not of shape (D,)) depend on how it makes a row's variance unbiased.
            reference=_bn_output_bug(train=lambda t, mean, var, eps: F.layer_norm(t["x"], t["x"].shape[-1:],
                                                                                 t["gamma"], t["beta"], eps)),
        ),
        Bug(
            name="bn-eval-uses-batch-stats",
            hint="In eval mode your output is normalised with the statistics of the batch at hand. At test time "
            "batch norm uses the running mean and variance gathered during training, so that each example's "
            "output does not depend on the rest of the batch.",
            reference=_bn_output_bug(evaluate=lambda t, mean, var, eps: _normalised(
                t, t["x"].mean(0), t["x"].var(0, unbiased=False), eps)),
        ),
        Bug(
            name="bn-eval-without-eps",
            hint="In eval mode your output divides by the root of the running variance alone. eps belongs under "
            "the root in both modes, sqrt(running_var + eps): a feature whose running variance is near 0 is "
            "otherwise blown up.",
            reference=_bn_output_bug(evaluate=lambda t, mean, var, eps: _normalised(t, mean, var, 0.0)),
        ),
        NOT_UPDATED,
        MOMENTUM_SWAPPED,
        RUNNING_VAR_BIASED,
    ),
)

BATCHNORM_BACKWARD = GradedFunction(
    name="batchnorm_backward",
    program=BN_BACKWARD_PROGRAM,
    cases=_bn_backward_cases,
    reference=_bn_backward_reference,
    bugs=(
        Bug(
            name="bn-backward-mean-var-constant",
            hint="Your dx treats the batch mean and variance as constants (dx = dout * gamma / std). They are "
            "computed from x, so the gradient also flows through them: every row of x affects every output of "
            "its column.",
            reference=_bn_dx(through_mean=False, through_variance=False),
        ),
        Bug(
            name="bn-backward-missing-variance-path",
            hint="Your dx follows the path through the batch mean but not the one through the batch variance. "
            "The variance depends on x too; its term involves x_hat times the batch mean of dx_hat * x_hat.",
            reference=_bn_dx(through_variance=False),
        ),
        Bug(
            name="bn-backward-ignores-gamma",
            hint="Your dx ignores gamma. The output is gamma * x_hat + beta, so the gradient reaching x_hat is "
            "dout * gamma before it goes back through the normalisation.",
            reference=_bn_dx(scaled_by_gamma=False),
        ),
    ),
)

BATCHNORM_RUNNING_STATS = GradedFunction(
    name="batchnorm_running_stats",
    program=BN_STEPS_PROGRAM,
    cases=_bn_steps_cases,
    reference=_bn_steps_reference,
    bugs=(NOT_UPDATED, MOMENTUM_SWAPPED, RUNNING_VAR_BIASED),
)


SUITE = Suite(
    assignment="regularization",
    folder="06_regularization",
    module="regularization",
    title="Regularisation layers: dropout and batch normalisation",
    functions=(DROPOUT_FORWARD, DROPOUT_BACKWARD, BATCHNORM_FORWARD, BATCHNORM_BACKWARD, BATCHNORM_RUNNING_STATS),
)
