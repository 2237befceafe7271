"""``dlgrade report OUT``: how a class did, from a ``grade-batch`` output
folder (``grader/class_report.py``), as text, JSON or markdown."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.class_report import ReportError, summarise
from grader.exits import EXIT_OK, EXIT_USAGE
from grader.render.class_report import to_json, to_markdown, to_text

HELP = "summarise a grade-batch output folder: points, failures, bugs per function"
RENDERINGS = {"text": to_text, "json": to_json, "markdown": to_markdown}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", metavar="OUT", help="a grade-batch output folder (gradebook.csv, students/)")
    parser.add_argument("--format", choices=tuple(RENDERINGS), default="text", help="what to print (default: text)")


def run(args: argparse.Namespace) -> int:
    try:
        report = summarise(Path(args.output))
    except ReportError as e:
        print(f"dlgrade report: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(RENDERINGS[args.format](report))
    return EXIT_OK
