"""Hidden suite of assignment 1 (neuron): the activation layers (sigmoid, tanh,
ReLU, leaky ReLU, ELU, row-wise softmax) and a single neuron, each graded on
its forward output and, separately, on the gradients of its backward pass.

Every float input is rounded to a float32-representable value (still a float64
array): a student who casts to float32 then sees exactly the grader's inputs,
which matters for scores near ±1000, where float32's spacing is 6e-5.

ReLU, leaky ReLU and ELU have a kink at 0, where any one-sided derivative is
accepted (``Expected.free``); the "exact zeros" cases check the rest of the
array.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from grader.reference import numpy, tensors
from grader.spec import Bug, BugCatalogue, Suite, float32_exact
from grader.suites.inputs import around_1000, normal, scalar32, with_zeros
from grader.suites.layers import Layer, Pass, Sample, gradients_of, output_of

# The hints of this suite's catalogued bugs, prose kept in hints/neuron.toml.
bug = BugCatalogue(__file__)


def _elementwise_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Named inputs for an elementwise activation: any shape, both signs, the
    kink at 0, and magnitudes where a naive exp overflows."""
    return [
        ("random (N=8, D=5)", normal(rng, (8, 5), 2.0)),
        ("non-square (N=3, D=11)", normal(rng, (3, 11), 3.0)),
        ("batch of 1 (N=1, D=6)", normal(rng, (1, 6), 2.0)),
        ("3-d array (2, 3, 4)", normal(rng, (2, 3, 4), 2.0)),
        ("exact zeros", with_zeros(rng, normal(rng, (6, 4), 2.0))),
        ("all negative", float32_exact(-np.abs(normal(rng, (5, 3), 2.0)) - 0.125)),
        ("large magnitudes (around ±1000)", around_1000(rng, (4, 5))),
    ]


def _softmax_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    ties = normal(rng, (5, 4), 2.0)
    ties[:, 1] = ties[:, 3] = np.max(ties, axis=1)  # two maxima per row
    ties[0] = 0.0  # a whole row tied: the uniform distribution
    spread = normal(rng, (4, 5), 3.0)
    spread[np.arange(4), rng.integers(0, 5, size=4)] += 1000.0  # one class ~1000 above the others
    # Rows whose maxima are ~1000 apart: a shift by the whole array's maximum (not each row's) underflows the
    # lower rows' exps to 0, and their softmax to 0 / 0.
    apart = normal(rng, (4, 5), 2.0) + np.array([[0.0], [1000.0], [-1000.0], [500.0]])
    return [
        ("random (N=6, C=4)", normal(rng, (6, 4), 2.0)),
        ("non-square (N=3, C=10)", normal(rng, (3, 10), 3.0)),
        ("batch of 1 (N=1, C=5)", normal(rng, (1, 5), 2.0)),
        ("one class (N=5, C=1)", normal(rng, (5, 1), 2.0)),
        ("ties (equal logits)", ties),
        ("logits near +1000 (N=4, C=3)", normal(rng, (4, 3), 3.0, 1000.0)),
        ("logits near -1000 (N=4, C=3)", normal(rng, (4, 3), 3.0, -1000.0)),
        ("logits spread by ~1000 (N=4, C=5)", float32_exact(spread)),
        ("rows whose maxima differ by ~1000 (N=4, C=5)", float32_exact(apart)),
    ]


def _leaky_alphas(rng: np.random.Generator, n: int) -> list[float]:
    """Slopes between 0.05 and 0.5, and the usual 0.01 once."""
    alphas = [scalar32(rng.uniform(0.05, 0.5)) for _ in range(n)]
    alphas[rng.integers(n)] = scalar32(0.01)
    return alphas


def _elu_alphas(rng: np.random.Generator, n: int) -> list[float]:
    """Below and above 1 (so a forgotten alpha shows), and the default 1.0 once."""
    alphas = [scalar32(rng.uniform(0.2, 0.7) if i % 2 else rng.uniform(1.5, 3.0)) for i in range(n)]
    alphas[rng.integers(n)] = 1.0
    return alphas


ELEMENTWISE_POINTS, SOFTMAX_POINTS = 7, 9  # one per case of _elementwise_inputs, of _softmax_inputs


