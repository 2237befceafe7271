"""A two-function suite for testing the engine apart from the curriculum."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.spec import Bug, Case, GradedFunction, Suite, forward_program

SOLUTION = '''\
import numpy as np


def scale_forward(x):
    # BEGIN SOLUTION
    out = 2 * x
    return out, None
    # END SOLUTION


def shift_forward(x):
    # BEGIN SOLUTION: add one
    return x + 1, None
    # END SOLUTION
'''


def _cases(rng: np.random.Generator) -> list[Case]:
    return [Case("random (3x4)", {"x": rng.standard_normal((3, 4))}),
            Case("batch of 1", {"x": rng.standard_normal((1, 4))})]


SUITE = Suite(
    folder="00_toy",
    title="Toy",
    functions=(
        GradedFunction("scale_forward", forward_program("scale", "x"), _cases, lambda i: {"out": 2 * i["x"]}, points=2,
                       bugs=(Bug("tripled", "you multiply by three", lambda i: {"out": 3 * i["x"]}),)),
        GradedFunction("shift_forward", forward_program("shift", "x"), _cases, lambda i: {"out": i["x"] + 1},
                       points=2),
    ),
    case_time_limit=2.0,
)


def make_course(root: Path) -> Path:
    """A course folder with the toy solution; returns the solution file."""
    solution = root / "solutions" / "00_toy" / "toy.py"
    solution.parent.mkdir(parents=True)
    solution.write_text(SOLUTION)
    return solution
