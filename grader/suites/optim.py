"""Hidden suite of assignment 4 (optim): SGD (with momentum, Nesterov and
weight decay), Adam, AdamW and RMSprop as update rules with explicit state.

Every optimiser is graded on whole trajectories, twice:

* ``<optimiser>_step``: 30 steps on gradients the grader supplies (a drift
  plus noise, so momentum and the running averages matter), the state dict
  threaded from one call to the next;
* ``<optimiser>_step on a quadratic``: 40 steps minimising
  ``0.5 * w.A.w - b.w`` (``A`` symmetric positive definite), the child
  computing each gradient ``A w - b`` from the student's own previous point.

The graded output is the trajectory: ``w0`` then the parameters after each
step, stacked (so index ``(t, ...)`` of the feedback is the point after ``t``
steps). A step may return new arrays or update ``w`` and ``state`` in place
(``UPDATED_IN_PLACE`` in grader/suites/trajectories.py); the gradient ``dw`` it must leave alone. The
reference runs ``torch.optim`` with the same hyper-parameters on a float64
``Parameter``.

Every float input is rounded to a float32-representable value, so that a
student computing in float32 starts from exactly the grader's inputs.
Gradients at three scales (small, ~1e-7 to ~1e-3; ~1; ~1e3) exercise ``eps``
and the scale invariance of Adam and RMSprop; "flat" quadratics (the loss times
1e-5) do the same for the quadratic programs.

Both functions of an optimiser come from one declaration of the trajectory
family (grader/suites/trajectories.py), which declares its catalogued bugs on
both, so that the hints show wherever the student's trajectory fails. Each is
described by the update rule it amounts to, written with torch operations
(``rule_trajectory`` runs it on either program). Over many seeds every bug is
off by more than 1000 times the tolerance on at least one case of each
function, and a float32 implementation stays within 1/10 of it.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch

from grader.spec import BugCatalogue, Suite, Tolerance
from grader.suites.trajectories import Optimiser, Rule, Trajectory, departure, rule_trajectory

# The hints of this suite's catalogued bugs, prose kept in hints/optim.toml.
bug = BugCatalogue(__file__)

# Near the minimum of a quadratic, Adam's steps are close to lr * sign(gradient):
# a gradient component near 0 turns float32 rounding into steps of another size,
# and 40 steps compound it (float32 implementations reach 1/10 of the default
# tolerance there, against 1/100 elsewhere). Three times the default keeps them
# well inside while every catalogued bug stays over 1000 times outside.
_ADAM_QUADRATIC_TOLERANCE = Tolerance(rtol=3e-4, atol=3e-5)


# --------------------------------------------------------------------------- update rules


def _sgd_rule(*, damped: bool = False, nesterov: bool = True, decay_sign: float = 1.0,
              keeps_buffer: bool = True) -> Rule:
    """``torch.optim.SGD``'s update (no dampening), or with a mistake: a ``damped`` momentum buffer (a moving
    average from 0), Nesterov's look-ahead ignored (``nesterov=False``), the weight decay's sign flipped
    (``decay_sign=-1``), or a buffer not carried over to the next step."""

    def rule(w, dw, state, h):
        g = dw + decay_sign * h["weight_decay"] * w
        momentum = h["momentum"]
        if momentum == 0:
            return w - h["lr"] * g
        if damped:
            b = momentum * state.get("buffer", 0.0) + (1 - momentum) * g
        else:
            b = momentum * state["buffer"] + g if "buffer" in state else g
        if keeps_buffer:
            state["buffer"] = b
        return w - h["lr"] * (g + momentum * b if nesterov and h["nesterov"] else b)

    return rule


def _adam_rule(*, bias_correction: bool = True, first_step: int = 1, eps_in_root: bool = False,
               keeps_state: bool = True, decay_factor: Callable[[Mapping], float] | None = None) -> Rule:
    """``torch.optim.Adam``'s update (L2 weight decay in the gradient), or with a mistake: no bias correction,
    steps counted from ``first_step`` (0: the correction divides by 1 - beta^0 = 0), eps inside the square root,
    or the averages and the count not carried over. ``decay_factor(h)``: the weights are multiplied by it
    before the step (a decoupled decay, as AdamW's) and the gradient takes no weight decay."""

    def rule(w, dw, state, h):
        if decay_factor is None:
            g = dw + h["weight_decay"] * w
        else:
            w, g = w * decay_factor(h), dw
        # torch.optim.Adam's names: the step count and the averages of the gradient and of its square.
        step = state.get("step", first_step - 1) + 1
        exp_avg = h["beta1"] * state.get("exp_avg", 0.0) + (1 - h["beta1"]) * g
        exp_avg_sq = h["beta2"] * state.get("exp_avg_sq", 0.0) + (1 - h["beta2"]) * g ** 2
        if keeps_state:
            state.update(step=step, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
        if bias_correction:
            exp_avg, exp_avg_sq = exp_avg / (1 - h["beta1"] ** step), exp_avg_sq / (1 - h["beta2"] ** step)
        root = torch.sqrt(exp_avg_sq + h["eps"]) if eps_in_root else torch.sqrt(exp_avg_sq) + h["eps"]
        return w - h["lr"] * exp_avg / root

    return rule


def _rmsprop_rule(*, eps_in_root: bool = False, weighted: bool = True, bias_correction: bool = False,
                  keeps_average: bool = True) -> Rule:
    """``torch.optim.RMSprop``'s update (not centred), or with a mistake: eps inside the square root, the new
    squared gradient added without its weight 1 - alpha (``weighted=False``), Adam's bias correction of the
    average, or an average not carried over to the next step."""

    def rule(w, dw, state, h):
        g = dw + h["weight_decay"] * w
        alpha = h["alpha"]
        avg = alpha * state.get("square_avg", 0.0) + (1 - alpha if weighted else 1.0) * g ** 2
        if keeps_average:
            state["square_avg"] = avg
        if bias_correction:
            state["step"] = state.get("step", 0) + 1
            avg = avg / (1 - alpha ** state["step"])
        step = g / (torch.sqrt(avg + h["eps"]) if eps_in_root else torch.sqrt(avg) + h["eps"])
        if h["momentum"] > 0:
            step = h["momentum"] * state.get("buffer", 0.0) + step
            state["buffer"] = step
        return w - h["lr"] * step

    return rule


# --------------------------------------------------------------------------- SGD

# torch.optim.SGD's defaults (every case sets its own learning rate).
_SGD_DEFAULTS = {"lr": 1e-3, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
_SGD_ON_GRADIENTS = (
    Trajectory("plain SGD, vector (D=10)", (10,), {"lr": (0.05, 0.2)}),
    Trajectory("momentum, matrix (5, 4)", (5, 4), {"lr": (0.02, 0.1), "momentum": (0.8, 0.95)}),
    Trajectory("Nesterov momentum, matrix (3, 6)", (3, 6),
               {"lr": (0.02, 0.1), "momentum": (0.8, 0.95), "nesterov": True}),
    Trajectory("weight decay, no momentum (D=8)", (8,), {"lr": (0.1, 0.3), "weight_decay": (0.2, 0.5)}),
    Trajectory("Nesterov momentum and weight decay, matrix (4, 4)", (4, 4),
               {"lr": (0.02, 0.1), "momentum": (0.5, 0.9), "nesterov": True, "weight_decay": (0.1, 0.3)}),
    Trajectory("large gradients (~1e3), momentum, 3-d (2, 3, 4)", (2, 3, 4),
               {"lr": (1e-5, 1e-4), "momentum": (0.6, 0.9)}, scale=1e3),
    Trajectory("one parameter (shape (1,)), momentum and weight decay", (1,),
               {"lr": (0.05, 0.2), "momentum": (0.5, 0.9), "weight_decay": (0.1, 0.3)}),
)
_SGD_ON_QUADRATIC = (
    Trajectory("gradient descent, vector (D=6)", (6,), {"lr": (0.1, 0.3)}),
    Trajectory("momentum, matrix (5, 3)", (5, 3), {"lr": (0.02, 0.08), "momentum": (0.8, 0.9)}),
    Trajectory("Nesterov momentum, vector (D=8)", (8,), {"lr": (0.02, 0.08), "momentum": (0.8, 0.9), "nesterov": True}),
    Trajectory("momentum and weight decay, matrix (4, 2)", (4, 2),
               {"lr": (0.02, 0.08), "momentum": (0.7, 0.9), "weight_decay": (0.2, 0.5)}),
)


def _make_sgd(params, h) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=h["lr"], momentum=h["momentum"], nesterov=h["nesterov"],
                           weight_decay=h["weight_decay"])


_SGD_BUGS = (
    bug("sgd-momentum-dampened", rule_trajectory(_sgd_rule(damped=True))),
    bug("sgd-nesterov-as-plain-momentum", rule_trajectory(_sgd_rule(nesterov=False))),
    bug("sgd-weight-decay-wrong-sign", rule_trajectory(_sgd_rule(decay_sign=-1.0))),
    bug("sgd-momentum-buffer-not-kept", rule_trajectory(_sgd_rule(keeps_buffer=False))),
)

SGD_STEP, SGD_QUADRATIC = Optimiser("sgd_step", _make_sgd, _SGD_DEFAULTS, _SGD_ON_GRADIENTS, _SGD_ON_QUADRATIC,
                                     (7, 4), _SGD_BUGS, departure(
                                         "check the update rule, the sign of the weight decay term and the momentum "
                                         "buffer's first value (torch starts it at the gradient itself, undampened)",
                                         "the momentum buffer")).functions

# --------------------------------------------------------------------------- Adam and AdamW

# torch.optim.Adam's defaults; AdamW's differ in the weight decay only.
_ADAM_DEFAULTS = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
_ADAMW_DEFAULTS = {**_ADAM_DEFAULTS, "weight_decay": 1e-2}
_OTHER_BETAS = {"beta1": (0.7, 0.85), "beta2": (0.95, 0.99)}
_ADAM_ON_GRADIENTS = (
    Trajectory("default hyper-parameters, vector (D=10)", (10,)),
    Trajectory("other betas, matrix (6, 4)", (6, 4), {"lr": (0.005, 0.02), **_OTHER_BETAS}),
    Trajectory("L2 weight decay, matrix (4, 5)", (4, 5), {"lr": (0.005, 0.02), "weight_decay": (0.1, 0.3)}),
    Trajectory("small gradients (~1e-4)", (8,), {"lr": (0.005, 0.02)}, scale=1e-4),
    Trajectory("tiny gradients (~1e-7)", (3, 3), {"lr": (0.005, 0.02)}, scale=1e-7),
    Trajectory("large gradients (~1e3), 3-d (2, 3, 4)", (2, 3, 4), {"lr": (0.005, 0.02)}, scale=1e3),
    Trajectory("some gradients exactly zero, matrix (5, 3)", (5, 3), {"lr": (0.005, 0.02)}, zeros=True),
)
_ADAM_ON_QUADRATIC = (
    Trajectory("vector (D=6)", (6,), {"lr": (0.02, 0.05)}),
    Trajectory("other betas, matrix (5, 3)", (5, 3), {"lr": (0.02, 0.05), **_OTHER_BETAS}),
    Trajectory("L2 weight decay, vector (D=8)", (8,), {"lr": (0.02, 0.05), "weight_decay": (0.2, 0.5)}),
    Trajectory("small learning rate, matrix (4, 4)", (4, 4), {"lr": (0.005, 0.01)}),
    Trajectory("flat quadratic (gradients ~1e-5), vector (D=5)", (5,), {"lr": (0.02, 0.05)}, scale=1e-5),
)
_ADAMW_ON_GRADIENTS = (
    Trajectory("default hyper-parameters, vector (D=10)", (10,)),
    Trajectory("strong weight decay, matrix (5, 4)", (5, 4), {"lr": (0.01, 0.05), "weight_decay": (0.2, 0.5)}),
    Trajectory("small gradients (~1e-3), weight decay", (8,), {"lr": (0.005, 0.02), "weight_decay": (0.1, 0.3)},
               scale=1e-3),
    Trajectory("no weight decay (Adam), matrix (3, 5)", (3, 5), {"lr": (0.005, 0.02), "weight_decay": 0.0}),
    Trajectory("large gradients (~1e3), other betas", (2, 6),
               {"lr": (0.01, 0.05), **_OTHER_BETAS, "weight_decay": (0.1, 0.3)}, scale=1e3),
)
_ADAMW_ON_QUADRATIC = (
    Trajectory("vector (D=6)", (6,), {"lr": (0.02, 0.05), "weight_decay": (0.1, 0.3)}),
    Trajectory("strong weight decay, matrix (5, 3)", (5, 3), {"lr": (0.02, 0.05), "weight_decay": (0.5, 1.0)}),
    Trajectory("other betas, vector (D=8)", (8,), {"lr": (0.02, 0.05), **_OTHER_BETAS, "weight_decay": (0.1, 0.3)}),
)


def _make_adam(params, h) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                            weight_decay=h["weight_decay"])


def _make_adamw(params, h) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                             weight_decay=h["weight_decay"])


