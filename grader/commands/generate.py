"""``dlgrade generate [--check]``: write the student folders from the
solutions (``grader/generate.py``), or fail on drift."""

from __future__ import annotations

import argparse
import sys

from grader.course import Course
from grader.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from grader.generate import render
from grader.markers import MarkerError
from grader.suites import SUITES

HELP = "write assignments/ from solutions/ (instructors)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="write nothing; fail if assignments/ drifted")


def run(args: argparse.Namespace) -> int:
    course = Course.locate()
    try:
        files = render(course, list(SUITES.values()))
    except (MarkerError, OSError) as e:
        print(f"dlgrade generate: {e}", file=sys.stderr)
        return EXIT_USAGE
    drifted = [p for p, text in files.items() if not p.is_file() or p.read_text() != text]
    if args.check:
        for p in drifted:
            print(f"out of date: {p.relative_to(course.root)}", file=sys.stderr)
        if drifted:
            print("run `dlgrade generate` and commit the result", file=sys.stderr)
            return EXIT_FAILED
        print(f"{len(files)} generated files are up to date")
        return EXIT_OK
    for p in drifted:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(files[p])
        print(f"wrote {p.relative_to(course.root)}")
    print(f"{len(files)} generated files, {len(drifted)} changed")
    return EXIT_OK
