"""Hidden suite of assignment 2 (losses): MSE, softmax cross-entropy and binary
cross-entropy with logits, each graded on its loss and its gradient.

Every float input is rounded to a float32-representable value (still a float64
array): a student who casts to float32 then sees exactly the grader's inputs,
which matters for scores near ±1000, where float32's spacing is 6e-5.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from grader.spec import BugCatalogue, Case, Suite, float32_exact
from grader.suites.criteria import loss, loss_outputs
from grader.suites.inputs import around_1000, normal

# The hints of this suite's catalogued bugs, prose kept in hints/losses.toml.
bug = BugCatalogue(__file__)

# --------------------------------------------------------------------------- targets


def _labels(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    return rng.integers(0, c, size=n).astype(np.int64)


def _hard_targets(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.integers(0, 2, size=shape).astype(np.float64)


def _soft_targets(rng: np.random.Generator, shape) -> np.ndarray:
    return float32_exact(rng.uniform(0.0, 1.0, size=shape))


# --------------------------------------------------------------------------- mse_loss


def _mse_cases(rng: np.random.Generator) -> list[Case]:
    def pair(shape, scale=1.0):
        return {"pred": normal(rng, shape, scale), "target": normal(rng, shape, scale)}

    same = normal(rng, (6, 4), 2.0)
    return [
        Case("vector (N=20)", pair((20,))),
        Case("matrix (N=8, D=5)", pair((8, 5))),
        Case("non-square (N=3, D=11)", pair((3, 11), 3.0)),
        Case("batch of 1 (N=1, D=6)", pair((1, 6))),
        Case("3-d array (2, 3, 4)", pair((2, 3, 4))),
        Case("large values (|x| ~ 1000)", pair((10, 3), 1000.0)),
        Case("exact zeros (pred equals target)", {"pred": same, "target": same.copy()}),
    ]


def _mse(t: dict, reduction: str = "mean") -> torch.Tensor:
    return F.mse_loss(t["pred"], t["target"], reduction=reduction)


MSE_LOSS = loss(
    "mse_loss", "pred", "target", _mse, _mse_cases, points=7,
    bugs=(
        bug("mse-grad-missing-factor-2", loss_outputs(lambda t: _mse(t) / 2, "pred", "dpred")),
        bug("mse-loss-summed", loss_outputs(lambda t: _mse(t, reduction="sum"), "pred", "loss")),
        bug("mse-grad-not-averaged", loss_outputs(lambda t: _mse(t, reduction="sum"), "pred", "dpred")),
        bug("mse-grad-divides-by-batch-size",
            loss_outputs(lambda t: _mse(t, reduction="sum") / len(t["pred"]), "pred", "dpred")),
    ),
)


# --------------------------------------------------------------------------- softmax_cross_entropy


def _ce_case(rng: np.random.Generator, n: int, c: int, scale: float = 2.0, shift: float = 0.0) -> dict:
    return {"logits": normal(rng, (n, c), scale, shift), "labels": _labels(rng, n, c)}


def _confidently_wrong(rng: np.random.Generator, n: int, c: int) -> dict:
    """Per row, one wrong class scores about +500 and the true class about -500:
    the true class's softmax probability (about exp(-1000)) underflows to exactly
    0 in float64, while no exp() of a raw logit overflows (so only the log of a
    softmax fails here, not a missing max subtraction)."""
    labels = _labels(rng, n, c)
    wrong = (labels + rng.integers(1, c, size=n)) % c
    logits = normal(rng, (n, c), 2.0)
    logits[np.arange(n), wrong] += 500.0
    logits[np.arange(n), labels] -= 500.0
    return {"logits": float32_exact(logits), "labels": labels}


def _rows_apart(rng: np.random.Generator, n: int, c: int) -> dict:
    """Rows shifted by 0, ±1000 and ±500: a shift by the whole batch's maximum
    (not each row's) leaves the lower rows' exps all 0, and their log of 0."""
    case = _ce_case(rng, n, c)
    offsets = np.resize([0.0, 1000.0, -1000.0, 500.0, -500.0], n)[:, None]
    return {**case, "logits": float32_exact(case["logits"] + offsets)}


def _ce_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("random (N=16, C=10)", _ce_case(rng, 16, 10)),
        Case("non-square (N=5, C=3)", _ce_case(rng, 5, 3, 4.0)),
        Case("two classes (N=12, C=2)", _ce_case(rng, 12, 2)),
        Case("batch of 1 (C=7)", _ce_case(rng, 1, 7)),
        Case("tied logits (all zero)", {"logits": np.zeros((6, 4)), "labels": _labels(rng, 6, 4)}),
        Case("logits near +1000", _ce_case(rng, 8, 5, 3.0, 1000.0)),
        Case("logits near -1000", _ce_case(rng, 8, 5, 3.0, -1000.0)),
        Case("confident wrong logits (spread ~1000)", _confidently_wrong(rng, 8, 6)),
        Case("rows whose maxima differ by ~1000", _rows_apart(rng, 6, 4)),
    ]


def _ce(t: dict, reduction: str = "mean") -> torch.Tensor:
    return F.cross_entropy(t["logits"], t["labels"], reduction=reduction)


def _ce_shifted_by(t: dict, shift) -> torch.Tensor:
    """The cross-entropy with its log-softmax written out, z - log(sum(exp(z)))
    for z = logits - shift: inf or NaN where an exp overflows or all of a row's
    exps underflow, which only a shift by each row's own maximum prevents. A
    tensor shift comes detached, a constant to the gradient as in code that
    writes the softmax's gradient by hand: a row whose gradient is NaN stays
    NaN without spreading, through the shift, into another row's entry."""
    z = t["logits"] - shift
    return F.nll_loss(z - torch.log(torch.exp(z).sum(dim=1, keepdim=True)), t["labels"])


SOFTMAX_CROSS_ENTROPY = loss(
    "softmax_cross_entropy", "logits", "labels", _ce, _ce_cases, points=9,
    bugs=(
        bug("ce-grad-not-averaged", loss_outputs(lambda t: _ce(t, reduction="sum"), "logits", "dlogits")),
        bug("ce-loss-summed", loss_outputs(lambda t: _ce(t, reduction="sum"), "logits", "loss")),
        # The loss alone: the gradient, softmax minus the one-hot label, takes no log and stays right.
        bug("ce-log-of-softmax", loss_outputs(
                lambda t: F.nll_loss(torch.log(torch.softmax(t["logits"], dim=1)), t["labels"]), "logits", "loss")),
        bug("ce-no-max-subtraction", loss_outputs(lambda t: _ce_shifted_by(t, 0.0), "logits", "loss", "dlogits")),
        bug("ce-global-max-shift",
            loss_outputs(lambda t: _ce_shifted_by(t, t["logits"].detach().max()), "logits", "loss", "dlogits")),
        bug("ce-grad-missing-one-hot",
            loss_outputs(lambda t: torch.logsumexp(t["logits"], dim=1).mean(), "logits", "dlogits")),
    ),
)


# --------------------------------------------------------------------------- bce_with_logits


def _bce_cases(rng: np.random.Generator) -> list[Case]:
    big = around_1000(rng, (6, 4))
    right = around_1000(rng, (10,))
    return [
        Case("vector, 0/1 targets (N=16)", {"logits": normal(rng, (16,), 2.0), "targets": _hard_targets(rng, (16,))}),
        Case("soft targets (N=8, D=4)", {"logits": normal(rng, (8, 4), 2.0), "targets": _soft_targets(rng, (8, 4))}),
        Case("multi-label (N=5, D=3)", {"logits": normal(rng, (5, 3), 3.0), "targets": _hard_targets(rng, (5, 3))}),
        Case("batch of 1 (N=1, D=5)", {"logits": normal(rng, (1, 5), 2.0), "targets": _soft_targets(rng, (1, 5))}),
        Case("exact zeros (logits = 0)", {"logits": np.zeros((4, 3)), "targets": _soft_targets(rng, (4, 3))}),
        Case("logits near ±1000", {"logits": big, "targets": _soft_targets(rng, (6, 4))}),
        Case("confident and right (|logits| ~1000)", {"logits": right, "targets": (right > 0).astype(np.float64)}),
    ]


def _bce(t: dict, reduction: str = "mean") -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(t["logits"], t["targets"], reduction=reduction)


def _bce_of_sigmoid(t: dict) -> torch.Tensor:
    """The binary cross-entropy of the probabilities sigmoid(x), which round to
    exactly 0 or 1 for |x| large. Written out: F.binary_cross_entropy would
    clamp its logs at -100, and this mistake's loss is inf or NaN there."""
    p, y = torch.sigmoid(t["logits"]), t["targets"]
    return torch.mean(-y * torch.log(p) - (1 - y) * torch.log(1 - p))


BCE_WITH_LOGITS = loss(
    "bce_with_logits", "logits", "targets", _bce, _bce_cases, points=7,
    bugs=(
        bug("bce-naive-log-sigmoid", loss_outputs(_bce_of_sigmoid, "logits", "loss")),
        bug("bce-grad-sign-flipped", loss_outputs(lambda t: -_bce(t), "logits", "dlogits")),
        bug("bce-grad-not-averaged", loss_outputs(lambda t: _bce(t, reduction="sum"), "logits", "dlogits")),
        bug("bce-grad-divides-by-batch-size",
            loss_outputs(lambda t: _bce(t, reduction="sum") / len(t["logits"]), "logits", "dlogits")),
    ),
)


SUITE = Suite(
    folder="02_losses",
    title="Loss functions: MSE, softmax cross-entropy, binary cross-entropy",
    functions=(MSE_LOSS, SOFTMAX_CROSS_ENTROPY, BCE_WITH_LOGITS),
)
