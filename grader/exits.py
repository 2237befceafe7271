"""What every command exits with, the version it reports, and the error a
broken course declaration raises: a module of its own, so that the verbs
(and the cluster's workers) import them without the command line's parser,
and the parser without the declarations."""

from __future__ import annotations

# Exit statuses of every command. FAILED: below --fail-under, drift, failing checks; USAGE: a mistake in the
# command, found before any grading; INTERNAL: the grader itself failed; INTERRUPTED: Ctrl-C or SIGTERM (128 + 2,
# what a shell reports for a process that SIGINT ended).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("dlgrade")
    except metadata.PackageNotFoundError:  # run from a source folder never installed, e.g. a Gradescope zip
        return "(not installed)"


class DeclarationError(Exception):
    """A suite's declaration is broken (a hint missing from its hints file, a
    folder not named NN_<assignment>): the course's mistake, not a student's,
    told in one line by every command, which exits with EXIT_INTERNAL."""
