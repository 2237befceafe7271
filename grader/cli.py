"""The ``dlgrade`` command: one subcommand per module (list, check, grade,
generate, demo)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from grader.formats import FORMATS
from grader.report import SKIPPED_POLICIES
from grader.export import DLGRADE_URL_PLACEHOLDER, EXPORT_TARGETS, VISIBILITIES

# Exit statuses of every command.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3  # FAILED: below --fail-under, drift, failing checks

VERBS = {
    "list": ("grader.listing", "list the assignments, their graded functions and points"),
    "check": ("grader.check", "run the public checks of an assignment (for students)"),
    "grade": ("grader.grade", "grade a submission with the hidden tests"),
    "grade-batch": ("grader.batch", "grade a folder of submissions, one per student, into a gradebook"),
    "generate": ("grader.generate", "write assignments/ from solutions/ (instructors)"),
    "demo": ("grader.demo", "grade the bundled example submissions"),
    "export": ("grader.export", "package an assignment's grading for Gradescope, otter-grader or GitHub Actions"),
    "report": ("grader.class_report", "summarise a grade-batch output folder: points, failures, bugs per function"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlgrade", description="Autograder for a hands-on deep-learning course.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for verb, (_, help_text) in VERBS.items():
        verbs.add_parser(verb, help=help_text, description=help_text)
    sub = verbs.choices

    sub["check"].add_argument("path", nargs="?", default=".", help="assignment folder or .py file (default: .)")

    grade = sub["grade"]
    grade.add_argument("path", help="submission: a folder holding the assignment's module, or a .py file")
    grade.add_argument("-a", "--assignment", help="assignment name (default: inferred from the path)")
    grade.add_argument("--format", choices=FORMATS, default="text", help="what to print (default: text)")
    grade.add_argument("--json", metavar="FILE", help="also write Gradescope-style results.json to FILE")
    grade.add_argument("--markdown", metavar="FILE", help="also write the markdown report (for a CI job summary)")
    grade.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one testcase per case) to FILE")
    grade.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with figures")
    grade.add_argument("--fail-under", type=float, metavar="PCT", help="exit 1 when the score is below PCT percent")
    batch = sub["grade-batch"]
    batch.add_argument("folder", help="one folder, .py, .zip or .ipynb per student")
    batch.add_argument("-a", "--assignment", required=True, help="assignment name")
    batch.add_argument("-o", "--output", required=True, metavar="OUT", help="where results and gradebook.csv go")
    batch.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the cores)")
    batch.add_argument("--regrade", action="store_true", help="grade students that already have a result too")
    batch.add_argument("--no-html", dest="html", action="store_false",
                       help="write no report.html per student (its figures cost up to a second per buggy submission)")
    for p in (grade, sub["demo"], batch):
        p.add_argument("--seed", help="secret seed for hidden inputs (default: $DLGRADE_SEED, then the development seed)")
    for p in (grade, batch):
        p.add_argument("--skipped", choices=SKIPPED_POLICIES, default=os.environ.get("DLGRADE_SKIPPED", "exclude"),
                       help="checks that cannot run here (GPU-only ones without a GPU): left out of the total "
                            "(exclude) or counted as lost (zero); default: $DLGRADE_SKIPPED, else exclude")

    sub["generate"].add_argument("--check", action="store_true", help="write nothing; fail if assignments/ drifted")
    export = sub["export"]
    export.add_argument("target", choices=EXPORT_TARGETS, help="the platform")
    export.add_argument("-a", "--assignment", required=True, help="assignment name")
    export.add_argument("-o", "--output", required=True, metavar="OUT", help="folder to write into")
    export.add_argument("--seed", help="secret seed for the hidden inputs (default: $DLGRADE_SEED, $DLGRADE_SEED_FILE, "
                                       "else a fresh random one)")
    export.add_argument("--details-visibility", choices=VISIBILITIES, default="after_due_date",
                        help="gradescope: when students see the feedback per hidden case (default: after_due_date)")
    export.add_argument("--fail-under", type=float, default=60.0, metavar="PCT",
                        help="github: the job fails below PCT percent (default: 60)")
    export.add_argument("--dlgrade-url", default=DLGRADE_URL_PLACEHOLDER, metavar="URL",
                        help="otter, github: the pip requirement that installs dlgrade (your course repository)")
    report = sub["report"]
    report.add_argument("output", metavar="OUT", help="a grade-batch output folder (gradebook.csv, students/)")
    report.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="what to print (default: text)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "jobs", 0) is None:
        args.jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    module = importlib.import_module(VERBS[args.verb][0])
    try:
        return module.main(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`dlgrade list | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:  # noqa: BLE001 - a bug of the grader itself: say so, keep the trace for the maintainers
        print(f"dlgrade {args.verb}: internal error in the grader (not in the submission):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