def _activation(name: str, f: Callable[[torch.Tensor, Mapping], torch.Tensor], *, inputs=_elementwise_inputs,
                points: float = ELEMENTWISE_POINTS, alphas=None, kinked: bool = False,
                forward_bugs: tuple[Bug, ...] = (), backward_bugs: tuple[Bug, ...] = ()):
    """The forward and backward graded functions of the one-input layer ``out = f(x, inputs)``: ``x`` (and
    ``alpha`` when the layer takes one, drawn per case after every ``x``), free where ``x == 0`` when the layer
    has a kink there. An elementwise layer unless told otherwise."""

    def samples(rng: np.random.Generator) -> list[Sample]:
        named = inputs(rng)
        alpha = alphas(rng, len(named)) if alphas else [None] * len(named)
        return [Sample(case, {"x": x} if a is None else {"x": x, "alpha": a}) for (case, x), a in zip(named, alpha)]

    return Layer(name, ("x", "alpha") if alphas else ("x",), samples, lambda t, i: f(t["x"], i),
                 kinks=(lambda i: {"dx": i["x"] == 0}) if kinked else None,
                 forward=Pass(points, forward_bugs), backward=Pass(points, backward_bugs)).functions


def _output(f: Callable[[torch.Tensor, Mapping], torch.Tensor]):
    """A forward bug's reference: the ``out`` a mistaken layer computes, ``f(x, inputs)``."""
    return output_of(lambda t, inputs: f(t["x"], inputs))


def _gradient(f: Callable[[torch.Tensor, torch.Tensor, dict], torch.Tensor]):
    """A backward bug's reference: the ``dx`` a mistaken backward pass computes,
    ``f(x, dout, inputs)``, written out without autograd."""

    def reference(inputs) -> dict:
        t = tensors(inputs)
        return {"dx": numpy(f(t["x"], t["dout"], inputs))}

    return reference


# --------------------------------------------------------------------------- sigmoid, tanh, ReLU

def _sigmoid_slope(z: torch.Tensor) -> torch.Tensor:
    """sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z))."""
    return torch.sigmoid(z) * (1.0 - torch.sigmoid(z))


SIGMOID_FORWARD, SIGMOID_BACKWARD = _activation(
    "sigmoid", lambda x, _: torch.sigmoid(x),
    backward_bugs=(
        bug("sigmoid-derivative-applied-twice", _gradient(lambda x, dout, _: dout * _sigmoid_slope(torch.sigmoid(x)))),
        bug("sigmoid-backward-ignores-dout", _gradient(lambda x, dout, _: _sigmoid_slope(x))),
    ),
)

TANH_FORWARD, TANH_BACKWARD = _activation(
    "tanh", lambda x, _: torch.tanh(x),
    forward_bugs=(
        bug("tanh-exp-overflow", _output(lambda x, _: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x)))),
    ),
    backward_bugs=(
        bug("tanh-derivative-not-squared", _gradient(lambda x, dout, _: dout * (1.0 - torch.tanh(x)))),
        bug("tanh-derivative-applied-twice",
            _gradient(lambda x, dout, _: dout * (1.0 - torch.tanh(torch.tanh(x)) ** 2))),
    ),
)

RELU_FORWARD, RELU_BACKWARD = _activation(
    "relu", lambda x, _: torch.relu(x), kinked=True,
    backward_bugs=(
        bug("relu-gradient-not-masked", _gradient(lambda x, dout, _: dout)),
        bug("relu-gradient-times-output", _gradient(lambda x, dout, _: dout * torch.relu(x))),
    ),
)

# --------------------------------------------------------------------------- leaky ReLU, ELU

LEAKY_RELU_FORWARD, LEAKY_RELU_BACKWARD = _activation(
    "leaky_relu", lambda x, inputs: F.leaky_relu(x, negative_slope=inputs["alpha"]), alphas=_leaky_alphas, kinked=True,
    forward_bugs=(bug("leaky-relu-ignores-alpha", _output(lambda x, _: F.leaky_relu(x, negative_slope=0.01))),),
    backward_bugs=(
        bug("leaky-relu-slope-on-positive-side",
            _gradient(lambda x, dout, inputs: torch.where(x > 0, inputs["alpha"] * dout, dout))),
        bug("leaky-relu-gradient-zero-for-negative", _gradient(lambda x, dout, _: dout * (x > 0))),
    ),
)

ELU_FORWARD, ELU_BACKWARD = _activation(
    "elu", lambda x, inputs: F.elu(x, alpha=inputs["alpha"]), alphas=_elu_alphas, kinked=True,
    forward_bugs=(bug("elu-forward-missing-alpha", _output(lambda x, _: F.elu(x, alpha=1.0))),),
    backward_bugs=(
        bug("elu-derivative-uses-out",
            _gradient(lambda x, dout, inputs: dout * torch.where(x > 0, 1.0, F.elu(x, inputs["alpha"])))),
        bug("elu-derivative-missing-alpha", _gradient(lambda x, dout, _: dout * torch.where(x > 0, 1.0, torch.exp(x)))),
    ),
)

# --------------------------------------------------------------------------- softmax