_ADAM_BUGS = (
    bug("adam-no-bias-correction", rule_trajectory(_adam_rule(bias_correction=False))),
    bug("adam-step-count-starts-at-0", rule_trajectory(_adam_rule(first_step=0))),
    bug("adam-eps-inside-sqrt", rule_trajectory(_adam_rule(eps_in_root=True))),
    bug("adam-state-not-kept", rule_trajectory(_adam_rule(keeps_state=False))),
)

ADAM_DEPARTURE = departure("check the step counter (the first step is t = 1) and the bias correction",
                           "m, v and the step count, each updated once per step")

_ADAMW_BUGS = (
    # Adam itself: the decay enters the gradient, as L2 regularisation.
    bug("adamw-coupled-weight-decay", rule_trajectory(_adam_rule())),
    bug("adamw-decay-without-lr", rule_trajectory(_adam_rule(decay_factor=lambda h: 1 - h["weight_decay"]))),
)

ADAM_STEP, ADAM_QUADRATIC = Optimiser("adam_step", _make_adam, _ADAM_DEFAULTS, _ADAM_ON_GRADIENTS, _ADAM_ON_QUADRATIC,
                                       (7, 5), _ADAM_BUGS, ADAM_DEPARTURE, _ADAM_QUADRATIC_TOLERANCE).functions
