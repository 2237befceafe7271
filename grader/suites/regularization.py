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
  case is at most ``FALSE_FAIL`` (1e-6, grader/suites/properties.py); the two large cases
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

Spatial batch normalisation (``spatial_batchnorm_forward`` / ``_backward`` on
(N, C, H, W)) is graded by the same references, torch's ``F.batch_norm`` on the
4-d maps (``nn.BatchNorm2d``'s statistics over N, H and W, its running variance
the unbiased one over those N * H * W values) and autograd, and its bugs by the
same descriptions, written for any layout. Its cases are chosen so that each
mistake shows: one channel (where a mistake over the wrong axes still runs), a
batch of one image with six values per channel (the unbiased variance 6/5 of
the biased one), maps one pixel wide, non-square maps whose width equals C
(where a gamma broadcast along the width runs, and is wrong), a variance below
eps, and float32 arrays.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from grader.reference import gradients, numpy, tensors
from grader.spec import BugCatalogue, Call, Case, GradedFunction, Input, Program, Returned, Suite, call, float32_exact
from grader.suites.inputs import normal, pick, seed
from grader.suites.layers import Layer, Pass, Sample, gradients_of, output_of
from grader.suites.properties import backward_through_own_mask, valid_dropout

# The hints of this suite's catalogued bugs, prose kept in hints/regularization.toml.
bug = BugCatalogue(__file__)

LOW_DROP_RATES = (0.125, 0.25, 0.375)
HIGH_DROP_RATES = (0.625, 0.75, 0.875)
MOMENTA = (0.1, 0.2, 0.25, 0.3)  # never 0.5, where momentum and 1 - momentum coincide
STATISTICAL_SHAPE = (40, 60)

# --------------------------------------------------------------------------- dropout


def _dropout_samples(rng: np.random.Generator) -> Iterator[Sample]:
    """Yielded one by one: each backward case's dout is drawn right after its sample."""

    def sample(name: str, x: np.ndarray, p: float, train: bool = True, judge: str = "exact",
               forward_only: bool = False) -> Sample:
        return Sample(name, {"x": x, "p": p, "train": train, "seed": seed(rng), "judge": judge}, forward_only)

    any_rate = LOW_DROP_RATES + HIGH_DROP_RATES
    low, high, mid = pick(rng, LOW_DROP_RATES), pick(rng, HIGH_DROP_RATES), pick(rng, any_rate)
    # Positive inputs for the statistics: the mean check is meaningful, and no input is 0.
    stats_low = float32_exact(rng.uniform(0.5, 2.0, STATISTICAL_SHAPE))
    stats_high = float32_exact(rng.uniform(0.5, 2.0, STATISTICAL_SHAPE))
    yield sample("train (N=8, D=10)", normal(rng, (8, 10), 2.0), mid)
    yield sample("train, 4-d activations (2, 3, 4, 5)", normal(rng, (2, 3, 4, 5), 2.0), low)
    yield sample("train, batch of 1 (N=1, D=12)", normal(rng, (1, 12), 2.0), high)
    yield sample("train, p = 0 (nothing dropped)", normal(rng, (6, 7), 2.0), 0.0)
    yield sample("eval mode (identity)", normal(rng, (7, 9), 2.0), pick(rng, any_rate), train=False)
    yield sample(f"mask statistics, p < 0.5 ({stats_low.size} units)", stats_low, low, judge="statistics")
    yield sample(f"mask statistics, p > 0.5 ({stats_high.size} units)", stats_high, high, judge="statistics",
                 forward_only=True)


def _dropout(t: dict, inputs) -> torch.Tensor:
    """Dropout in eval mode (the identity); in train mode any valid mask is right (grader/suites/properties.py)."""
    return F.dropout(t["x"], inputs["p"], training=False)


def _dropout_forward_reference(inputs) -> dict:
    if inputs["train"]:
        return {"out": valid_dropout(inputs["x"], inputs["p"], independence=inputs["judge"] == "statistics")}
    return output_of(_dropout)(inputs)


def _dropout_backward_reference(inputs) -> dict:
    return {"dx": backward_through_own_mask(inputs)} if inputs["train"] else gradients_of(_dropout)(inputs)


