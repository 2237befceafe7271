"""The ``dlgrade`` verbs, one module each, named like the verb (``grade-batch``:
``grade_batch.py``). Each has ``HELP`` (its line in ``dlgrade --help``),
``add_arguments(parser)`` and ``run(args) -> int``, an exit status of
``grader.exits``; ``grader/cli.py`` builds the parser from them.

Every verb module is imported to build the parser, before the command line
is known: at its top it imports only what its arguments need, and the rest
(torch, through the engine) inside ``run``, so that ``dlgrade list`` or a
mistake in a command does not wait for torch.

Below: argument types and options that more than one verb shares."""

from __future__ import annotations

import argparse
import os

from grader.results import SkippedPolicy


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


def add_secret_arguments(parser: argparse.ArgumentParser) -> None:
    """--seed and --allow-unconfined: every verb that runs student code (grade, grade-batch, demo)."""
    parser.add_argument("--seed", help="secret seed for hidden inputs (else $DLGRADE_SEED, else the first line of the "
                                       "file $DLGRADE_SEED_FILE: the safest, as a command line is visible to others)")
    parser.add_argument("--allow-unconfined", action="store_true",
                        help="grade even where student code cannot be confined (not Linux, or no root and no user "
                             "namespaces); results are marked unconfined")


def skipped_policy(text: str) -> SkippedPolicy:
    try:
        return SkippedPolicy(text)
    except ValueError:  # from the option or from $DLGRADE_SKIPPED
        raise argparse.ArgumentTypeError(f"must be {' or '.join(map(str, SkippedPolicy))}, not {text!r} "
                                         f"(given by --skipped or $DLGRADE_SKIPPED)") from None


def add_grading_arguments(parser: argparse.ArgumentParser) -> None:
    """--development and --skipped: the verbs that record grades (grade, grade-batch)."""
    parser.add_argument("--development", action="store_true",
                        help="without a secret seed, grade with the public development seed (every result is marked "
                             "as such): for trying things out, never for grades")
    parser.add_argument("--skipped", type=skipped_policy, choices=tuple(SkippedPolicy),
                        default=os.environ.get("DLGRADE_SKIPPED", SkippedPolicy.EXCLUDE.value),
                        help="checks that cannot run here (GPU-only ones without a GPU): left out of the total "
                             "(exclude) or counted as lost (zero); default: $DLGRADE_SKIPPED, else exclude")