ADAMW_STEP, ADAMW_QUADRATIC = Optimiser("adamw_step", _make_adamw, _ADAMW_DEFAULTS, _ADAMW_ON_GRADIENTS,
                                         _ADAMW_ON_QUADRATIC, (5, 3), _ADAMW_BUGS, ADAM_DEPARTURE,
                                         _ADAM_QUADRATIC_TOLERANCE).functions

# --------------------------------------------------------------------------- RMSprop

# torch.optim.RMSprop's defaults.
_RMSPROP_DEFAULTS = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0}
_RMSPROP_ON_GRADIENTS = (
    Trajectory("default hyper-parameters, vector (D=10)", (10,)),
    Trajectory("smaller alpha, matrix (5, 4)", (5, 4), {"lr": (0.001, 0.01), "alpha": (0.8, 0.95)}),
    Trajectory("momentum, matrix (3, 6)", (3, 6), {"lr": (0.001, 0.01), "momentum": (0.8, 0.95)}),
    Trajectory("weight decay (D=8)", (8,), {"lr": (0.005, 0.02), "weight_decay": (0.2, 0.5)}),
    Trajectory("small gradients (~1e-4)", (8,), {"lr": (0.001, 0.01)}, scale=1e-4),
    Trajectory("large gradients (~1e3), 3-d (2, 3, 4)", (2, 3, 4), {"lr": (0.001, 0.01)}, scale=1e3),
    Trajectory("momentum and weight decay, some gradients exactly zero (4, 4)", (4, 4),
               {"lr": (0.001, 0.01), "alpha": (0.9, 0.99), "weight_decay": (0.1, 0.3), "momentum": (0.5, 0.9)},
               zeros=True),
)
_RMSPROP_ON_QUADRATIC = (
    Trajectory("vector (D=6)", (6,), {"lr": (0.005, 0.02)}),
    Trajectory("momentum, matrix (5, 3)", (5, 3), {"lr": (0.002, 0.01), "alpha": (0.9, 0.99), "momentum": (0.8, 0.9)}),
    Trajectory("weight decay, vector (D=8)", (8,), {"lr": (0.005, 0.02), "weight_decay": (0.2, 0.5)}),
    Trajectory("flat quadratic (gradients ~1e-5), vector (D=5)", (5,), {"lr": (0.005, 0.02)}, scale=1e-5),
)


