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
from grader.spec import Bug, Suite, float32_exact
from grader.suites.inputs import around_1000, normal, scalar32, with_zeros
from grader.suites.layers import Layer, Pass, Sample, gradients_of, output_of


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


def _activation(name: str, f: Callable[[torch.Tensor, Mapping], torch.Tensor], *, inputs, points: float,
                alphas=None, kinked: bool = False, forward_bugs: tuple[Bug, ...] = (),
                backward_bugs: tuple[Bug, ...] = ()):
    """The forward and backward graded functions of the one-input layer ``out = f(x, inputs)``: ``x`` (and
    ``alpha`` when the layer takes one, drawn per case after every ``x``), free where ``x == 0`` when the layer
    has a kink there."""

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


ELEMENTWISE_POINTS, SOFTMAX_POINTS = 7, 9  # one per case of _elementwise_inputs, of _softmax_inputs

# --------------------------------------------------------------------------- sigmoid, tanh, ReLU

def _sigmoid_slope(z: torch.Tensor) -> torch.Tensor:
    """sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z))."""
    return torch.sigmoid(z) * (1.0 - torch.sigmoid(z))


SIGMOID_FORWARD, SIGMOID_BACKWARD = _activation(
    "sigmoid", lambda x, _: torch.sigmoid(x), inputs=_elementwise_inputs, points=ELEMENTWISE_POINTS,
    backward_bugs=(
        Bug(
            name="sigmoid-derivative-applied-twice",
            hint="Your gradient applies the sigmoid to its own output: the cache already holds sigmoid(x), so "
            "the derivative sigmoid(x) * (1 - sigmoid(x)) is written with the cached output directly, without "
            "calling the sigmoid again.",
            reference=_gradient(lambda x, dout, _: dout * _sigmoid_slope(torch.sigmoid(x))),
        ),
        Bug(
            name="sigmoid-backward-ignores-dout",
            hint="Your gradient is the sigmoid's local derivative alone. By the chain rule, the backward pass "
            "multiplies the local derivative by the upstream gradient dout.",
            reference=_gradient(lambda x, dout, _: _sigmoid_slope(x)),
        ),
    ),
)

TANH_FORWARD, TANH_BACKWARD = _activation(
    "tanh", lambda x, _: torch.tanh(x), inputs=_elementwise_inputs, points=ELEMENTWISE_POINTS,
    forward_bugs=(
        Bug(
            name="tanh-exp-overflow",
            hint="Your output has NaN for inputs of large magnitude: exp(x) overflows to inf there and inf / inf "
            "is NaN. Use np.tanh, or a form of the formula that only takes exp of non-positive numbers.",
            reference=_output(lambda x, _: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))),
        ),
    ),
    backward_bugs=(
        Bug(
            name="tanh-derivative-not-squared",
            hint="Your gradient uses 1 - tanh(x) as the derivative. The derivative of tanh is 1 - tanh(x)^2: "
            "square the cached output.",
            reference=_gradient(lambda x, dout, _: dout * (1.0 - torch.tanh(x))),
        ),
        Bug(
            name="tanh-derivative-applied-twice",
            hint="Your gradient applies tanh to its own output: the cache already holds tanh(x), so the "
            "derivative 1 - tanh(x)^2 is written with the cached output directly, without calling tanh again.",
            reference=_gradient(lambda x, dout, _: dout * (1.0 - torch.tanh(torch.tanh(x)) ** 2)),
        ),
    ),
)

RELU_FORWARD, RELU_BACKWARD = _activation(
    "relu", lambda x, _: torch.relu(x), inputs=_elementwise_inputs, points=ELEMENTWISE_POINTS, kinked=True,
    backward_bugs=(
        Bug(
            name="relu-gradient-not-masked",
            hint="Your gradient lets dout through where x < 0. ReLU is flat (slope 0) for negative inputs, so no "
            "gradient flows back through a unit that is off.",
            reference=_gradient(lambda x, dout, _: dout),
        ),
        Bug(
            name="relu-gradient-times-output",
            hint="Your gradient multiplies dout by the ReLU's output max(0, x). The backward pass multiplies by "
            "the derivative instead, which is 1 where x > 0 and 0 elsewhere.",
            reference=_gradient(lambda x, dout, _: dout * torch.relu(x)),
        ),
    ),
)

# --------------------------------------------------------------------------- leaky ReLU, ELU

