"""``dlgrade export {gradescope,otter,github} -a NAME -o OUT``: an assignment's
grading packaged for another platform, by the builders of ``grader/export/``
(``gradescope``: the autograder zip; ``otter``: the master notebook;
``github``: the workflow)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import shlex
import sys
from pathlib import Path

from grader.commands import percentage
from grader.course import Course, Secret, SecretError
from grader.exits import EXIT_OK, EXIT_USAGE
from grader.export.common import DLGRADE_URL_PLACEHOLDER, EXPORT_TARGETS, VISIBILITIES, export_secret
from grader.results import OutputError, check_output_folder
from grader.suites import UnknownAssignment, get_suite

HELP = "package an assignment's grading for Gradescope, otter-grader or GitHub Actions"
# What each target imports, and the extra that installs it.
NEEDS = {"gradescope": (("jinja2", "packaging"), "export"), "github": (("jinja2", "packaging"), "export"),
         "otter": (("nbformat", "yaml", "packaging"), "otter,export")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=EXPORT_TARGETS, help="the platform")
    parser.add_argument("-a", "--assignment", required=True, help="assignment name")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="folder to write into")
    parser.add_argument("--seed", help="gradescope: secret seed for the hidden inputs (default: $DLGRADE_SEED, "
                                       "$DLGRADE_SEED_FILE, else a fresh random one); otter never uses the course's "
                                       "secret")
    parser.add_argument("--details-visibility", choices=VISIBILITIES, default="after_due_date",
                        help="gradescope: when students see the feedback per hidden case (default: after_due_date)")
    parser.add_argument("--fail-under", type=percentage, default=60.0, metavar="PCT",
                        help="github: the job fails below PCT percent (default: 60)")
    parser.add_argument("--dlgrade-url", default=DLGRADE_URL_PLACEHOLDER, metavar="URL",
                        help="otter, github: the pip requirement that installs dlgrade (your course repository)")


def run(args: argparse.Namespace) -> int:
    modules, extra = NEEDS[args.target]
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        print(f"dlgrade export {args.target}: needs {', '.join(missing)}: pip install 'dlgrade[{extra}]'",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        suite = get_suite(args.assignment)
        # The workflow reads the seed from the repository's secrets, and the otter export makes its own (see
        # grader.export.otter): only the Gradescope zip carries the course's.
        secret, origin = export_secret(args.seed) if args.target == "gradescope" else (None, "")
        check_output_folder(Path(args.output), "-o")
    except (UnknownAssignment, SecretError, OutputError) as e:
        print(f"dlgrade export: {e}", file=sys.stderr)
        return EXIT_USAGE
    course = Course.locate()
    out = Path(args.output)
    if args.target in ("otter", "github") and args.dlgrade_url == DLGRADE_URL_PLACEHOLDER:
        print(f"warning: the {args.target} export installs dlgrade from the placeholder {DLGRADE_URL_PLACEHOLDER}, "
              f"which fails on the platform: pass --dlgrade-url (your course's repository)", file=sys.stderr)
    if args.target == "github":
        from grader.export.github import write_workflow

        print(f"wrote {write_workflow(suite, out, args.fail_under, args.dlgrade_url)}")
        return EXIT_OK
    if course.solution_file(suite) is None:
        print(f"dlgrade export: no reference solution at {course.solution_dir(suite)}: exports are made from the "
              f"course repository (set DLGRADE_COURSE to its folder)", file=sys.stderr)
        return EXIT_USAGE
    if args.target == "gradescope":
        from grader.export.gradescope import SEED_FILE, build_autograder

        assert secret is not None  # export_secret's, for the gradescope target
        path = build_autograder(suite, course, secret, out, args.details_visibility)
        print(f"wrote {path}\nhidden inputs use {origin}; it is in the zip's {SEED_FILE.as_posix()}: keep that file "
              f"from students, and grade elsewhere with the same seed to get the same scores. To read it back:\n"
              f"  unzip -p {shlex.quote(str(path))} {SEED_FILE.as_posix()} > seed.txt && chmod 600 seed.txt\n"
              f"then grade with DLGRADE_SEED_FILE=seed.txt")
        return EXIT_OK
    from grader.export.otter import write_master_notebook

    path = write_master_notebook(suite, course, out, args.dlgrade_url)
    print(f"wrote {path}\nhidden tests use a fresh random seed of this export's own, never the course's secret: "
          f"otter runs them in the student's own kernel, where the student's code can read all they hold")
    with contextlib.suppress(SecretError):
        unused = Secret.resolve(args.seed)
        print(f"note: the course's secret (from {unused.source}) is not used by the otter export", file=sys.stderr)
    return EXIT_OK
