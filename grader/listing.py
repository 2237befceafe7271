"""``dlgrade list``: the assignments, their graded functions and points."""

from __future__ import annotations


def main(args) -> int:
    from grader.suites import SUITES

    for suite in SUITES.values():
        print(f"{suite.folder}  {suite.title}  ({suite.max_points:g} points, file {suite.module}.py)")
        for fn in suite.functions:
            bugs = f", {len(fn.bugs)} catalogued bugs" if fn.bugs else ""
            print(f"    {fn.name:<28} {fn.max_points:5g} points{bugs}")
    return 0
