"""Hidden suite of assignment 8 (rnn): a vanilla RNN step and sequence, each
graded on its output and, separately, on its gradients; the temporal softmax
loss on its value and three gradients; gradient clipping by the global norm.

The step and the sequence are layers (grader/suites/layers.py). The sequence's
reference is ``torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True)``
with the student's weights mapped onto it (``weight_ih_l0 = Wx.T``,
``weight_hh_l0 = Wh.T``, ``bias_ih_l0 = b``, ``bias_hh_l0 = 0``); the
gradients are autograd's through it, backpropagation through time included.

Sequences run from length 1 to 50, with a batch of 1 and larger ones; two
cases make the gradient reaching the early steps vanish (a small ``Wh``) or
grow step after step (a large orthogonal ``Wh`` on tiny inputs, before the
states saturate). All but the first sequence have two steps or more, which the
recurrence's bugs need to show (a forgotten accumulation over time is invisible
on one step); ``h0`` is never zero, so a dropped ``dh0`` shows. The step's
"large pre-activations" case is where 1 - a² is furthest from 1 - tanh(a)².

The loss (``temporal_softmax_loss(h, W_out, b_out, y) -> (loss, dh, dW_out,
db_out)``) is ``F.cross_entropy`` over the N * T steps, with autograd's
gradients; one case has scores in the hundreds. Clipping is judged against
its definition in torch (``clip_grad_norm_``'s), with gradients whose elements
exceed ``max_norm``, so that clamping each element differs from it.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from grader.reference import gradients, numpy, tensors
from grader.spec import BugCatalogue, Case, GradedFunction, Program, Returned, Suite, call, float32_exact
from grader.suites.inputs import normal, pick
from grader.suites.layers import Layer, Pass, Sample, gradients_of

# The hints of this suite's catalogued bugs, prose kept in hints/rnn.toml.
bug = BugCatalogue(__file__)

RNN_ARGS = ("x", "h0", "Wx", "Wh", "b")
STEP_ARGS = ("x", "h_prev", "Wx", "Wh", "b")

# --------------------------------------------------------------------------- one step


def _step(t: dict, _inputs: Mapping[str, Any]) -> torch.Tensor:
    return torch.tanh(t["x"] @ t["Wx"] + t["h_prev"] @ t["Wh"] + t["b"])


def _weights(rng: np.random.Generator, D: int, H: int, wh_scale: float) -> dict[str, np.ndarray]:
    """``Wx`` and ``b`` at the usual 1/sqrt(fan-in) scale; ``Wh`` at ``wh_scale`` / sqrt(H)."""
    return {"Wx": normal(rng, (D, H), 1 / np.sqrt(D)), "Wh": normal(rng, (H, H), wh_scale / np.sqrt(H)),
            "b": normal(rng, (H,), 0.1)}


def _step_samples(rng: np.random.Generator) -> list[Sample]:
    shapes = (("batch of 1", 1, 3, 4), ("batch of 5", 5, 4, 6), ("more inputs than units", 3, 8, 2))
    samples = [Sample(name, {"x": normal(rng, (N, D)), "h_prev": normal(rng, (N, H), 0.8), **_weights(rng, D, H, 1.0)})
               for name, N, D, H in shapes]
    # Pre-activations of several units: where 1 - a² and 1 - tanh(a)² differ most.
    samples.append(Sample("large pre-activations", {"x": normal(rng, (4, 3), 2.0), "h_prev": normal(rng, (4, 5), 0.8),
                                                    **_weights(rng, 3, 5, 2.0)}))
    return samples


def _step_gradients_at(slope_of_pre_activation) -> Any:
    """A backward bug's reference: the step's gradients when the tanh's slope is
    ``slope_of_pre_activation(a)``, ``a`` the pre-activation, written out without autograd."""

    def reference(inputs) -> dict:
        t = tensors(inputs)
        a = t["x"] @ t["Wx"] + t["h_prev"] @ t["Wh"] + t["b"]
        da = t["dout"] * slope_of_pre_activation(a)
        return {name: numpy(g) for name, g in {
            "dx": da @ t["Wx"].T, "dh_prev": da @ t["Wh"].T, "dWx": t["x"].T @ da,
            "dWh": t["h_prev"].T @ da, "db": da.sum(0)}.items()}

    return reference


STEP_FORWARD, STEP_BACKWARD = Layer(
    "rnn_step", STEP_ARGS, _step_samples, _step, grads=STEP_ARGS, output="h_next",
    forward=Pass(points=4),
    backward=Pass(points=4, bugs=(
        bug("tanh-derivative-at-wrong-point", _step_gradients_at(lambda a: 1.0 - a**2)),
    )),
).functions

# --------------------------------------------------------------------------- a sequence


def _sequence(t: dict, _inputs: Mapping[str, Any]) -> torch.Tensor:
    D, H = t["Wx"].shape
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True).double()
    weights = {"weight_ih_l0": t["Wx"].T, "weight_hh_l0": t["Wh"].T, "bias_ih_l0": t["b"],
               "bias_hh_l0": torch.zeros(H, dtype=t["b"].dtype)}
    # functional_call runs the module on the case's tensors, so autograd reaches Wx, Wh and b themselves.
    out, _ = torch.func.functional_call(rnn, weights, (t["x"], t["h0"][None]))
    return out


def _sequence_samples(rng: np.random.Generator) -> list[Sample]:
    shapes = (("length 1", 2, 1, 3, 4, 1.0), ("batch of 1, length 2", 1, 2, 3, 4, 1.0),
              ("batch of 3, length 7", 3, 7, 4, 5, 1.0), ("length 50", 2, 50, 3, 6, 1.0),
              ("vanishing: small Wh, length 20", 2, 20, 3, 5, 0.05))
    samples = [Sample(name, {"x": normal(rng, (N, T, D)), "h0": normal(rng, (N, H), 0.5), **_weights(rng, D, H, s)})
               for name, N, T, D, H, s in shapes]
    # An orthogonal Wh scaled by 1.5 amplifies every direction while the states are small: tiny inputs keep
    # them small for a few steps, so the gradient reaching h0 grows with every step back.
    N, T, D, H = 2, 12, 3, 6
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    samples.append(Sample("exploding: large Wh, length 12", {
        "x": normal(rng, (N, T, D), 0.01), "h0": normal(rng, (N, H), 0.01), "Wx": normal(rng, (D, H), 1 / np.sqrt(D)),
        "Wh": float32_exact(1.5 * q),
        "b": normal(rng, (H,), 0.01)}))
    return samples


def _sequence_with(step_state) -> Any:
    """A backward bug's reference: autograd through the recurrence, ``step_state(h_prev, t, Wh)`` giving the state
    and the ``Wh`` each step uses (a mistake shows as a value autograd does not see, ``.detach()``)."""

    def torch_layer(t: dict, _inputs) -> torch.Tensor:
        h_prev, states = t["h0"], []
        for step in range(t["x"].shape[1]):
            h_in, Wh = step_state(h_prev, step, t["Wh"])
            h_prev = torch.tanh(t["x"][:, step] @ t["Wx"] + h_in @ Wh + t["b"])
            states.append(h_prev)
        return torch.stack(states, dim=1)

    return gradients_of(torch_layer, RNN_ARGS)


SEQUENCE_FORWARD, SEQUENCE_BACKWARD = Layer(
    "rnn", RNN_ARGS, _sequence_samples, _sequence, grads=RNN_ARGS, output="h",
    forward=Pass(points=6),
    backward=Pass(points=6, bugs=(
        # Overwritten at every step of the backward walk, the last one written is the first step's.
        bug("wh-gradient-not-accumulated", _sequence_with(lambda h, step, Wh: (h, Wh if step == 0 else Wh.detach()))),
        bug("no-gradient-through-h", _sequence_with(lambda h, step, Wh: (h if step == 0 else h.detach(), Wh))),
        bug("initial-state-gradient-dropped", lambda inputs: {"dh0": np.zeros_like(inputs["h0"])}),
    )),
).functions

# --------------------------------------------------------------------------- the loss


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    shapes = (("batch of 1, length 1", 1, 1, 4, 3), ("batch of 3, length 6", 3, 6, 5, 7),
              ("length 30", 2, 30, 4, 5))
    cases = [Case(name, {"h": np.tanh(normal(rng, (N, T, H))), "W_out": normal(rng, (H, C)),
                         "b_out": normal(rng, (C,), 0.1), "y": rng.integers(0, C, (N, T))})
             for name, N, T, H, C in shapes]
    # Scores in the hundreds: a softmax without the maximum subtracted overflows.
    cases.append(Case("large scores", {"h": np.tanh(normal(rng, (2, 4, 3))), "W_out": normal(rng, (3, 6), 300.0),
                                       "b_out": normal(rng, (6,)), "y": rng.integers(0, 6, (2, 4))}))
    return cases


def _temporal_loss(t: dict) -> torch.Tensor:
    C = t["W_out"].shape[1]
    scores = t["h"] @ t["W_out"] + t["b_out"]
    return F.cross_entropy(scores.reshape(-1, C), torch.as_tensor(t["y"]).reshape(-1))


def _loss_reference(inputs: Mapping[str, Any]) -> dict:
    t = tensors(inputs, requires_grad=("h", "W_out", "b_out"))
    loss = _temporal_loss(t)
    return {"loss": numpy(loss), **gradients(loss, None, {name: t[name] for name in ("h", "W_out", "b_out")})}


TEMPORAL_SOFTMAX_LOSS = GradedFunction(
    name="temporal_softmax_loss", points=4,
    program=Program((call("temporal_softmax_loss", "h", "W_out", "b_out", "y"),),
                    {"loss": Returned(0, 0), "dh": Returned(0, 1), "dW_out": Returned(0, 2), "db_out": Returned(0, 3)}),
    cases=_loss_cases,
    reference=_loss_reference,
)

# --------------------------------------------------------------------------- clipping

GRADIENT_NAMES = ("dWx", "dWh", "db")


def _clip_cases(rng: np.random.Generator) -> list[Case]:
    def grads(scale: float) -> dict[str, np.ndarray]:
        return {"dWx": normal(rng, (3, 4), scale), "dWh": normal(rng, (4, 4), scale), "db": normal(rng, (4,), scale)}

    # Elements beyond max_norm, so that clipping each element differs from scaling by the norm.
    return [Case("norm far above max_norm", {**grads(10.0), "max_norm": pick(rng, (1.0, 5.0))}),
            Case("norm just above max_norm", {**grads(1.0), "max_norm": 0.5}),
            Case("norm below max_norm: unchanged", {**grads(0.1), "max_norm": 100.0})]


def _clipped(per_element: bool):
    """The gradients clipped as ``torch.nn.utils.clip_grad_norm_`` does (one factor ``max_norm / norm`` for all,
    ``norm`` over every array, when it is above ``max_norm``), or each element clamped to ``[-max_norm, max_norm]``
    (a bug's)."""

    def reference(inputs) -> dict:
        t = tensors(inputs)
        bound = inputs["max_norm"]
        if per_element:
            return {name: numpy(t[name].clamp(-bound, bound)) for name in GRADIENT_NAMES}
        norm = torch.linalg.vector_norm(torch.cat([t[name].reshape(-1) for name in GRADIENT_NAMES]))
        # clip_grad_norm_'s own factor has 1e-6 added to the norm, well inside the tolerance; this is its definition.
        scale = torch.clamp(bound / norm, max=1.0)
        return {name: numpy(t[name] * scale) for name in GRADIENT_NAMES}

    return reference


CLIP_GRADIENTS = GradedFunction(
    name="clip_gradients", points=3,
    program=Program((call("builtin:dict", dWx="dWx", dWh="dWh", db="db"),
                     call("clip_gradients", Returned(0), "max_norm")),
                    {name: Returned(1, key=name) for name in GRADIENT_NAMES}),
    cases=_clip_cases,
    reference=_clipped(per_element=False),
    bugs=(
        bug("clipping-per-element", _clipped(per_element=True)),
    ),
)


SUITE = Suite(
    folder="08_rnn",
    title="A recurrent network: backpropagation through time and gradient clipping",
    functions=(STEP_FORWARD, STEP_BACKWARD, SEQUENCE_FORWARD, SEQUENCE_BACKWARD, TEMPORAL_SOFTMAX_LOSS,
               CLIP_GRADIENTS),
)