def _softmax_shifted_by_global_max(x: torch.Tensor, _) -> torch.Tensor:
    """Row-wise softmax of the logits shifted by the whole array's maximum: rows far below it underflow to 0 / 0."""
    e = torch.exp(x - x.max())
    return e / e.sum(1, keepdim=True)


def _softmax_diagonal_gradient(x: torch.Tensor, dout: torch.Tensor, _) -> torch.Tensor:
    """The softmax gradient through the diagonal of its Jacobian only, as if it were elementwise."""
    p = torch.softmax(x, dim=1)
    return dout * p * (1.0 - p)


SOFTMAX_FORWARD, SOFTMAX_BACKWARD = _activation(
    "softmax", lambda x, _: torch.softmax(x, dim=1), inputs=_softmax_inputs, points=SOFTMAX_POINTS,
    forward_bugs=(
        bug("softmax-no-max-shift", _output(lambda x, _: torch.exp(x) / torch.exp(x).sum(1, keepdim=True))),
        bug("softmax-global-max-shift", _output(_softmax_shifted_by_global_max)),
        bug("softmax-wrong-axis", _output(lambda x, _: torch.softmax(x, dim=0))),
    ),
    backward_bugs=(bug("softmax-backward-diagonal-only", _gradient(_softmax_diagonal_gradient)),),
)

# --------------------------------------------------------------------------- neuron

_ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def _neuron_inputs(rng: np.random.Generator, activation: str, n: int, d: int, scale: float = 1.0) -> dict:
    return {"x": normal(rng, (n, d), scale), "w": normal(rng, (d,)), "b": scalar32(rng.normal()),
            "activation": activation}


def _neuron_samples(rng: np.random.Generator) -> list[Sample]:
    return [
        Sample("sigmoid, random (N=8, D=5)", _neuron_inputs(rng, "sigmoid", 8, 5)),
        Sample("tanh, random (N=8, D=5)", _neuron_inputs(rng, "tanh", 8, 5)),
        Sample("relu, random (N=8, D=5)", _neuron_inputs(rng, "relu", 8, 5)),
        Sample("sigmoid, batch of 1 (N=1, D=4)", _neuron_inputs(rng, "sigmoid", 1, 4)),
        Sample("tanh, one feature (N=6, D=1)", _neuron_inputs(rng, "tanh", 6, 1)),
        Sample("relu, more features than examples (N=3, D=12)", _neuron_inputs(rng, "relu", 3, 12)),
        Sample("sigmoid, larger batch (N=40, D=10)", _neuron_inputs(rng, "sigmoid", 40, 10, 0.5)),
    ]


def _neuron(t: dict, inputs) -> torch.Tensor:
    return _ACTIVATIONS[inputs["activation"]](t["x"] @ t["w"] + t["b"])


def _with_dz(f: Callable[[torch.Tensor, torch.Tensor], dict]):
    """A reference for a mistake made after the activation's backward pass:
    ``f(x, dz)``, where ``dz`` is the (correct) gradient at ``z = x @ w + b``."""

    def reference(inputs) -> dict:
        t = tensors(inputs)
        z = (t["x"] @ t["w"] + inputs["b"]).requires_grad_()
        out = _ACTIVATIONS[inputs["activation"]](z)
        # The cotangent as a product, not grad_outputs: see grader.reference.gradients.
        (dz,) = torch.autograd.grad((out * t["dout"]).sum(), z)
        return {name: numpy(value) for name, value in f(t["x"], dz).items()}

    return reference


NEURON_FORWARD, NEURON_BACKWARD = Layer(
    "neuron", ("x", "w", "b", "activation"), _neuron_samples, _neuron, grads=("x", "w", "b"),
    forward=Pass(points=7),
    backward=Pass(points=7, bugs=(
        bug("neuron-skips-activation-gradient", gradients_of(lambda t, _: t["x"] @ t["w"] + t["b"], ("x", "w", "b"))),
        bug("neuron-dw-not-summed", _with_dz(lambda x, dz: {"dw": x * dz[:, None]})),
        bug("neuron-dw-averaged", _with_dz(lambda x, dz: {"dw": x.T @ dz / len(dz)})),
        bug("neuron-db-not-summed", _with_dz(lambda x, dz: {"db": dz})),
    )),
).functions


SUITE = Suite(
    folder="01_neuron",
    title="Activation functions and a single neuron",
    functions=(
        SIGMOID_FORWARD, SIGMOID_BACKWARD,
        TANH_FORWARD, TANH_BACKWARD,
        RELU_FORWARD, RELU_BACKWARD,
        LEAKY_RELU_FORWARD, LEAKY_RELU_BACKWARD,
        ELU_FORWARD, ELU_BACKWARD,
        SOFTMAX_FORWARD, SOFTMAX_BACKWARD,
        NEURON_FORWARD, NEURON_BACKWARD,
    ),
)
