"""``dlgrade grade PATH``: run a submission through an assignment's hidden
suite (``grader/engine.py``) and print or write its result."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.commands import add_grading_arguments, add_secret_arguments, percentage
from grader.course import Secret, SecretError, infer_assignment
from grader.exits import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from grader.progress import progress_line
from grader.render import FORMATS, render, unavailable
from grader.results import OutputError, check_output_file, write_text_atomically
from grader.suites import SUITES, UnknownAssignment, get_suite

HELP = "grade a submission with the hidden tests"
FILES = ("json", "result", "markdown", "junit", "html")  # the formats that --FORMAT FILE also writes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="submission: a folder holding the assignment's module, or a .py file")
    parser.add_argument("-a", "--assignment", help="assignment name (default: inferred from the path)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="what to print (default: text)")
    parser.add_argument("--json", metavar="FILE", help="also write Gradescope-style results.json to FILE")
    parser.add_argument("--result", metavar="FILE", help="also write the native result (dlgrade-result/1) to FILE")
    parser.add_argument("--markdown", metavar="FILE", help="also write the markdown report (for a CI job summary)")
    parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one testcase per case) to FILE")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with figures")
    parser.add_argument("--fail-under", type=percentage, metavar="PCT",
                        help="exit 1 when the score is below PCT percent (0 to 100)")
    add_secret_arguments(parser)
    add_grading_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from grader.engine import grade_submission  # torch: not before the command line is known to need it

    path = Path(args.path)
    if not os.path.lexists(path):  # a mistake in the command, not a submission to record as invalid
        print(f"dlgrade grade: {path}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        suite = get_suite(args.assignment) if args.assignment else infer_assignment(path, SUITES)
    except UnknownAssignment as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    if suite is None:
        print(f"dlgrade grade: cannot tell the assignment from '{path}'; name it with -a "
              f"({', '.join(SUITES)})", file=sys.stderr)
        return EXIT_USAGE
    try:
        secret = Secret.resolve(args.seed, development=args.development)
    except SecretError as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    files = {fmt: target for fmt in FILES if (target := getattr(args, fmt))}
    try:  # said before grading, not after
        for fmt in {args.format, *files}:
            if problem := unavailable(fmt):
                raise OutputError(problem)
        for fmt, target in files.items():
            check_output_file(Path(target), f"--{fmt}")
    except OutputError as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    with progress_line(f"grading {path.name} ({suite.assignment})"):
        result = grade_submission(suite, path, secret, skipped=args.skipped, allow_unconfined=args.allow_unconfined)
    for fmt, target in files.items():
        try:
            write_text_atomically(Path(target), render(result, fmt))
        except OSError as e:  # it could be written to a moment ago: this machine's trouble (a full disk, say)
            print(f"dlgrade grade: cannot write the {fmt} report to {target}: {e.strerror or e}", file=sys.stderr)
            return EXIT_INTERNAL
    print(render(result, args.format).rstrip("\n"))
    if args.fail_under is not None and result.percent < args.fail_under:
        print(f"score {result.percent:.1f}% is below --fail-under {args.fail_under:g}%", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
