"""Judging one case: each of the student's outputs against what it should be.

Every output a function's reference gives is ``Judged`` (``grader/compare.py``):
a reference value (``Expected``) or a check (``Property``), asked the same
question. Expected values are computed per submission, as its inputs are, and
only for outcomes there is something to compare.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from grader.bugs import recognised_bugs
from grader.compare import Expected, Judged, error_map
from grader.results import CaseResult
from grader.sandbox import Outcome
from grader.spec import Blocked, Case, GradedFunction


def expectations(fn: GradedFunction, inputs: Mapping) -> dict[str, Judged]:
    """How each of a case's outputs is judged: the reference's own ``Judged``
    values, and a plain array as the value expected."""
    return {name: value if isinstance(value, Judged) else Expected(np.asarray(value))
            for name, value in fn.reference(inputs).items()}


def problems(fn: GradedFunction, expected: Mapping[str, Judged], outputs: Mapping[str, np.ndarray]) -> dict[str, str]:
    """What is wrong with each of the ``expected`` outputs that is wrong, by name."""
    found = {}
    for name, judged in expected.items():
        actual = outputs.get(name)
        if actual is None:
            found[name] = f"{name} was not returned"
        elif problem := judged.problem(name, actual, outputs, fn.tolerance):
            found[name] = problem
    return found


def judge_case(fn: GradedFunction, case: Case, outcome: Outcome) -> CaseResult:
    """The case's result: its points shared by its outputs, what is wrong with
    each wrong one, the catalogued bugs they show, and (for the HTML report)
    where each wrong array is wrong."""
    if not outcome.ok:
        return CaseResult(case.name, 0.0, case.points, [outcome.message], blocked_by=outcome.blocked_by)
    expected = expectations(fn, case.inputs)
    wrong = problems(fn, expected, outcome.outputs)
    # Computed from the count so that all outputs right is exactly full points (six shares of 1/6 are not).
    score = case.points * (len(expected) - len(wrong)) / len(expected)
    returned = {n: outcome.outputs[n] for n in wrong if n in outcome.outputs}
    bugs = recognised_bugs(fn, case.inputs, returned)
    maps = [m for n, actual in returned.items() if (m := error_map(n, actual, expected[n], fn.tolerance)) is not None]
    return CaseResult(case.name, score, case.points, list(wrong.values()), [f"{b.hint} [{b.name}]" for b in bugs],
                      [b.name for b in bugs], details={"error_maps": maps} if maps else {},
                      blocked_by=next((p.function for p in wrong.values() if isinstance(p, Blocked)), None))