LEAKY_RELU_FORWARD, LEAKY_RELU_BACKWARD = _activation(
    "leaky_relu", lambda x, inputs: F.leaky_relu(x, negative_slope=inputs["alpha"]),
    inputs=_elementwise_inputs, points=ELEMENTWISE_POINTS, alphas=_leaky_alphas, kinked=True,
    forward_bugs=(
        Bug(
            name="leaky-relu-ignores-alpha",
            hint="Your output uses the slope 0.01 whatever alpha is passed. Use the alpha argument, and store "
            "it in the cache for the backward pass.",
            reference=_output(lambda x, _: F.leaky_relu(x, negative_slope=0.01)),
        ),
    ),
    backward_bugs=(
        Bug(
            name="leaky-relu-slope-on-positive-side",
            hint="Your gradient uses the slope alpha where x > 0 and 1 where x < 0: the two sides are swapped. "
            "Leaky ReLU is the identity for positive inputs and has slope alpha for negative ones.",
            reference=_gradient(lambda x, dout, inputs: torch.where(x > 0, inputs["alpha"] * dout, dout)),
        ),
        Bug(
            name="leaky-relu-gradient-zero-for-negative",
            hint="Your gradient is 0 where x < 0, as for a plain ReLU. The leaky ReLU keeps a small slope alpha "
            "for negative inputs, so a fraction alpha of dout flows back there.",
            reference=_gradient(lambda x, dout, _: dout * (x > 0)),
        ),
    ),
)

ELU_FORWARD, ELU_BACKWARD = _activation(
    "elu", lambda x, inputs: F.elu(x, alpha=inputs["alpha"]),
    inputs=_elementwise_inputs, points=ELEMENTWISE_POINTS, alphas=_elu_alphas, kinked=True,
    forward_bugs=(
        Bug(
            name="elu-forward-missing-alpha",
            hint="Your output for x < 0 is exp(x) - 1 without the factor alpha. ELU scales the negative side "
            "by alpha, so it approaches -alpha for very negative inputs.",
            reference=_output(lambda x, _: F.elu(x, alpha=1.0)),
        ),
    ),
    backward_bugs=(
        Bug(
            name="elu-derivative-uses-out",
            hint="Your gradient for x < 0 uses the ELU output as the derivative. The derivative of "
            "alpha * (exp(x) - 1) is alpha * exp(x), which equals the output plus alpha.",
            reference=_gradient(lambda x, dout, inputs: dout * torch.where(x > 0, 1.0, F.elu(x, inputs["alpha"]))),
        ),
        Bug(
            name="elu-derivative-missing-alpha",
            hint="Your gradient for x < 0 is exp(x). The negative side is alpha * (exp(x) - 1), so its "
            "derivative keeps the factor alpha.",
            reference=_gradient(lambda x, dout, _: dout * torch.where(x > 0, 1.0, torch.exp(x))),
        ),
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
        Bug(
            name="softmax-no-max-shift",
            hint="Your output is inf or NaN for logits around ±1000: exp of such a score overflows to inf (or "
            "every exp underflows to 0). Subtract each row's maximum from its logits first; the softmax does "
            "not change.",
            reference=_output(lambda x, _: torch.exp(x) / torch.exp(x).sum(1, keepdim=True)),
        ),
        Bug(
            name="softmax-global-max-shift",
            hint="Your output is NaN for rows whose scores are far below another row's: you subtract the "
            "maximum of the whole array, so a row ~1000 below it has every exp underflow to 0. Subtract each "
            "row's own maximum (the max over the class axis, kept as a column).",
            reference=_output(_softmax_shifted_by_global_max),
        ),
        Bug(
            name="softmax-wrong-axis",
            hint="Your softmax normalises over the wrong axis: the columns sum to 1 instead of the rows. Each row "
            "of x holds the scores of one example over its C classes, so the max and the sum run along the "
            "class axis, per row.",
            reference=_output(lambda x, _: torch.softmax(x, dim=0)),
        ),
    ),
    backward_bugs=(
        Bug(
            name="softmax-backward-diagonal-only",
            hint="Your gradient treats softmax as elementwise, using p * (1 - p) only. Each probability of a row "
            "depends on every score of that row, so the backward pass needs the whole Jacobian "
            "p_j * (delta_ij - p_i), including the terms off its diagonal.",
            reference=_gradient(_softmax_diagonal_gradient),
        ),
    ),
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
        Bug(
            name="neuron-skips-activation-gradient",
            hint="Your gradients look as if the activation were not there: dout goes straight to x, w and b. By "
            "the chain rule, first pass dout through the activation's backward function to get dz, the gradient "
            "with respect to z (and check that backward function on its own too).",
            reference=gradients_of(lambda t, _: t["x"] @ t["w"] + t["b"], ("x", "w", "b")),
        ),
        Bug(
            name="neuron-dw-not-summed",
            hint="Your dw has one row per example. The weights are shared by the whole batch, so the gradients "
            "of the examples add up into one vector of shape (D,).",
            reference=_with_dz(lambda x, dz: {"dw": x * dz[:, None]}),
        ),
        Bug(
            name="neuron-dw-averaged",
            hint="Your dw is N times too small: it averages over the batch. A layer's gradient sums the "
            "contributions of the examples; any averaging belongs to the loss, which already passed it on in dout.",
            reference=_with_dz(lambda x, dz: {"dw": x.T @ dz / len(dz)}),
        ),
        Bug(
            name="neuron-db-not-summed",
            hint="Your db has one value per example. The bias is shared by the whole batch, so its gradient is "
            "the sum of dz over the examples, a single number.",
            reference=_with_dz(lambda x, dz: {"db": dz}),
        ),
    )),
).functions


SUITE = Suite(
    assignment="neuron",
    folder="01_neuron",
    module="neuron",
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