def _make_rmsprop(params, h) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=h["lr"], alpha=h["alpha"], eps=h["eps"], weight_decay=h["weight_decay"],
                               momentum=h["momentum"])


_RMSPROP_BUGS = (
    bug("rmsprop-eps-inside-sqrt", rule_trajectory(_rmsprop_rule(eps_in_root=True))),
    bug("rmsprop-average-not-weighted", rule_trajectory(_rmsprop_rule(weighted=False))),
    bug("rmsprop-bias-corrected", rule_trajectory(_rmsprop_rule(bias_correction=True))),
    bug("rmsprop-average-not-kept", rule_trajectory(_rmsprop_rule(keeps_average=False))),
)

RMSPROP_STEP, RMSPROP_QUADRATIC = Optimiser("rmsprop_step", _make_rmsprop, _RMSPROP_DEFAULTS, _RMSPROP_ON_GRADIENTS,
                                             _RMSPROP_ON_QUADRATIC, (7, 4), _RMSPROP_BUGS, departure(
                                                 "check the square average's first value ((1 - alpha) * dw**2, from "
                                                 "0, with no bias correction) and where eps goes (outside the root)",
                                                 "the square average and the momentum buffer")).functions

SUITE = Suite(
    folder="04_optim",
    title="Optimisers: SGD with momentum, Adam, AdamW, RMSprop",
    functions=(SGD_STEP, SGD_QUADRATIC, ADAM_STEP, ADAM_QUADRATIC, ADAMW_STEP, ADAMW_QUADRATIC,
               RMSPROP_STEP, RMSPROP_QUADRATIC),
)
