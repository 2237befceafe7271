"""``dlgrade grade-batch DIR -a NAME -o OUT``: grade a whole class
(``grader/batch.py``), on this machine's cores or, with ``--scheduler``, on a
Dask cluster (``grader/cluster.py``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.commands import add_grading_arguments, add_secret_arguments, at_least_one
from grader.course import Secret
from grader.exits import EXIT_USAGE
from grader.results import check_output_folder
from grader.suites import UnknownAssignment, get_suite

HELP = "grade a folder of submissions, one per student, into a gradebook"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="one folder, .py, .zip or .ipynb per student")
    parser.add_argument("-a", "--assignment", required=True, help="assignment name")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="where results and gradebook.csv go")
    parser.add_argument("--jobs", type=at_least_one, default=None,
                        help="submissions graded at once (default: the cores)")
    parser.add_argument("--regrade", action="store_true", help="grade students that already have a result too")
    parser.add_argument("--no-html", dest="html", action="store_false", help="write no report.html per student")
    # More than one machine (grader/cluster.py; the README's "More than one machine"): needs the cluster extra,
    # dlgrade[cluster].
    on = parser.add_mutually_exclusive_group()
    on.add_argument("--scheduler", metavar="ADDRESS",
                    help="grade on a running Dask cluster, one task per student (e.g. tcp://HOST:8786); its workers "
                         "decide how many run at once, not --jobs")
    on.add_argument("--scheduler-file", metavar="FILE",
                    help="as --scheduler, with the address from the file that `dask scheduler --scheduler-file` writes")
    add_secret_arguments(parser)
    add_grading_arguments(parser)


def cores() -> int:
    """The cores this process may run on (its affinity, where the system says)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run(args: argparse.Namespace) -> int:
    # The engine imports torch: not before the command line is known to need it.
    from grader.batch import LocalPool, describe, discover, grade_class

    try:
        suite = get_suite(args.assignment)
    except UnknownAssignment as e:
        print(f"dlgrade grade-batch: {e}", file=sys.stderr)
        return EXIT_USAGE
    folder, out = Path(args.folder), Path(args.output)
    if not folder.is_dir():
        print(f"dlgrade grade-batch: {folder} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    on_cluster = args.scheduler or args.scheduler_file
    if on_cluster:
        try:
            from grader.cluster import Cluster, ClusterError
        except ImportError as e:  # the optional extra is not installed
            print(f"dlgrade grade-batch: --scheduler needs Dask, which is not installed here ({e}): "
                  f"pip install 'dlgrade[cluster]'", file=sys.stderr)
            return EXIT_USAGE
    try:
        secret = Secret.resolve(args.seed, development=args.development)
        students = discover(folder)
        check_output_folder(out, "-o")
    except (ValueError, OSError) as e:  # SecretError, OutputError, two submissions for a name; an unreadable folder
        print(f"dlgrade grade-batch: {describe(e) if isinstance(e, OSError) else e}", file=sys.stderr)
        return EXIT_USAGE
    engine: LocalPool | Cluster = LocalPool(args.jobs or cores())
    if on_cluster:
        try:
            engine = Cluster.connect(args.scheduler, args.scheduler_file)
        except ClusterError as e:
            print(f"dlgrade grade-batch: {e}", file=sys.stderr)
            return EXIT_USAGE
    with engine:
        return grade_class(suite, folder, out, secret, students, engine, regrade=args.regrade, html=args.html,
                           skipped=args.skipped, allow_unconfined=args.allow_unconfined)
