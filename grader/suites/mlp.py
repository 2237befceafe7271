"""Hidden suite of assignment 3 (mlp): the two-layer network
``scores = sigma(x @ W + b1) @ U + b2`` on its forward pass, its backward pass,
its loss (MSE and softmax cross-entropy) with gradients, prediction, and
training by minibatch SGD; then weight initialisation (the fans of a weight,
Xavier and He, uniform and normal) and input standardisation.

Forward, backward and loss are compared with a float64 torch network and
``torch.autograd``. Shapes are non-square (D, H and C differ) so that a
transposed gradient shows in its shape. Every float input is rounded to a
float32-representable value (still a float64 array), so a student who casts to
float32 sees exactly the grader's inputs. For ReLU, random networks are redrawn
until no pre-activation lies near 0 (where float32 rounding could flip a unit);
the one case with exact zeros accepts either one-sided derivative there.

Training is judged by accuracy (``Property``): the child gets training data,
hyper-parameters and test inputs, never the test labels. The labels are
recomputed here: XOR from the signs of the test inputs, iris by looking the
test rows up in the data set (grader/data/iris.csv). Thresholds: 100% on XOR;
80% on a stratified 75/75 iris split. A correct network averages ~95% on iris,
but some splits put most of the overlapping versicolor/virginica flowers in the
test half: over thousands of seeds (and variants: other initial scales, no
shuffling, float32) the worst run was 85.3% (64/75), and about one run in 200
falls below 90%, so a 90% threshold would fail correct students by bad luck.
A catalogued training mistake is named when the labels are those of the
docstring's recipe run in torch with that mistake: reproducible only for code
that draws from the generator in the same order (W, U, then each epoch's
permutation of the examples).

Fans follow the course's layouts: a dense weight ``(D_in, D_out)`` (``x @ W``)
has fan_in = D_in, fan_out = D_out; filters ``(F, C, *kernel)`` have fan_in =
C * prod(kernel), fan_out = F * prod(kernel). Torch's
``_calculate_fan_in_and_fan_out`` is the reference, on torch's layout (a dense
weight transposed, as nn.Linear stores it; filters unchanged). An initialiser
is judged on a draw of 10 000 to 30 000 values against the scale that
``torch.nn.init`` gives the same shape (xavier_*_ with the case's gain,
kaiming_*_ with fan_in and ReLU), read off torch's own output: mean, variance,
range (uniform) or tails (normal), at a false-fail rate below 1e-6 per case
(``drawn_from``, grader/suites/properties.py), and the same weights again from a
generator seeded alike. The fans of each case differ by a factor of 3 or more
(a swap shows in He's variance; Xavier's is symmetric in them, so no swap is
catalogued there) and the variances are far from 1 (a variance used as a
standard deviation shows). Catalogued initialisation bugs are described on the
draws the docstrings suggest (``rng.uniform(-a, a, size=shape)``,
``rng.normal(0.0, std, size=shape)``), as dropout's are on its documented mask.
``standardize`` is compared with torch's mean and std (``correction=0``) of the
training rows, applied to both sets; the test sets of most cases are drawn
shifted and spread away from the training sets (where the test set's own
statistics would differ most), and no feature is constant (the docstring says
so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from grader import datasets
from grader.reference import gradients, numpy, tensors
from grader.spec import (
    Bug,
    BugCatalogue,
    Case,
    Expected,
    GradedFunction,
    Program,
    Returned,
    Suite,
    call,
    float32_exact,
    returns_pair_program,
)
from grader.suites.inputs import normal, seed
from grader.suites.layers import Layer, Pass, Sample, output_of
from grader.suites.properties import Distribution, accuracy, drawn_from

# The hints of this suite's catalogued bugs, prose kept in hints/mlp.toml.
bug = BugCatalogue(__file__)

PARAMS = ("W", "b1", "U", "b2")
GRADS = (*PARAMS, "x")  # the keys of the grads dict, in the order graded
GRAD_OUTPUTS = tuple(f"d{name}" for name in GRADS)
ACTIVATIONS = {"sigmoid": torch.sigmoid, "relu": torch.relu}
XOR_THRESHOLD, IRIS_THRESHOLD = 1.0, 0.80
TRAINED = "after train_mlp, predict"
TRAINING_ADVICE = ("Check the gradient step's sign, the initialisation and that every parameter is updated (and "
                   "mlp_loss, predict on their own).")

# --------------------------------------------------------------------------- networks


def _net(rng: np.random.Generator, activation: str, n: int, d: int, h: int, c: int, *, x_scale: float = 1.0,
         zero_rows: int = 0, zero_biases: int = 0, min_abs_z: float = 0.0) -> dict:
    """Inputs ``x`` (N, D) and parameters of a random network. For ReLU, or
    when ``min_abs_z`` is given, it is redrawn until every pre-activation
    ``z = x @ W + b1`` is either exactly 0 or clearly away from it,
    ``|z| > max(min_abs_z, 1e-3 * max|z|)``: a ReLU unit that float32 rounding
    could switch on or off would make the gradient ambiguous, and
    ``min_abs_z=40`` keeps every sigmoid unit saturated. ``zero_rows`` input
    rows and ``zero_biases`` hidden biases are exactly 0."""
    while True:
        x = normal(rng, (n, d), x_scale)
        x[rng.permutation(n)[:zero_rows]] = 0.0
        b1 = normal(rng, (h,), 0.5)
        b1[rng.permutation(h)[:zero_biases]] = 0.0
        W = normal(rng, (d, h), 1.0 / np.sqrt(d))
        z = x @ W + b1
        margin = max(min_abs_z, 1e-3 * float(np.max(np.abs(z))))
        if activation == "relu" or min_abs_z:
            if not np.all((z == 0) | (np.abs(z) > margin)):
                continue
        return {"x": x, "W": W, "b1": b1, "U": normal(rng, (h, c), 1.0 / np.sqrt(h)), "b2": normal(rng, (c,), 0.5),
                "activation": activation}


def _network_samples(rng: np.random.Generator) -> list[Sample]:
    """Named networks for the forward and backward passes (a list: the backward cases' douts come after all)."""
    return [
        Sample("sigmoid, random (N=8, D=5, H=7, C=3)", _net(rng, "sigmoid", 8, 5, 7, 3)),
        Sample("relu, random (N=8, D=5, H=7, C=3)", _net(rng, "relu", 8, 5, 7, 3)),
        Sample("sigmoid, batch of 1 (N=1, D=4, H=6, C=3)", _net(rng, "sigmoid", 1, 4, 6, 3)),
        Sample("relu, one output (N=6, D=3, H=5, C=1)", _net(rng, "relu", 6, 3, 5, 1)),
        Sample("relu, more features than examples (N=3, D=10, H=4, C=6)", _net(rng, "relu", 3, 10, 4, 6)),
        Sample("relu, exact zeros (zero input rows and hidden biases)",
               _net(rng, "relu", 7, 4, 6, 3, zero_rows=2, zero_biases=2)),
        Sample("sigmoid, saturated units (|x| ~ 1000)",
               _net(rng, "sigmoid", 4, 3, 5, 2, x_scale=1000.0, min_abs_z=40.0)),
        Sample("relu, large inputs (|x| ~ 1000)", _net(rng, "relu", 5, 4, 6, 3, x_scale=1000.0)),
    ]


def _hidden(t: dict, activation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The pre-activation ``z = x @ W + b1`` and the hidden layer ``h = sigma(z)``."""
    z = t["x"] @ t["W"] + t["b1"]
    return z, ACTIVATIONS[activation](z)


def _scores(t: dict, activation: str) -> torch.Tensor:
    return _hidden(t, activation)[1] @ t["U"] + t["b2"]


def _kink_free(inputs) -> dict[str, np.ndarray]:
    """Where a ReLU unit sits exactly at z == 0, its derivative may be 0 or 1:
    the gradient entries that depend on that choice are free."""
    x, W = inputs["x"], inputs["W"]
    kink = ((x @ W + inputs["b1"]) == 0) if inputs["activation"] == "relu" else np.zeros((len(x), W.shape[1]), bool)
    return {
        "dW": ((x != 0).T.astype(int) @ kink.astype(int)) > 0,
        "db1": kink.any(axis=0),
        "dU": np.zeros(inputs["U"].shape, bool),
        "db2": np.zeros(inputs["b2"].shape, bool),
        "dx": (kink.astype(int) @ (W != 0).T.astype(int)) > 0,
    }


def _network_gradients(scores: torch.Tensor, dout, t: dict, inputs) -> dict:
    grads = gradients(scores, dout, {name: t[name] for name in GRADS})
    free = _kink_free(inputs)
    return {name: Expected(value, free=free[name]) if free[name].any() else value for name, value in grads.items()}


_PARAMS_DICT = call("builtin:dict", W="W", b1="b1", U="U", b2="b2")

# --------------------------------------------------------------------------- mlp_forward


def _forward_bug(scores_of: Callable[[dict, str], torch.Tensor]):
    """A forward bug's reference: the scores ``scores_of(tensors, activation)``."""
    return output_of(lambda t, inputs: scores_of(t, inputs["activation"]), "scores")



# --------------------------------------------------------------------------- mlp_backward


def _d(out: torch.Tensor, dout: torch.Tensor, wrt: torch.Tensor) -> torch.Tensor:
    """``d(sum(out * dout)) / d(wrt)``, keeping the graph for further gradients."""
    return torch.autograd.grad((out * dout).sum(), wrt, retain_graph=True)[0]


def _backward_bug(mistake: Callable[[dict], dict[str, torch.Tensor]]):
    """A backward bug's reference: ``mistake(net)`` gives the gradients (by
    output name, the ones the mistake changes) that the mistaken backward pass
    returns, from ``net``: the case's tensors (``x``, ``W``, ..., ``dout``,
    ``activation``), the pre-activation ``z`` and hidden layer ``h``, and the
    right gradients of ``sum(scores * dout)`` with respect to each of them
    (``dx``, ``dW``, ..., ``dz``, ``dh``, by autograd, graph kept)."""

    def reference(inputs) -> dict:
        t = tensors(inputs, requires_grad=GRADS)
        z, h = _hidden(t, inputs["activation"])
        net = {**t, "z": z, "h": h}
        wrt = (*GRADS, "z", "h")
        grads = torch.autograd.grad(((h @ t["U"] + t["b2"]) * t["dout"]).sum(), [net[name] for name in wrt],
                                    retain_graph=True)
        net.update({f"d{name}": g for name, g in zip(wrt, grads)})
        return {name: numpy(value) for name, value in mistake(net).items()}

    return reference


def _hidden_derivative(activation: str, dz_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]):
    """A mistaken derivative of the hidden layer's ``activation``: the gradient
    ``dh`` arriving at h becomes ``dz_of(dh, z)`` instead of ``dh * sigma'(z)``,
    and goes on to W, b1 and x through z = x @ W + b1 (by autograd); dU and db2
    are computed before the mistake. Cases of the other activation do not
    reach it."""

    def mistake(net: dict) -> dict[str, torch.Tensor]:
        if net["activation"] != activation:
            return {}
        dz = dz_of(net["dh"], net["z"].detach())
        return {f"d{name}": _d(net["z"], dz, net[name]) for name in ("W", "b1", "x")}

    return mistake


MLP_FORWARD, MLP_BACKWARD = Layer(
    "mlp", ("x", "activation"), _network_samples, lambda t, inputs: _scores(t, inputs["activation"]), grads=GRADS,
    kinks=_kink_free, output="scores",
    forward=Pass(points=8, bugs=(
        bug("activation-on-scores",
            _forward_bug(lambda t, activation: ACTIVATIONS[activation](_scores(t, activation)))),
        bug("forward-missing-hidden-bias",
            _forward_bug(lambda t, activation: _scores(dict(t, b1=torch.zeros_like(t["b1"])), activation))),
    ), program=Program((_PARAMS_DICT, call("mlp_forward", "x", Returned(0), "activation")),
                       {"scores": Returned(1, 0)})),
    backward=Pass(points=8, bugs=(
        bug("weight-gradient-transposed", _backward_bug(lambda net: {"dW": net["dW"].T})),
        # Each example's own gradient of the bias it adds: the gradient at z, one row per example.
        bug("bias-gradient-not-summed", _backward_bug(lambda net: {"db1": net["dz"]})),
        bug("bias-gradient-summed-over-classes", _backward_bug(lambda net: {"db2": net["dout"].sum(dim=1)})),
        bug("sigmoid-derivative-at-preactivation",
            _backward_bug(_hidden_derivative("sigmoid", lambda dh, z: dh * z * (1.0 - z)))),
        bug("relu-mask-from-upstream-gradient",
            _backward_bug(_hidden_derivative("relu", lambda dh, z: torch.relu(dh)))),
        # dU of an output layer that read z: scores = z @ U + b2.
        bug("output-weight-gradient-uses-preactivation",
            _backward_bug(lambda net: {"dU": _d(net["z"] @ net["U"], net["dout"], net["U"])})),
        bug("backward-averages-over-batch",
            _backward_bug(lambda net: {"dU": net["dU"] / len(net["x"]), "dW": net["dW"] / len(net["x"])})),
    ), program=Program(
        (_PARAMS_DICT, call("mlp_forward", "x", Returned(0), "activation"),
         call("mlp_backward", "dout", Returned(1, 1))),
        {f"d{name}": Returned(2, key=name) for name in GRADS},
    )),
).functions

# --------------------------------------------------------------------------- mlp_loss


def _loss_case(rng: np.random.Generator, activation: str, loss: str, n: int, d: int, h: int, c: int) -> dict:
    net = _net(rng, activation, n, d, h, c)
    y = normal(rng, (n, c)) if loss == "mse" else rng.integers(0, c, size=n).astype(np.int64)
    return {**net, "y": y, "loss": loss}


def _large_scores_case(rng: np.random.Generator) -> dict:
    """Output biases around 1000, where exp() overflows, with one class at least
    20 ahead of the others in every row. Then every probability is within
    e^-20 of 0 or 1, so float32 rounding of scores near 1000 (spacing 6e-5)
    changes no gradient beyond the tolerance, whichever way the softmax is
    written."""
    while True:
        case = _loss_case(rng, "relu", "cross_entropy", 6, 4, 5, 3)
        b2 = 1000.0 - rng.uniform(30.0, 40.0, size=3)
        b2[rng.integers(3)] = 1000.0
        case["b2"] = float32_exact(b2)
        scores = np.sort(np.maximum(case["x"] @ case["W"] + case["b1"], 0.0) @ case["U"] + case["b2"], axis=1)
        if np.all(scores[:, -1] - scores[:, -2] >= 20.0):
            return case


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    named = [
        ("mse, sigmoid (N=8, D=5, H=7, C=3)", _loss_case(rng, "sigmoid", "mse", 8, 5, 7, 3)),
        ("mse, relu, one output (N=6, D=3, H=5, C=1)", _loss_case(rng, "relu", "mse", 6, 3, 5, 1)),
        ("mse, relu, more outputs than examples (N=2, D=4, H=6, C=5)", _loss_case(rng, "relu", "mse", 2, 4, 6, 5)),
        ("cross-entropy, sigmoid (N=10, D=4, H=6, C=3)", _loss_case(rng, "sigmoid", "cross_entropy", 10, 4, 6, 3)),
        ("cross-entropy, relu (N=12, D=6, H=9, C=4)", _loss_case(rng, "relu", "cross_entropy", 12, 6, 9, 4)),
        ("cross-entropy, batch of 1 (N=1, D=3, H=5, C=4)", _loss_case(rng, "relu", "cross_entropy", 1, 3, 5, 4)),
        ("cross-entropy, two classes (N=9, D=7, H=3, C=2)", _loss_case(rng, "sigmoid", "cross_entropy", 9, 7, 3, 2)),
        ("cross-entropy, scores near +1000 (one class far ahead)", _large_scores_case(rng)),
    ]
    return [Case(name, inputs) for name, inputs in named]


LOSSES: dict[str, Callable[..., torch.Tensor]] = {"mse": F.mse_loss, "cross_entropy": F.cross_entropy}


def _unshifted_cross_entropy(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The cross-entropy with its log-softmax written out without the row's
    maximum subtracted, s - log(sum(exp(s))): inf once exp(s) overflows. Its
    value only: code with this mistake takes the softmax for the gradient as
    exp of those log-probabilities (0 there), which autograd of this form does
    not give (NaN)."""
    return F.nll_loss(scores - torch.log(torch.exp(scores).sum(dim=1, keepdim=True)), y)


def _loss_reference(inputs) -> dict:
    t = tensors(inputs, requires_grad=GRADS)
    loss = LOSSES[inputs["loss"]](_scores(t, inputs["activation"]), t["y"], reduction="mean")
    return {"loss": numpy(loss), **_network_gradients(loss, None, t, inputs)}


def _loss_bug(mistaken: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]], *names: str):
    """A loss bug's reference: on a case whose loss is ``kind``, the outputs
    ``names`` (of ``loss``, ``dW``, ..., ``dx``: the ones the mistake changes)
    are those of the loss ``mistaken[kind](scores, y)``, its value and autograd
    gradients. Cases of a loss missing from ``mistaken`` do not reach the
    mistake."""

    def reference(inputs) -> dict:
        if inputs["loss"] not in mistaken:
            return {}
        t = tensors(inputs, requires_grad=GRADS)
        loss = mistaken[inputs["loss"]](_scores(t, inputs["activation"]), t["y"])
        outputs = {"loss": numpy(loss), **gradients(loss, None, {name: t[name] for name in GRADS})}
        return {name: outputs[name] for name in names}

    return reference


MLP_LOSS = GradedFunction(
    name="mlp_loss", points=8,
    program=Program(
        (_PARAMS_DICT, call("mlp_loss", "x", "y", Returned(0), "activation", "loss")),
        {"loss": Returned(1, 0), **{f"d{name}": Returned(1, 1, key=name) for name in GRADS}},
    ),
    cases=_loss_cases,
    reference=_loss_reference,
    bugs=(
        bug("loss-gradient-not-averaged",
            _loss_bug({kind: partial(f, reduction="sum") for kind, f in LOSSES.items()}, *GRAD_OUTPUTS)),
        bug("mse-gradient-missing-factor-2",
            _loss_bug({"mse": lambda scores, y: F.mse_loss(scores, y) / 2}, *GRAD_OUTPUTS)),
        bug("mse-gradient-divides-by-batch-size",
            _loss_bug({"mse": lambda scores, y: F.mse_loss(scores, y, reduction="sum") / len(scores)}, *GRAD_OUTPUTS)),
        # The gradient of the log-sum-exp term alone: softmax(scores) / N.
        bug("ce-gradient-missing-one-hot",
            _loss_bug({"cross_entropy": lambda scores, _: torch.logsumexp(scores, dim=1).mean()}, *GRAD_OUTPUTS)),
        bug("ce-loss-summed", _loss_bug({"cross_entropy": partial(F.cross_entropy, reduction="sum")}, "loss")),
        bug("ce-no-max-shift", _loss_bug({"cross_entropy": _unshifted_cross_entropy}, "loss")),
    ),
)

# --------------------------------------------------------------------------- predict


def _near_ties(scores: np.ndarray) -> np.ndarray:
    """Rows whose two best scores are so close that float32 rounding may swap them."""
    if scores.shape[1] < 2:
        return np.zeros(len(scores), bool)
    top2 = np.sort(scores, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) <= 1e-4 * max(1.0, float(np.max(np.abs(scores))))


def _predict_cases(rng: np.random.Generator) -> list[Case]:
    """The forward pass's first four networks (both activations, a batch of one, one class) and one with more
    classes than examples."""
    return [*(Case(sample.name, sample.inputs) for sample in _network_samples(rng)[:4]),
            Case("relu, more classes than examples (N=3, D=6, H=5, C=8)", _net(rng, "relu", 3, 6, 5, 8))]


def _predict_reference(inputs) -> dict:
    scores = numpy(_scores(tensors(inputs), inputs["activation"]))
    labels = np.argmax(scores, axis=1).astype(np.int64)
    ties = _near_ties(scores)
    return {"labels": Expected(labels, free=ties) if ties.any() else labels}


def _argmax_over_batch(inputs) -> dict:
    return {"labels": numpy(_scores(tensors(inputs), inputs["activation"]).argmax(dim=0))}


PREDICT = GradedFunction(
    name="predict", points=5,
    program=Program((_PARAMS_DICT, call("predict", "x", Returned(0), "activation")), {"labels": Returned(1)}),
    cases=_predict_cases,
    reference=_predict_reference,
    bugs=(
        bug("predict-argmax-over-batch", _argmax_over_batch),
    ),
)

# --------------------------------------------------------------------------- train_mlp


def _xor_labels(x: np.ndarray) -> np.ndarray:
    return (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64)


def _xor_points(rng: np.random.Generator, copies: int, jitter: float) -> np.ndarray:
    """``copies`` of each corner of [-1, 1]^2, jittered, in random order."""
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    x = np.repeat(corners, copies, axis=0) + jitter * rng.standard_normal((4 * copies, 2))
    return float32_exact(x[rng.permutation(len(x))])


def _hyper(activation: str, hidden: int, lr: float, epochs: int, batch_size: int, rng: np.random.Generator) -> dict:
    return {"hidden": hidden, "activation": activation, "lr": lr, "epochs": epochs, "batch_size": batch_size,
            "seed": int(rng.integers(2 ** 31))}


def _xor_case(rng: np.random.Generator, activation: str, copies: int, **hyper) -> dict:
    x = _xor_points(rng, copies, 0.1 if copies > 1 else 0.0)
    # The 4 corners themselves, and jittered points around them.
    x_test = np.concatenate([_xor_points(rng, 1, 0.0), _xor_points(rng, 4, 0.1)])
    return {"x": x, "y": _xor_labels(x), **_hyper(activation, rng=rng, **hyper), "x_test": x_test}


def _iris_case(rng: np.random.Generator, activation: str, **hyper) -> dict:
    """A stratified split: 25 test flowers per species, the other 75 flowers
    (shuffled) to train on."""
    features, species = datasets.iris()
    test = np.concatenate([50 * k + rng.permutation(50)[:25] for k in range(3)])
    train = rng.permutation(np.setdiff1d(np.arange(150), test))
    return {"x": features[train], "y": species[train], **_hyper(activation, rng=rng, **hyper),
            "x_test": features[rng.permutation(test)]}


def _train_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("XOR, the 4 points (sigmoid, full batch)",
             _xor_case(rng, "sigmoid", 1, hidden=8, lr=2.0, epochs=600, batch_size=4)),
        Case("XOR, the 4 points (relu, full batch)",
             _xor_case(rng, "relu", 1, hidden=16, lr=0.3, epochs=150, batch_size=4)),
        Case("XOR, 36 jittered points (sigmoid, minibatches of 12)",
             _xor_case(rng, "sigmoid", 9, hidden=8, lr=2.0, epochs=250, batch_size=12)),
        Case("XOR, 36 jittered points (relu, minibatches of 8, the last one smaller)",
             _xor_case(rng, "relu", 9, hidden=16, lr=0.2, epochs=60, batch_size=8)),
        Case("iris, 75 train / 75 test flowers (sigmoid)",
             _iris_case(rng, "sigmoid", hidden=16, lr=0.5, epochs=100, batch_size=16)),
        Case("iris, 75 train / 75 test flowers (relu)",
             _iris_case(rng, "relu", hidden=16, lr=0.1, epochs=100, batch_size=16)),
    ]


def _initial_parameters(rng: np.random.Generator, d: int, hidden: int, c: int) -> dict[str, torch.Tensor]:
    """The initialisation train_mlp's docstring prescribes: W, then U, drawn
    from ``rng`` with standard deviations 1/sqrt(D) and 1/sqrt(H); zero biases."""
    return {"W": torch.tensor(rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, hidden))),
            "b1": torch.zeros(hidden, dtype=torch.float64),
            "U": torch.tensor(rng.normal(0.0, 1.0 / np.sqrt(hidden), size=(hidden, c))),
            "b2": torch.zeros(c, dtype=torch.float64)}


def _zero_parameters(rng: np.random.Generator, d: int, hidden: int, c: int) -> dict[str, torch.Tensor]:
    """Every parameter at zero: nothing is drawn from ``rng`` before the first epoch's order."""
    return {name: torch.zeros(shape, dtype=torch.float64)
            for name, shape in (("W", (d, hidden)), ("b1", (hidden,)), ("U", (hidden, c)), ("b2", (c,)))}


def _trained_labels(initial: Callable[..., dict[str, torch.Tensor]], direction: float):
    """A training bug's reference: the labels ``predict`` gives on ``x_test``
    after train_mlp's recipe (its docstring) run in torch with the mistake.
    With ``rng = default_rng(seed)``, the parameters start as
    ``initial(rng, D, H, C)``; each epoch walks a new order
    ``rng.permutation(N)`` in minibatches, and each minibatch moves every
    parameter by ``direction * lr`` times autograd's gradient of its mean
    cross-entropy (-1: downhill). Only code that draws from the generator in
    this order trains to the same labels; other code with the mistake is told
    by its accuracy alone."""

    def reference(inputs) -> dict:
        x, y, activation = torch.tensor(inputs["x"]), torch.tensor(inputs["y"]), inputs["activation"]
        rng = np.random.default_rng(inputs["seed"])
        params = initial(rng, x.shape[1], inputs["hidden"], int(y.max()) + 1)
        for _ in range(inputs["epochs"]):
            for batch in torch.from_numpy(rng.permutation(len(x))).split(inputs["batch_size"]):
                for p in params.values():
                    p.requires_grad_()
                loss = F.cross_entropy(_scores({"x": x[batch], **params}, activation), y[batch])
                grads = torch.autograd.grad(loss, list(params.values()))
                params = {name: (p + direction * inputs["lr"] * g).detach()
                          for (name, p), g in zip(params.items(), grads)}
        scores = _scores({"x": torch.tensor(inputs["x_test"]), **params}, activation)
        return {"labels": numpy(scores.argmax(dim=1))}

    return reference


def _train_reference(inputs) -> dict:
    x_test = inputs["x_test"]
    if x_test.shape[1] == 2:
        return {"labels": accuracy(_xor_labels(x_test), XOR_THRESHOLD, "XOR", TRAINED, TRAINING_ADVICE)}
    return {"labels": accuracy(datasets.iris_species(x_test), IRIS_THRESHOLD, "iris", TRAINED, TRAINING_ADVICE)}


TRAIN_MLP = GradedFunction(
    name="train_mlp", points=6,
    program=Program(
        (call("train_mlp", "x", "y", "hidden", "activation", "lr", "epochs", "batch_size", "seed"),
         call("predict", "x_test", Returned(0), "activation")),
        {"labels": Returned(1)},
    ),
    cases=_train_cases,
    reference=_train_reference,
    time_limit=30.0,
    bugs=(
        bug("sgd-step-uphill", _trained_labels(_initial_parameters, direction=+1.0)),
        bug("zero-initialisation", _trained_labels(_zero_parameters, direction=-1.0)),
    ),
)


# --------------------------------------------------------------------------- fan_in_and_out


def _torch_layout(shape) -> tuple[int, ...]:
    """A course weight's shape as torch stores that weight: a dense ``(D_in,
    D_out)`` is torch.nn.Linear's ``(D_out, D_in)``; convolution filters
    ``(F, C, *kernel)`` are torch's own layout."""
    return tuple(reversed(shape)) if len(shape) == 2 else tuple(shape)


def _fans(shape) -> tuple[int, int]:
    """torch's fan-in and fan-out of a weight of the course's ``shape``."""
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(_torch_layout(shape), device="meta"))


def _two_sizes(rng: np.random.Generator, low: int, high: int) -> tuple[int, int]:
    """Two different sizes in [low, high): a swap of the two always shows."""
    a, b = rng.choice(np.arange(low, high), size=2, replace=False)
    return int(a), int(b)


def _fan_cases(rng: np.random.Generator) -> list[Case]:
    (d_in, d_out), (f, c) = _two_sizes(rng, 2, 60), _two_sizes(rng, 2, 60)
    kh, kw = _two_sizes(rng, 2, 8)
    named = [
        ("dense (D_in, D_out)", (d_in, d_out)),
        ("dense, one input (1, D_out)", (1, d_out)),
        ("convolution filters (F, C, HH, WW), a non-square kernel", (f, c, kh, kw)),
        ("convolution filters 1x1 (F, C, 1, 1)", (f, c, 1, 1)),
        ("1-d convolution filters (F, C, K)", (c, f, kw)),
    ]
    return [Case(name, {"shape": shape}) for name, shape in named]


def _fan_outputs(fan_in: int, fan_out: int) -> dict:
    return {"fan_in": np.int64(fan_in), "fan_out": np.int64(fan_out)}


FAN_IN_AND_OUT = GradedFunction(
    name="fan_in_and_out", points=5,
    program=Program((call("builtin:shape", "shape"), call("fan_in_and_out", Returned(0))),
                    {"fan_in": Returned(1, 0), "fan_out": Returned(1, 1)}),
    cases=_fan_cases,
    reference=lambda inputs: _fan_outputs(*_fans(inputs["shape"])),
    bugs=(
        bug("fans-swapped", lambda inputs: _fan_outputs(*reversed(_fans(inputs["shape"])))),
    ),
)

# --------------------------------------------------------------------------- initialisers


@dataclass(frozen=True)
class _Initialiser:
    """A student's initialiser and torch's: ``torch_init(tensor, inputs,
    **options)`` fills a tensor in torch's layout as torch.nn.init does for
    the case (``options``: a generator, or a mistaken mode); ``target`` names
    it in messages."""

    function: str
    distribution: Distribution
    target: str
    torch_init: Callable[..., torch.Tensor]
    gain: bool = False  # takes Xavier's gain argument


def _standard_draws(distribution: Distribution, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """The draws a torch initialiser scales: uniform on [-1, 1), or standard normal."""
    if distribution is Distribution.UNIFORM:
        return 2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1
    return torch.randn(shape, generator=generator, dtype=torch.float64)


def _torch_scale(init: _Initialiser, inputs, **options) -> float:
    """The scale torch's initialiser gives the case's weight (its uniform
    limit, or its normal standard deviation), read off torch itself: it fills a
    tensor from a seeded generator, and the same seed gives the standard draws
    it scaled; their ratio, by least squares, is exact up to rounding."""
    layout = _torch_layout(inputs["shape"])
    filled = init.torch_init(torch.empty(layout, dtype=torch.float64), inputs,
                             generator=torch.Generator().manual_seed(0), **options)
    standard = _standard_draws(init.distribution, layout, torch.Generator().manual_seed(0))
    return float((filled * standard).sum() / (standard * standard).sum())


def _weight_cases(init: _Initialiser):
    """Large draws (at least MIN_DRAWS values: properties.py) whose fans differ
    by a factor of 3 or more, so that swapping them shows; with a gain, each
    case has another one (1, tanh's 5/3, ReLU's sqrt(2))."""

    def cases(rng: np.random.Generator) -> list[Case]:
        named = [
            ("dense, more inputs than outputs (D_in ~ 500, D_out ~ 40)",
             (int(rng.integers(400, 600)), int(rng.integers(25, 50))), 1.0),
            ("dense, more outputs than inputs (D_in ~ 40, D_out ~ 500)",
             (int(rng.integers(25, 50)), int(rng.integers(400, 600))), 5 / 3),
            ("convolution filters (F ~ 16, C ~ 80, 3, 5)",
             (int(rng.integers(12, 20)), int(rng.integers(64, 96)), 3, 5), math.sqrt(2.0)),
        ]
        return [Case(f"{name}, gain {gain:.3g}" if init.gain else name,
                     {"shape": shape, "seed": seed(rng), **({"gain": gain} if init.gain else {})})
                for name, shape, gain in named]

    return cases


def _initialiser_program(init: _Initialiser) -> Program:
    """The weights, and the same call again from a generator seeded alike (the
    check that every number comes from the generator passed in)."""
    gain = ("gain",) if init.gain else ()
    return Program((call("builtin:shape", "shape"),
                    call("builtin:rng", "seed"), call(init.function, Returned(0), Returned(1), *gain),
                    call("builtin:rng", "seed"), call(init.function, Returned(0), Returned(3), *gain)),
                   {"weights": Returned(2), "again": Returned(4)})


def _drawn_as_documented(init: _Initialiser, scale: Callable[[Mapping], float]):
    """A bug's reference: the weights with a mistaken ``scale(inputs)`` drawn
    as the docstrings suggest, ``rng.uniform(-scale, scale, size=shape)`` or
    ``rng.normal(0.0, scale, size=shape)`` from the case's generator: numpy's
    standard draws of the same generator (``random``, ``standard_normal``),
    scaled in torch. Weights drawn another way are told by the property's
    message alone."""

    def reference(inputs) -> dict:
        rng, shape = np.random.default_rng(inputs["seed"]), inputs["shape"]
        if init.distribution is Distribution.UNIFORM:
            standard = 2 * torch.tensor(rng.random(shape)) - 1
        else:
            standard = torch.tensor(rng.standard_normal(shape))
        return {"weights": numpy(standard * scale(inputs))}

    return reference


def _fans_swapped(init: _Initialiser) -> Bug:
    return bug("fans-swapped", _drawn_as_documented(init, lambda inputs: _torch_scale(init, inputs, mode="fan_out")),
               hint_key="fans-swapped-in-initialisers")


def _variance_as_std(init: _Initialiser) -> Bug:
    return bug("variance-as-std", _drawn_as_documented(init, lambda inputs: _torch_scale(init, inputs) ** 2))


def _limit_is_the_std(init: _Initialiser) -> Bug:
    return bug("uniform-limit-is-the-std",
               _drawn_as_documented(init, lambda inputs: _torch_scale(init, inputs) / math.sqrt(3.0)))


def _initialiser(init: _Initialiser, *mistakes: Callable[[_Initialiser], Bug]) -> GradedFunction:
    def reference(inputs) -> dict:
        return {"weights": drawn_from(inputs["shape"], init.distribution, _torch_scale(init, inputs), init.target)}

    return GradedFunction(name=init.function, points=3, program=_initialiser_program(init),
                          cases=_weight_cases(init), reference=reference,
                          bugs=tuple(mistake(init) for mistake in mistakes))


XAVIER_UNIFORM = _initialiser(_Initialiser(
    "xavier_uniform", Distribution.UNIFORM, "torch.nn.init.xavier_uniform_",
    lambda t, inputs, **options: torch.nn.init.xavier_uniform_(t, gain=inputs["gain"], **options), gain=True,
), _limit_is_the_std)
XAVIER_NORMAL = _initialiser(_Initialiser(
    "xavier_normal", Distribution.NORMAL, "torch.nn.init.xavier_normal_",
    lambda t, inputs, **options: torch.nn.init.xavier_normal_(t, gain=inputs["gain"], **options), gain=True,
), _variance_as_std)
HE_UNIFORM = _initialiser(_Initialiser(
    "he_uniform", Distribution.UNIFORM, "torch.nn.init.kaiming_uniform_ (fan_in, relu)",
    lambda t, inputs, mode="fan_in", **options: torch.nn.init.kaiming_uniform_(t, mode=mode, nonlinearity="relu",
                                                                               **options),
), _fans_swapped, _limit_is_the_std)
HE_NORMAL = _initialiser(_Initialiser(
    "he_normal", Distribution.NORMAL, "torch.nn.init.kaiming_normal_ (fan_in, relu)",
    lambda t, inputs, mode="fan_in", **options: torch.nn.init.kaiming_normal_(t, mode=mode, nonlinearity="relu",
                                                                              **options),
), _fans_swapped, _variance_as_std)

# --------------------------------------------------------------------------- standardize


def _standardize_case(rng: np.random.Generator, n_train: int, n_test: int, d: int, shifted: bool = False) -> dict:
    """Features of scales from 0.05 to 20 (never constant), centred up to a
    few of their scales away from 0, so that dividing by the variance or by
    nothing shows; the test set is drawn apart (``shifted``: its mean moved by
    about two scales, its spread tripled) or alike."""
    scale = np.exp(rng.uniform(np.log(0.05), np.log(20.0), size=d))
    mean = scale * rng.uniform(-4.0, 4.0, size=d)
    test_mean, test_scale = (mean + 2.0 * scale * rng.choice([-1.0, 1.0], size=d), 3.0 * scale) if shifted \
        else (mean, scale)
    return {"x_train": normal(rng, (n_train, d), scale, mean),
            "x_test": normal(rng, (n_test, d), test_scale, test_mean)}


def _standardized(x: torch.Tensor, by: torch.Tensor, spread: Callable[..., torch.Tensor] = torch.std) -> torch.Tensor:
    """``x`` shifted by the mean of ``by``'s rows and divided by their ``spread`` (with N in the denominator)."""
    return (x - by.mean(dim=0)) / spread(by, dim=0, correction=0)


def _standardize_reference(inputs, test_by: str = "x_train", spread: Callable[..., torch.Tensor] = torch.std) -> dict:
    """Both sets standardised with the training set's statistics; a bug's
    with the test set's (``test_by``) or by the variance (``spread``)."""
    t = tensors(inputs)
    return {"train": numpy(_standardized(t["x_train"], t["x_train"], spread)),
            "test": numpy(_standardized(t["x_test"], t[test_by], spread))}


STANDARDIZE = GradedFunction(
    name="standardize", points=5,
    program=returns_pair_program("standardize", "x_train", "x_test", names=("train", "test")),
    cases=lambda rng: [
        Case("features on very different scales (N_train=40, N_test=15, D=6)", _standardize_case(rng, 40, 15, 6)),
        Case("a test set shifted and spread away from the training set (N_train=60, N_test=20, D=4)",
             _standardize_case(rng, 60, 20, 4, shifted=True)),
        Case("one test example (N_train=30, N_test=1, D=5)", _standardize_case(rng, 30, 1, 5, shifted=True)),
        Case("two training examples (N_train=2, N_test=6, D=3)", _standardize_case(rng, 2, 6, 3, shifted=True)),
        Case("one feature (N_train=25, N_test=10, D=1)", _standardize_case(rng, 25, 10, 1, shifted=True)),
    ],
    reference=_standardize_reference,
    bugs=(
        bug("statistics-from-test-set", partial(_standardize_reference, test_by="x_test")),
        bug("standardized-by-variance", partial(_standardize_reference, spread=torch.var)),
    ),
)


SUITE = Suite(
    folder="03_mlp",
    title="A two-layer network: forward, backward, loss and training; initialisation and standardisation",
    functions=(MLP_FORWARD, MLP_BACKWARD, MLP_LOSS, PREDICT, TRAIN_MLP, FAN_IN_AND_OUT, XAVIER_UNIFORM,
               XAVIER_NORMAL, HE_UNIFORM, HE_NORMAL, STANDARDIZE),
)
