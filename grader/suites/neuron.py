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

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from grader.reference import gradients, numpy, tensors
from grader.spec import (
    Bug,
    Case,
    Expected,
    GradedFunction,
    Suite,
    backward_program,
    float32_exact,
    forward_program,
)

# --------------------------------------------------------------------------- helpers


def _scalar32(x: float) -> float:
    return float(np.float32(x))


def _normal(rng: np.random.Generator, shape, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    return float32_exact(shift + scale * rng.standard_normal(shape))


def _signs(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def _with_zeros(rng: np.random.Generator, x: np.ndarray, fraction: float = 0.3) -> np.ndarray:
    """A copy of ``x`` with about ``fraction`` of its entries (at least one) set to exactly 0."""
    x = x.copy()
    zero = rng.random(x.shape) < fraction
    zero.flat[rng.integers(x.size)] = True
    x[zero] = 0.0
    return x


def _elementwise_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Named inputs for an elementwise activation: any shape, both signs, the
    kink at 0, and magnitudes where a naive exp overflows."""
    return [
        ("random (N=8, D=5)", _normal(rng, (8, 5), 2.0)),
        ("non-square (N=3, D=11)", _normal(rng, (3, 11), 3.0)),
        ("batch of 1 (N=1, D=6)", _normal(rng, (1, 6), 2.0)),
        ("3-d array (2, 3, 4)", _normal(rng, (2, 3, 4), 2.0)),
        ("exact zeros", _with_zeros(rng, _normal(rng, (6, 4), 2.0))),
        ("all negative", float32_exact(-np.abs(_normal(rng, (5, 3), 2.0)) - 0.125)),
        ("large magnitudes (around ±1000)", float32_exact(_signs(rng, (4, 5)) * rng.uniform(900.0, 1100.0, (4, 5)))),
    ]


def _softmax_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    ties = _normal(rng, (5, 4), 2.0)
    ties[:, 1] = ties[:, 3] = np.max(ties, axis=1)  # two maxima per row
    ties[0] = 0.0  # a whole row tied: the uniform distribution
    spread = _normal(rng, (4, 5), 3.0)
    spread[np.arange(4), rng.integers(0, 5, size=4)] += 1000.0  # one class ~1000 above the others
    # Rows whose maxima are ~1000 apart: a shift by the whole array's maximum (not each row's) underflows the
    # lower rows' exps to 0, and their softmax to 0 / 0.
    apart = _normal(rng, (4, 5), 2.0) + np.array([[0.0], [1000.0], [-1000.0], [500.0]])
    return [
        ("random (N=6, C=4)", _normal(rng, (6, 4), 2.0)),
        ("non-square (N=3, C=10)", _normal(rng, (3, 10), 3.0)),
        ("batch of 1 (N=1, C=5)", _normal(rng, (1, 5), 2.0)),
        ("one class (N=5, C=1)", _normal(rng, (5, 1), 2.0)),
        ("ties (equal logits)", ties),
        ("logits near +1000 (N=4, C=3)", _normal(rng, (4, 3), 3.0, 1000.0)),
        ("logits near -1000 (N=4, C=3)", _normal(rng, (4, 3), 3.0, -1000.0)),
        ("logits spread by ~1000 (N=4, C=5)", float32_exact(spread)),
        ("rows whose maxima differ by ~1000 (N=4, C=5)", float32_exact(apart)),
    ]


def _with_dout(rng: np.random.Generator, inputs: dict, shape) -> dict:
    return {**inputs, "dout": _normal(rng, shape)}


def _activation_cases(inputs: Callable[[np.random.Generator], list[tuple[str, np.ndarray]]],
                      alphas: Callable[[np.random.Generator, int], list[float]] | None,
                      backward: bool) -> Callable[[np.random.Generator], list[Case]]:
    """Cases for a one-input layer: ``x`` (and ``alpha`` when the layer takes
    one, drawn per case), plus ``dout`` for its backward program."""

    def cases(rng: np.random.Generator) -> list[Case]:
        named = inputs(rng)
        alpha = alphas(rng, len(named)) if alphas else [None] * len(named)
        result = []
        for (name, x), a in zip(named, alpha):
            case: dict[str, np.ndarray | float] = {"x": x} if a is None else {"x": x, "alpha": a}
            result.append(Case(name, _with_dout(rng, case, x.shape) if backward else case))
        return result

    return cases


def _leaky_alphas(rng: np.random.Generator, n: int) -> list[float]:
    """Slopes between 0.05 and 0.5, and the usual 0.01 once."""
    alphas = [_scalar32(rng.uniform(0.05, 0.5)) for _ in range(n)]
    alphas[rng.integers(n)] = _scalar32(0.01)
    return alphas


def _elu_alphas(rng: np.random.Generator, n: int) -> list[float]:
    """Below and above 1 (so a forgotten alpha shows), and the default 1.0 once."""
    alphas = [_scalar32(rng.uniform(0.2, 0.7) if i % 2 else rng.uniform(1.5, 3.0)) for i in range(n)]
    alphas[rng.integers(n)] = 1.0
    return alphas


def _layer_reference(f: Callable[[torch.Tensor, dict], torch.Tensor], backward: bool, kinked: bool):
    """The reference of a one-input layer: ``out = f(x, inputs)``, or its ``dx``
    for the case's ``dout``, free where ``x == 0`` when the layer has a kink there."""

    def reference(inputs) -> dict:
        t = tensors(inputs, requires_grad=("x",) if backward else ())
        out = f(t["x"], inputs)
        if not backward:
            return {"out": numpy(out)}
        dx = gradients(out, inputs["dout"], {"x": t["x"]})["dx"]
        return {"dx": Expected(dx, free=inputs["x"] == 0) if kinked else dx}

    return reference


def _layer(name: str, f: Callable[[torch.Tensor, dict], torch.Tensor], *, inputs, alphas=None,
           kinked: bool = False, forward_bugs: tuple[Bug, ...] = (),
           backward_bugs: tuple[Bug, ...] = ()) -> tuple[GradedFunction, GradedFunction]:
    """The forward and backward graded functions of a one-input layer."""
    args = ("x", "alpha") if alphas else ("x",)
    forward = GradedFunction(
        name=f"{name}_forward",
        program=forward_program(name, *args),
        cases=_activation_cases(inputs, alphas, backward=False),
        reference=_layer_reference(f, backward=False, kinked=kinked),
        bugs=forward_bugs,
    )
    backward = GradedFunction(
        name=f"{name}_backward",
        program=backward_program(name, *args, grads=("dx",)),
        cases=_activation_cases(inputs, alphas, backward=True),
        reference=_layer_reference(f, backward=True, kinked=kinked),
        bugs=backward_bugs,
    )
    return forward, backward


def _output(f: Callable[[torch.Tensor, dict], torch.Tensor]):
    """A forward bug's reference: the ``out`` a mistaken layer computes,
    ``f(x, inputs)``."""

    def reference(inputs) -> dict:
        return {"out": numpy(f(tensors(inputs)["x"], inputs))}

    return reference


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


SIGMOID_FORWARD, SIGMOID_BACKWARD = _layer(
    "sigmoid", lambda x, _: torch.sigmoid(x), inputs=_elementwise_inputs,
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

TANH_FORWARD, TANH_BACKWARD = _layer(
    "tanh", lambda x, _: torch.tanh(x), inputs=_elementwise_inputs,
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

RELU_FORWARD, RELU_BACKWARD = _layer(
    "relu", lambda x, _: torch.relu(x), inputs=_elementwise_inputs, kinked=True,
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

LEAKY_RELU_FORWARD, LEAKY_RELU_BACKWARD = _layer(
    "leaky_relu", lambda x, inputs: F.leaky_relu(x, negative_slope=inputs["alpha"]),
    inputs=_elementwise_inputs, alphas=_leaky_alphas, kinked=True,
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

ELU_FORWARD, ELU_BACKWARD = _layer(
    "elu", lambda x, inputs: F.elu(x, alpha=inputs["alpha"]),
    inputs=_elementwise_inputs, alphas=_elu_alphas, kinked=True,
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


SOFTMAX_FORWARD, SOFTMAX_BACKWARD = _layer(
    "softmax", lambda x, _: torch.softmax(x, dim=1), inputs=_softmax_inputs,
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


def _neuron_case(rng: np.random.Generator, activation: str, n: int, d: int, scale: float = 1.0) -> dict:
    return {
        "x": _normal(rng, (n, d), scale),
        "w": _normal(rng, (d,)),
        "b": _scalar32(rng.normal()),
        "activation": activation,
    }


def _neuron_cases(backward: bool) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        named = [
            ("sigmoid, random (N=8, D=5)", _neuron_case(rng, "sigmoid", 8, 5)),
            ("tanh, random (N=8, D=5)", _neuron_case(rng, "tanh", 8, 5)),
            ("relu, random (N=8, D=5)", _neuron_case(rng, "relu", 8, 5)),
            ("sigmoid, batch of 1 (N=1, D=4)", _neuron_case(rng, "sigmoid", 1, 4)),
            ("tanh, one feature (N=6, D=1)", _neuron_case(rng, "tanh", 6, 1)),
            ("relu, more features than examples (N=3, D=12)", _neuron_case(rng, "relu", 3, 12)),
            ("sigmoid, larger batch (N=40, D=10)", _neuron_case(rng, "sigmoid", 40, 10, 0.5)),
        ]
        return [Case(name, _with_dout(rng, c, (c["x"].shape[0],)) if backward else c) for name, c in named]

    return cases


def _neuron_gradients(inputs, activation: Callable[[torch.Tensor], torch.Tensor]) -> dict:
    """dx, dw and db of ``activation(x @ w + b)`` for the case's dout."""
    t = tensors(inputs, requires_grad=("x", "w"))
    b = torch.tensor(inputs["b"], dtype=torch.float64, requires_grad=True)
    return gradients(activation(t["x"] @ t["w"] + b), inputs["dout"], {"x": t["x"], "w": t["w"], "b": b})


def _neuron_reference(backward: bool):
    def reference(inputs) -> dict:
        activation = _ACTIVATIONS[inputs["activation"]]
        if backward:
            return _neuron_gradients(inputs, activation)
        t = tensors(inputs)
        return {"out": numpy(activation(t["x"] @ t["w"] + inputs["b"]))}

    return reference


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


NEURON_FORWARD = GradedFunction(
    name="neuron_forward",
    program=forward_program("neuron", "x", "w", "b", "activation"),
    cases=_neuron_cases(backward=False),
    reference=_neuron_reference(backward=False),
)

NEURON_BACKWARD = GradedFunction(
    name="neuron_backward",
    program=backward_program("neuron", "x", "w", "b", "activation", grads=("dx", "dw", "db")),
    cases=_neuron_cases(backward=True),
    reference=_neuron_reference(backward=True),
    bugs=(
        Bug(
            name="neuron-skips-activation-gradient",
            hint="Your gradients look as if the activation were not there: dout goes straight to x, w and b. By "
            "the chain rule, first pass dout through the activation's backward function to get dz, the gradient "
            "with respect to z (and check that backward function on its own too).",
            reference=lambda inputs: _neuron_gradients(inputs, activation=lambda z: z),
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
    ),
)


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
