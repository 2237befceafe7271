"""The suites' declarations hold: every graded function declares the points
its cases carry, and the cases of any seed add up to them (listing a suite
runs none of its generators)."""

from __future__ import annotations

import pytest

from grader.course import Secret
from grader.suites import SUITES

SEEDS = ("0", "1", "regrade", "another term")


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_generated_points_add_up_to_the_declared_points(suite):
    for fn in suite.functions:
        for seed in SEEDS:
            cases = fn.cases(Secret(seed).rng(suite.assignment, fn.name))
            assert sum(c.points for c in cases) == fn.points, (fn.name, seed)
        assert fn.max_points == fn.points + (fn.speed.points if fn.speed else 0), fn.name
