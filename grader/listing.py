"""``dlgrade list``: the assignments, their graded functions and points."""

from __future__ import annotations


def main(args) -> int:
    from grader.suites import SUITES

    for suite in SUITES.values():
        print(f"{suite.folder}  {suite.title}  ({suite.max_points:g} points, file {suite.module}.py)")
        bugs = {fn.name: len(fn.bugs) for fn in suite.functions if fn.bugs}
        for name, points in suite.graded:
            catalogued = f", {bugs[name]} catalogued bugs" if name in bugs else ""
            print(f"    {name:<28} {points:5g} points{catalogued}")
    return 0
