"""``dlgrade demo``: grade the bundled example submissions and print a table.

Without a secret it uses the public development seed (the examples are public
anyway), and says so."""

from __future__ import annotations

import argparse
import sys

from grader.commands import add_secret_arguments
from grader.course import Course, Secret, SecretError
from grader.exits import EXIT_OK, EXIT_USAGE
from grader.suites import SUITES

HELP = "grade the bundled example submissions (with the public development seed unless a secret is given)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_secret_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from grader.engine import grade_submission  # torch: not before the command line is known to need it

    course = Course.locate()
    try:
        secret = Secret.resolve(args.seed, development=True)
    except SecretError as e:
        print(f"dlgrade demo: {e}", file=sys.stderr)
        return EXIT_USAGE
    rows = []
    for suite in SUITES.values():
        folder = course.root / "solutions" / "examples" / suite.assignment
        # The stub is the assignment's own module, as students receive it.
        stub = course.assignment_dir(suite) / f"{suite.module}.py"
        submissions = [course.solution_dir(suite), *sorted(folder.glob("*.py")), stub]
        for path in submissions:
            result = grade_submission(suite, path, secret, course, allow_unconfined=args.allow_unconfined)
            label = "solution" if path.is_dir() else "stub" if path == stub else path.stem
            rows.append((suite.assignment, label, result))
            print(f"graded {suite.assignment}/{label}: {result.percent:.1f}% in {result.seconds:.2f} s", flush=True)
    print()
    width, label_width = max(len(a) for a, _, _ in rows), max(len("submission"), *(len(n) for _, n, _ in rows))
    print(f"{'assignment':<{width}} {'submission':<{label_width}} {'score':>11} {'%':>6} {'time':>7}  "
          f"catalogued bugs recognised")
    for assignment, label, r in rows:
        score = f"{round(r.score, 2):g}/{r.max_score:g}"
        print(f"{assignment:<{width}} {label:<{label_width}} {score:>11} {r.percent:6.1f} {r.seconds:6.2f}s  "
              f"{', '.join(r.bugs) or '-'}")
    if secret.is_development:
        print("\n(graded with the public development seed: give a secret with DLGRADE_SEED_FILE for real grading)")
    print("Details of one submission: dlgrade grade --development solutions/examples/neuron/buggy.py")
    return EXIT_OK
