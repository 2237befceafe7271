"""The ``dlgrade`` command: one subcommand per module (list, check, grade,
generate, demo, ...).

Only the standard library is imported before ``main`` has parsed the command
line: it may have to restart the process before anything else happens (see
``seed_out_of_argv``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from grader.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, version

VERBS = {
    "list": ("grader.listing", "list the assignments, their graded functions and points"),
    "check": ("grader.check", "run the public checks of an assignment (for students; public inputs, no secret "
                              "seed needed)"),
    "grade": ("grader.grade", "grade a submission with the hidden tests"),
    "grade-batch": ("grader.batch", "grade a folder of submissions, one per student, into a gradebook"),
    "generate": ("grader.generate", "write assignments/ from solutions/ (instructors)"),
    "demo": ("grader.demo", "grade the bundled example submissions (with the public development seed unless a "
                            "secret is given)"),
    "export": ("grader.export", "package an assignment's grading for Gradescope, otter-grader or GitHub Actions"),
    "report": ("grader.class_report", "summarise a grade-batch output folder: points, failures, bugs per function"),
}


class _Parser(argparse.ArgumentParser):
    """A mistake on the command line is one line, naming the option; --help
    has the rest (argparse's default prints the whole usage first)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def percentage(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= number <= 100:  # NaN included: no score is below it, so it would pass everything
        raise argparse.ArgumentTypeError(f"must be a percentage from 0 to 100, not {text}")
    return number


def build_parser() -> argparse.ArgumentParser:
    from grader.export.common import DLGRADE_URL_PLACEHOLDER, EXPORT_TARGETS, VISIBILITIES
    from grader.formats import FORMATS
    from grader.report import SKIPPED_POLICIES

    # No abbreviated options: `--se S` would be a --seed that seed_out_of_argv does not see.
    parser = _Parser(prog="dlgrade", description="Autograder for a hands-on deep-learning course.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"dlgrade {version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for verb, (_, help_text) in VERBS.items():
        verbs.add_parser(verb, help=help_text, description=help_text, allow_abbrev=False)
    sub = verbs.choices

    sub["list"].add_argument("--format", choices=("text", "json"), default="text", help="what to print (default: text)")
    sub["check"].add_argument("path", nargs="?", default=".", help="assignment folder or .py file (default: .)")

    grade = sub["grade"]
    grade.add_argument("path", help="submission: a folder holding the assignment's module, or a .py file")
    grade.add_argument("-a", "--assignment", help="assignment name (default: inferred from the path)")
    grade.add_argument("--format", choices=FORMATS, default="text", help="what to print (default: text)")
    grade.add_argument("--json", metavar="FILE", help="also write Gradescope-style results.json to FILE")
    grade.add_argument("--result", metavar="FILE", help="also write the native result (dlgrade-result/1) to FILE")
    grade.add_argument("--markdown", metavar="FILE", help="also write the markdown report (for a CI job summary)")
    grade.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one testcase per case) to FILE")
    grade.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with figures")
    grade.add_argument("--fail-under", type=percentage, metavar="PCT",
                       help="exit 1 when the score is below PCT percent (0 to 100)")
    batch = sub["grade-batch"]
    batch.add_argument("folder", help="one folder, .py, .zip or .ipynb per student")
    batch.add_argument("-a", "--assignment", required=True, help="assignment name")
    batch.add_argument("-o", "--output", required=True, metavar="OUT", help="where results and gradebook.csv go")
    batch.add_argument("--jobs", type=at_least_one, default=None,
                       help="submissions graded at once (default: the cores)")
    batch.add_argument("--regrade", action="store_true", help="grade students that already have a result too")
    batch.add_argument("--no-html", dest="html", action="store_false",
                       help="write no report.html per student")
    # More than one machine (grader/cluster.py; the README's "More than one machine"): needs the cluster extra,
    # dlgrade[cluster].
    on = batch.add_mutually_exclusive_group()
    on.add_argument("--scheduler", metavar="ADDRESS",
                    help="grade on a running Dask cluster, one task per student (e.g. tcp://HOST:8786); its workers "
                         "decide how many run at once, not --jobs")
    on.add_argument("--scheduler-file", metavar="FILE",
                    help="as --scheduler, with the address from the file that `dask scheduler --scheduler-file` writes")
    for p in (grade, sub["demo"], batch):
        p.add_argument("--seed", help="secret seed for hidden inputs (else $DLGRADE_SEED, else the first line of the "
                                      "file $DLGRADE_SEED_FILE: the safest, as a command line is visible to others)")
        p.add_argument("--allow-unconfined", action="store_true",
                       help="grade even where student code cannot be confined (not Linux, or no root and no user "
                            "namespaces); results are marked unconfined")
    for p in (grade, batch):
        p.add_argument("--development", action="store_true",
                       help="without a secret seed, grade with the public development seed (every result is marked "
                            "as such): for trying things out, never for grades")
        p.add_argument("--skipped", choices=SKIPPED_POLICIES, default=os.environ.get("DLGRADE_SKIPPED", "exclude"),
                       help="checks that cannot run here (GPU-only ones without a GPU): left out of the total "
                            "(exclude) or counted as lost (zero); default: $DLGRADE_SKIPPED, else exclude")

    sub["generate"].add_argument("--check", action="store_true", help="write nothing; fail if assignments/ drifted")
    export = sub["export"]
    export.add_argument("target", choices=EXPORT_TARGETS, help="the platform")
    export.add_argument("-a", "--assignment", required=True, help="assignment name")
    export.add_argument("-o", "--output", required=True, metavar="OUT", help="folder to write into")
    export.add_argument("--seed", help="gradescope: secret seed for the hidden inputs (default: $DLGRADE_SEED, "
                                       "$DLGRADE_SEED_FILE, else a fresh random one); otter never uses the course's "
                                       "secret")
    export.add_argument("--details-visibility", choices=VISIBILITIES, default="after_due_date",
                        help="gradescope: when students see the feedback per hidden case (default: after_due_date)")
    export.add_argument("--fail-under", type=percentage, default=60.0, metavar="PCT",
                        help="github: the job fails below PCT percent (default: 60)")
    export.add_argument("--dlgrade-url", default=DLGRADE_URL_PLACEHOLDER, metavar="URL",
                        help="otter, github: the pip requirement that installs dlgrade (your course repository)")
    report = sub["report"]
    report.add_argument("output", metavar="OUT", help="a grade-batch output folder (gradebook.csv, students/)")
    report.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="what to print (default: text)")
    return parser


SEED_OPTION = "--seed"


def seed_out_of_argv(args: list[str]) -> tuple[list[str], str | None]:
    """``args`` without its ``--seed VALUE`` and ``--seed=VALUE`` (options
    end at ``--``), and the value argparse would take (the last one); None
    when there is none. A blank value stays where it is, for the parser's
    caller to refuse: it reveals nothing. A value that starts with ``-`` after
    a separate ``--seed`` is left to argparse too, which takes it for an option."""
    rest, value = [], None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == SEED_OPTION and i + 1 < len(args) and args[i + 1].strip() and not args[i + 1].startswith("-"):
            value, i = args[i + 1], i + 2
            continue
        if arg.startswith(SEED_OPTION + "=") and arg.split("=", 1)[1].strip():
            value, i = arg.split("=", 1)[1], i + 1
            continue
        rest.append(arg)
        i += 1
    return (rest, value) if value is not None else (args, None)


def restart_without_seed(value: str, args: list[str]) -> None:
    """Replace this process by one started the same way (same interpreter and
    options, same script or ``-m``, so the same sys.path) with the seed in
    ``$DLGRADE_SEED``, which only this user can read, instead of in the command
    line, which ``/proc/<pid>/cmdline`` shows to every user for as long as the
    grading runs."""
    os.environ["DLGRADE_SEED"] = value
    given = sys.argv[1:]
    started_as = sys.orig_argv[:len(sys.orig_argv) - len(given)]  # interpreter, its options, the script or -m grader
    if sys.orig_argv[len(started_as):] != given:  # sys.argv was changed in this process: start the package
        started_as = [sys.executable, "-m", "grader"]
    sys.stdout.flush()
    sys.stderr.flush()
    # argv[0] is the interpreter's full path: from a bare "python3", Python would look itself up on PATH and might
    # find another installation.
    os.execv(sys.executable, [sys.executable, *started_as[1:], *args])


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        rest, seed = seed_out_of_argv(sys.argv[1:])
        if seed is not None:
            try:
                restart_without_seed(seed, rest)
            except OSError as e:
                print(f"dlgrade: cannot restart without the seed on the command line ({e.strerror or e}); give it "
                      f"with DLGRADE_SEED_FILE instead", file=sys.stderr)
                return EXIT_INTERNAL
    args = build_parser().parse_args(argv)
    if getattr(args, "jobs", 0) is None:
        args.jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    module = importlib.import_module(VERBS[args.verb][0])
    try:
        return module.main(args)
    except KeyboardInterrupt:  # grade-batch handles its own; here the sandboxes closed on the way out
        print(f"dlgrade {args.verb}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
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