# The generator the docstring describes is passed in (``builtin:rng``); using it is not required. The backward
# program sends the forward's output back too: the backward is judged against the mask it shows.
_DROPOUT_FORWARD_CALLS = (call("builtin:rng", "seed"), call("dropout_forward", "x", "p", "train", Returned(0)))
DROPOUT_FORWARD_PROGRAM = Program(_DROPOUT_FORWARD_CALLS, {"out": Returned(1, 0)})
DROPOUT_BACKWARD_PROGRAM = Program(_DROPOUT_FORWARD_CALLS + (call("dropout_backward", "dout", Returned(1, 1)),),
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


DROPOUT_FORWARD, DROPOUT_BACKWARD = Layer(
    "dropout", ("x", "p", "train"), _dropout_samples, _dropout,
    forward=Pass(points=7, program=DROPOUT_FORWARD_PROGRAM, reference=_dropout_forward_reference, bugs=(
        bug("dropout-scaled-at-eval", _dropout_bug(evaluate=lambda x, u, p: x * (1 - p))),
        bug("dropout-applied-at-eval", _dropout_bug(evaluate=_inverted)),
        bug("dropout-keeps-with-probability-p", _dropout_bug(train=lambda x, u, p: x * (u < p) / (1 - p))),
        bug("dropout-not-rescaled", _dropout_bug(train=_masked)),
    )),
    backward=Pass(points=6, program=DROPOUT_BACKWARD_PROGRAM, reference=_dropout_backward_reference, bugs=(
        bug("dropout-backward-scaled-twice",
            _dropout_bug(train=lambda dout, u, p: _inverted(dout, u, p) / (1 - p), backward=True)),
        bug("dropout-backward-not-rescaled", _dropout_bug(train=_masked, backward=True)),
    )),
).functions


# --------------------------------------------------------------------------- batch normalisation


def _bn_parameters(rng: np.random.Generator, d: int) -> dict:
    """gamma of both signs and away from 1 (so a forgotten gamma shows), any beta."""
    gamma = float32_exact(rng.choice(np.array([-1.0, 1.0]), size=d) * rng.uniform(0.5, 2.0, size=d))
    return {"gamma": gamma, "beta": normal(rng, (d,))}


def _running(rng: np.random.Generator, d: int, mean_scale: float = 1.0, var_scale: float = 1.0) -> dict:
    """Running statistics that are not torch's initial zeros and ones."""
    return {"running_mean": normal(rng, (d,), mean_scale),
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
             stats_scale: tuple[float, float] = (1.0, 1.0), axis: int = -1) -> dict:
    """A case's inputs: ``x``, and parameters and running statistics for each feature (channel) of its ``axis``."""
    d = x.shape[axis]
    return {"x": x, **_bn_parameters(rng, d), **_running(rng, d, *stats_scale), "train": train,
            "momentum": pick(rng, MOMENTA), "eps": eps}


def _bn_samples(rng: np.random.Generator) -> Iterator[Sample]:
    """The training batches, drawn first, then their cases one by one (each backward case's dout right after
    it); then the eval-mode cases, of the forward alone."""
    train: list[tuple[str, np.ndarray, dict[str, Any]]] = [
        ("random (N=16, D=8)", _features(rng, 16, 8, shift=2.0), {}),
        ("batch of 2 (N=2, D=5)", _features(rng, 2, 5, shift=1.0), {"eps": 1e-3}),
        ("one feature (N=12, D=1)", _features(rng, 12, 1, 3.0, shift=2.0), {}),
        ("non-square (N=4, D=20)", _features(rng, 4, 20, 2.0, shift=1.0), {}),
        ("large magnitudes (|x| ~ 1000)", _features(rng, 10, 6, 300.0, shift=1000.0),
         {"stats_scale": (1000.0, 1e5)}),
        ("tiny variance (below eps)", _features(rng, 16, 5, 1e-3, shift=1e-3), {}),
    ]
    for name, x, options in train:
        yield Sample(name, _bn_case(rng, x, **options))
    yield Sample("eval mode (running statistics)", _bn_case(rng, _features(rng, 9, 6, 2.0, shift=1.0), train=False),
                 forward_only=True)
    yield Sample("eval mode, batch of 1 (N=1, D=7)",
                 _bn_case(rng, _features(rng, 1, 7, 2.0, shift=1.0), train=False), forward_only=True)
    # Running variances of about 1e-6, below eps = 1e-5: leaving eps out of the eval-mode root shows.
    yield Sample("eval mode, running variance near 0",
                 _bn_case(rng, _features(rng, 8, 5, 1e-3), train=False, stats_scale=(1e-3, 1e-6)), forward_only=True)


def _statistics(x: torch.Tensor, unbiased: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch mean and variance of each feature of (N, D), or of each channel of (N, C, H, W): over every axis
    but 1, as torch's batch norm takes them."""
    axes = [a for a in range(x.dim()) if a != 1]
    return x.mean(axes), x.var(axes, unbiased=unbiased)


def _per_channel(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A vector of one value per feature (channel), shaped to broadcast along axis 1 of ``x``."""
    return v.reshape(1, -1, *(1,) * (x.dim() - 2))


def _batch_norm(t: dict, x: torch.Tensor, inputs, train: bool) -> torch.Tensor:
    """torch's batch norm on ``x``, (N, D) or (N, C, H, W), updating ``t``'s running statistics in place."""
    return F.batch_norm(x, t["running_mean"], t["running_var"], weight=t["gamma"], bias=t["beta"],
                        training=train, momentum=inputs["momentum"], eps=inputs["eps"])


def _bn_layer(t: dict, inputs) -> torch.Tensor:
    """The layer's reference output, in the case's mode."""
    return _batch_norm(t, t["x"], inputs, inputs["train"])


# A batch norm layer, ``layer(t, x, inputs, train) -> out``, that updates the running statistics held in ``t``:
# torch's, or in a bug's reference one with the mistake.
BatchNorm = Callable[[dict, torch.Tensor, Mapping, bool], torch.Tensor]


def _bn_forward_reference(inputs, layer: BatchNorm = _batch_norm) -> dict:
    t = tensors(inputs)
    out = layer(t, t["x"], inputs, inputs["train"])
    return {"out": numpy(out), "running_mean": numpy(t["running_mean"]), "running_var": numpy(t["running_var"])}


STATE = call("builtin:dict", running_mean="running_mean", running_var="running_var")


def _bn_call(x: str | Input = "x", train: str = "train", layer: str = "batchnorm") -> Call:
    """``<layer>_forward`` on the state dict built by the program's first call."""
    return call(f"{layer}_forward", x, "gamma", "beta", Returned(0), train, momentum="momentum", eps="eps",
                modifies=(3,))


def _bn_programs(layer: str) -> tuple[Program, Program]:
    """The programs of a batch norm layer's two graded functions: the forward's output and the running statistics
    it leaves in the state dict; the forward then the backward on its cache, and the three gradients."""
    forward = Program(
        (STATE, _bn_call(layer=layer)),
        {"out": Returned(1, 0), "running_mean": Returned(0, key="running_mean"),
         "running_var": Returned(0, key="running_var")},
    )
    backward = Program(
        (STATE, _bn_call(layer=layer), call(f"{layer}_backward", "dout", Returned(1, 1))),
        {"dx": Returned(2, 0), "dgamma": Returned(2, 1), "dbeta": Returned(2, 2)},
    )
    return forward, backward


BN_FORWARD_PROGRAM, BN_BACKWARD_PROGRAM = _bn_programs("batchnorm")
SPATIAL_FORWARD_PROGRAM, SPATIAL_BACKWARD_PROGRAM = _bn_programs("spatial_batchnorm")

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


def _bn_steps_reference(inputs, layer: BatchNorm = _batch_norm) -> dict:
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
        mean, var = _statistics(x, unbiased)
        t["running_mean"] = update(t["running_mean"], mean, momentum)
        t["running_var"] = update(t["running_var"], var, momentum)
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
        mean, var = _statistics(t["x"]) if inputs["train"] else (t["running_mean"], t["running_var"])
        return {"out": numpy(normalise(t, mean, var, inputs["eps"]))}

    return reference


def _normalised(t: dict, mean: torch.Tensor, var: torch.Tensor, eps: float) -> torch.Tensor:
    """torch's batch norm of ``t["x"]`` with the statistics given."""
    return F.batch_norm(t["x"], mean, var, t["gamma"], t["beta"], training=False, eps=eps)


def _eps_outside_root(t: dict, mean: torch.Tensor, var: torch.Tensor, eps: float) -> torch.Tensor:
    """Dividing by sqrt(var) + eps: torch's batch norm without eps, of the variance whose root that is."""
    return _normalised(t, mean, (torch.sqrt(var) + eps) ** 2, 0.0)


EPS_OUTSIDE_ROOT = _bn_output_bug(train=_eps_outside_root, evaluate=_eps_outside_root)


def _statistics_over(axes: tuple[int, ...]) -> Normalise:
    """A training output normalised with the mean and (biased) variance over the wrong ``axes``, each feature
    (channel) then scaled and shifted by its own gamma and beta."""

    def normalise(t: dict, _mean: torch.Tensor, _var: torch.Tensor, eps: float) -> torch.Tensor:
        x = t["x"]
        x_hat = (x - x.mean(axes, keepdim=True)) / torch.sqrt(x.var(axes, unbiased=False, keepdim=True) + eps)
        return _per_channel(t["gamma"], x) * x_hat + _per_channel(t["beta"], x)

    return normalise


def _from_the_right(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (C,) vector as numpy broadcasts it against (N, C, H, W) unreshaped: along the last axis, W. The mistake
    runs only where W equals C."""
    if x.shape[-1] != v.shape[0]:
        raise ValueError(f"a vector of {v.shape[0]} does not broadcast along a width of {x.shape[-1]}")
    return v


def _gamma_from_the_right(t: dict, mean: torch.Tensor, var: torch.Tensor, eps: float) -> torch.Tensor:
    """The right x_hat, scaled and shifted along the width."""
    x_hat = F.batch_norm(t["x"], mean, var, training=False, eps=eps)
    return _from_the_right(t["gamma"], x_hat) * x_hat + _from_the_right(t["beta"], x_hat)


Scale = Callable[[torch.Tensor, torch.Tensor], torch.Tensor | float]  # (gamma, x) -> what multiplies x_hat


def _bn_dx(*, through_mean: bool = True, through_variance: bool = True, scale: Scale = _per_channel):
    """A backward bug's reference: ``dx`` by autograd through the training forward pass, with the batch mean or
    variance taken for a constant (detached), or x_hat multiplied by ``scale(gamma, x)`` in place of gamma per
    feature (channel), as the mistake does (its dgamma and dbeta are right)."""

    def reference(inputs) -> dict:
        t = tensors(inputs, requires_grad=("x",))
        x = t["x"]
        mean, var = _statistics(x)
        mean, var = (mean if through_mean else mean.detach()), (var if through_variance else var.detach())
        x_hat = (x - _per_channel(mean, x)) / torch.sqrt(_per_channel(var, x) + inputs["eps"])
        return {"dx": gradients(scale(t["gamma"], x) * x_hat, inputs["dout"], {"x": x})["dx"]}

    return reference


NOT_UPDATED = bug("bn-running-stats-not-updated", _bn_running_bug(lambda running, batch, momentum: running))

MOMENTUM_SWAPPED = bug("bn-momentum-swapped",
                       _bn_running_bug(lambda running, batch, momentum: momentum * running + (1 - momentum) * batch))

BIASED_RUNNING_VARIANCE = _bn_running_bug(lambda running, batch, momentum: (1 - momentum) * running + momentum * batch,
                                          unbiased=False)

RUNNING_VAR_BIASED = bug("bn-running-var-biased", BIASED_RUNNING_VARIANCE)

BATCHNORM_FORWARD, BATCHNORM_BACKWARD = Layer(
    "batchnorm", ("x", "gamma", "beta", "train"), _bn_samples,
    _bn_layer, grads=("x", "gamma", "beta"),
    forward=Pass(points=9, program=BN_FORWARD_PROGRAM, reference=_bn_forward_reference, bugs=(
        bug("bn-eps-outside-sqrt", EPS_OUTSIDE_ROOT),
        # The unbiased batch variance (N - 1: torch's default) in place of the biased one.
        bug("bn-unbiased-variance-normalising", _bn_output_bug(train=lambda t, mean, var, eps: _normalised(
                t, mean, _statistics(t["x"], unbiased=True)[1], eps))),
        # Statistics over each row (layer norm's). Only the output is described: the running statistics the
        # mistake feeds (not of shape (D,)) depend on how it makes a row's variance unbiased.
        bug("bn-wrong-axis", _bn_output_bug(train=_statistics_over((1,)))),
        bug("bn-eval-uses-batch-stats",
            _bn_output_bug(evaluate=lambda t, mean, var, eps: _normalised(t, *_statistics(t["x"]), eps))),
        bug("bn-eval-without-eps", _bn_output_bug(evaluate=lambda t, mean, var, eps: _normalised(t, mean, var, 0.0))),
        NOT_UPDATED,
        MOMENTUM_SWAPPED,
        RUNNING_VAR_BIASED,
    )),
    backward=Pass(points=6, program=BN_BACKWARD_PROGRAM, bugs=(
        bug("bn-backward-mean-var-constant", _bn_dx(through_mean=False, through_variance=False)),
        bug("bn-backward-missing-variance-path", _bn_dx(through_variance=False)),
        bug("bn-backward-ignores-gamma", _bn_dx(scale=lambda gamma, x: 1.0)),
    )),
).functions

BATCHNORM_RUNNING_STATS = GradedFunction(
    name="batchnorm_running_stats", points=4,
    program=BN_STEPS_PROGRAM,
    cases=_bn_steps_cases,
    reference=_bn_steps_reference,
    bugs=(NOT_UPDATED, MOMENTUM_SWAPPED, RUNNING_VAR_BIASED),
)


# --------------------------------------------------------------------------- spatial batch normalisation


def _maps(rng: np.random.Generator, n: int, c: int, h: int, w: int, scale: float = 1.0,
          shift: float = 0.0) -> np.ndarray:
    """Feature maps (N, C, H, W) with a different mean and spread per channel: ``_features`` with one row per
    example and position and one column per channel, so that no channel is nearly constant either."""
    rows = _features(rng, n * h * w, c, scale, shift)
    return np.ascontiguousarray(rows.reshape(n, h, w, c).transpose(0, 3, 1, 2))


def _float32(inputs: dict) -> dict:
    """Every array of a case as float32, the dtype a convolutional network's maps have."""
    return {name: v.astype(np.float32) if isinstance(v, np.ndarray) else v for name, v in inputs.items()}


def _spatial_samples(rng: np.random.Generator) -> Iterator[Sample]:
    """The training cases, each with its backward's dout right after it, then an eval-mode case."""
    yield Sample("non-square maps (N=2, C=3, H=5, W=3)",  # W = C: gamma broadcast along W runs, and shows
                 _bn_case(rng, _maps(rng, 2, 3, 5, 3, 2.0, shift=1.0), axis=1))
    yield Sample("one channel (N=3, C=1, H=4, W=5)", _bn_case(rng, _maps(rng, 3, 1, 4, 5, 2.0, shift=2.0), axis=1))
    # Six values per channel: the unbiased variance is 6/5 of the biased one, and every axis but N matters.
    yield Sample("batch of 1 (N=1, C=4, H=2, W=3)", _bn_case(rng, _maps(rng, 1, 4, 2, 3, 2.0, shift=1.0), axis=1))
    yield Sample("maps one pixel wide (N=4, C=3, H=6, W=1)", _bn_case(rng, _maps(rng, 4, 3, 6, 1, shift=1.0), axis=1))
    yield Sample("tiny variance (below eps)", _bn_case(rng, _maps(rng, 2, 3, 3, 4, 1e-3, shift=1e-3), axis=1))
    yield Sample("float32 arrays (N=2, C=4, H=3, W=5)",
                 _float32(_bn_case(rng, _maps(rng, 2, 4, 3, 5, 2.0, shift=1.0), axis=1)))
    yield Sample("eval mode, batch of 1 (N=1, C=3, H=4, W=3)",
                 _bn_case(rng, _maps(rng, 1, 3, 4, 3, 2.0, shift=1.0), train=False, axis=1), forward_only=True)


def _counted_by_the_batch(inputs) -> dict:
    """dx when the mean's and the variance's paths are divided by N instead of N * H * W: H * W times what they
    add to the direct path (the mean and variance taken for constants)."""
    direct = _bn_dx(through_mean=False, through_variance=False)(inputs)["dx"]
    h, w = inputs["x"].shape[2:]
    return {"dx": direct + h * w * (_bn_dx()(inputs)["dx"] - direct)}


SPATIAL_BATCHNORM_FORWARD, SPATIAL_BATCHNORM_BACKWARD = Layer(
    "spatial_batchnorm", ("x", "gamma", "beta", "train"), _spatial_samples,
    _bn_layer, grads=("x", "gamma", "beta"),
    forward=Pass(points=7, program=SPATIAL_FORWARD_PROGRAM, reference=_bn_forward_reference, bugs=(
        bug("spatial-bn-per-pixel", _bn_output_bug(train=_statistics_over((0,)))),
        bug("spatial-bn-stats-over-channels", _bn_output_bug(train=_statistics_over((0, 1, 2)))),
        bug("spatial-bn-running-var-biased", BIASED_RUNNING_VARIANCE),
        bug("spatial-bn-eps-outside-sqrt", EPS_OUTSIDE_ROOT),
        bug("spatial-bn-gamma-wrong-axis", _bn_output_bug(train=_gamma_from_the_right, evaluate=_gamma_from_the_right)),
    )),
    backward=Pass(points=6, program=SPATIAL_BACKWARD_PROGRAM, bugs=(
        bug("spatial-bn-backward-gamma-wrong-axis", _bn_dx(scale=_from_the_right)),
        bug("spatial-bn-backward-count-n", _counted_by_the_batch),
    )),
).functions


SUITE = Suite(
    folder="06_regularization",
    title="Regularisation layers: dropout and batch normalisation",
    functions=(DROPOUT_FORWARD, DROPOUT_BACKWARD, BATCHNORM_FORWARD, BATCHNORM_BACKWARD, BATCHNORM_RUNNING_STATS,
               SPATIAL_BATCHNORM_FORWARD, SPATIAL_BATCHNORM_BACKWARD),
)
