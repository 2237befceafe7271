"""``dlgrade export {gradescope,otter,github} -a NAME -o OUT``: an assignment's
grading packaged for another platform.

* ``gradescope``: ``OUT/autograder-NAME.zip``, an autograder in Gradescope's
  format (``setup.sh``, ``run_autograder``, the grader, the reference solution
  and the secret seed), see ``grader.export.gradescope``;
* ``otter``: ``OUT/NAME.ipynb``, an otter-grader master notebook whose tests
  grade through dlgrade, on a seed of its own (never the course's secret: otter
  runs them in the student's kernel), see ``grader.export.otter``;
* ``github``: ``OUT/.github/workflows/dlgrade-NAME.yml``, a GitHub Actions
  workflow (GitHub Classroom or any repository) that grades the student's
  module on every push and fails below a threshold.

Every route grades with the same suite, so a submission gets the same feedback
whichever platform runs it.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from pathlib import Path

from grader.course import Course, Secret, SecretError
from grader.export.common import DLGRADE_URL_PLACEHOLDER, export_secret

# What each target imports, and the extra that installs it.
NEEDS = {"gradescope": (("jinja2", "packaging"), "export"), "github": (("jinja2", "packaging"), "export"),
         "otter": (("nbformat", "yaml", "packaging"), "otter,export")}


def main(args) -> int:
    import importlib.util

    from grader.exits import EXIT_OK, EXIT_USAGE
    from grader.report import OutputError, check_output_folder
    from grader.suites import UnknownAssignment, get_suite

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
