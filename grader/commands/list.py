"""``dlgrade list``: the assignments, their graded functions and points
(``--format json`` for scripts)."""

from __future__ import annotations

import argparse
import json

from grader.exits import EXIT_OK
from grader.spec import Suite
from grader.suites import SUITES

HELP = "list the assignments, their graded functions and points"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text", help="what to print (default: text)")


def describe(suite: Suite) -> dict:
    bugs = {fn.name: len(fn.bugs) for fn in suite.functions}
    return {"assignment": suite.assignment, "folder": suite.folder, "title": suite.title,
            "file": f"{suite.module}.py", "max_points": suite.max_points,
            "functions": [{"name": name, "points": points, "catalogued_bugs": bugs.get(name, 0)}
                          for name, points in suite.graded]}


def run(args: argparse.Namespace) -> int:
    assignments = [describe(suite) for suite in SUITES.values()]
    if args.format == "json":
        print(json.dumps(assignments, indent=2))
        return EXIT_OK
    width = max(len(fn["name"]) for a in assignments for fn in a["functions"])
    for a in assignments:
        print(f"{a['folder']}  {a['title']}  ({a['max_points']:g} points, file {a['file']})")
        for fn in a["functions"]:
            bugs = fn["catalogued_bugs"]
            catalogued = f", {bugs} catalogued bug{'s' * (bugs != 1)}" if bugs else ""
            print(f"    {fn['name']:<{width}} {fn['points']:5g} points{catalogued}")
    return EXIT_OK
