"""Recognising catalogued bugs: which of a function's ``Bug`` descriptions a
student's wrong outputs match.

The descriptions are torch code of the suites' (never the solution's), run
here on the case's inputs: every route recognises bugs alike.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from grader.compare import matches
from grader.spec import Bug, GradedFunction


def recognised_bugs(fn: GradedFunction, inputs: Mapping, failed: Mapping[str, np.ndarray]) -> list[Bug]:
    """The catalogued bugs whose output one of the student's ``failed`` outputs matches."""
    found = []
    for bug in fn.bugs if failed else ():
        with np.errstate(all="ignore"):
            try:
                buggy = {name: np.asarray(value) for name, value in bug.reference(inputs).items()}
            except (ArithmeticError, IndexError, RuntimeError, ValueError):  # the mistake cannot run on these inputs
                continue
        if any(name in buggy and matches(actual, buggy[name], fn.tolerance) for name, actual in failed.items()):
            found.append(bug)
    return found
