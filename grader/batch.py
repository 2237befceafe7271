"""``dlgrade grade-batch DIR -a NAME -o OUT``: grade a whole class.

DIR holds one entry per student: a folder, a ``.py``, a ``.zip`` or a
``.ipynb`` (the student's name is the entry's name without its suffix). For
each student, ``OUT/students/<name>/results.json`` (Gradescope's format; the
status and message in ``extra_data``) and ``report.txt`` are written
atomically, as soon as that student is graded. ``OUT/gradebook.csv`` is
rebuilt from those files at the end, so it is complete after any rerun: a
rerun grades only the students without a finished result (all of them with
``--regrade``), and a batch killed halfway loses nothing that was finished.
A grader-side failure (a full disk, an unwritable folder, a worker that died)
records no result for that student: the gradebook says ``error`` and a rerun
grades them again.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import io
import json
import multiprocessing
import os
import sys
import tempfile
from pathlib import Path

import grader
from grader.cli import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from grader.course import Course, Secret, SecretError
from grader.formats import to_html, unavailable
from grader.grade import grade_submission
from grader.report import GRADEBOOK_AFTER, GRADEBOOK_BEFORE, GradeResult, result_path, write_text_atomically
from grader.suites import SUITES, UnknownAssignment, get_suite

FINAL_STATUSES = ("graded", "invalid")  # an "error" (the grader failed) is retried by a rerun


def discover(folder: Path) -> dict[str, Path]:
    """Student name -> submission, for every entry not hidden (``.``/``_``): an
    entry of an unusable kind is graded ``invalid`` with a message. Two entries
    for one name is an error."""
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        name = entry.name if entry.is_dir() else entry.stem
        if name in found:
            raise ValueError(f"{folder}: two submissions for '{name}' ({found[name].name}, {entry.name})")
        found[name] = entry
    return found


def is_finished(out: Path, student: str, development: bool) -> bool:
    """A final result graded the way this batch grades: one made with the
    development seed does not stand in a batch with a secret, nor the reverse."""
    try:
        extra = json.loads(result_path(out, student).read_text())["extra_data"]
        return extra["status"] in FINAL_STATUSES and extra.get("development_seed", False) == development
    except (OSError, ValueError, KeyError, TypeError):
        return False


def grade_one(assignment: str, student: str, path: str, out: str, seed: str, hide: tuple[Path, ...], html: bool,
              skipped: str = "exclude",
              allow_unconfined: bool = False) -> tuple[str, str, str]:
    """Grade one student and write their files; runs in a worker process.
    results.json comes last: it marks the student finished. Returns (student,
    status, message); status "error" with nothing written when the files could
    not be written."""
    suite = SUITES[assignment]
    try:
        # The class's submissions and results are hidden from each student's code.
        result = grade_submission(suite, Path(path), Secret(seed), Course.locate(), hide=hide,
                                  skipped=skipped, allow_unconfined=allow_unconfined)
    except Exception as e:  # noqa: BLE001 - one student's failure must not stop the class
        result = GradeResult(suite.assignment, path, [], status="error",
                             message=f"the grader failed on this submission: {type(e).__name__}: {e}")
    folder = Path(out) / "students" / student
    try:
        write_text_atomically(folder / "report.txt", result.to_text() + "\n")
        if html:
            try:
                write_text_atomically(folder / "report.html", to_html(result))
            except Exception as e:  # noqa: BLE001 - the grade stands without its page
                print(f"{student}: report.html not written: {type(e).__name__}: {e}", file=sys.stderr)
        write_text_atomically(folder / "results.json", json.dumps(result.to_gradescope(), indent=2))
    except OSError as e:
        # The grader's disk, not the student: no grade is recorded, so that a rerun grades them again (a
        # results.json of an earlier run must not stand in for this one).
        with contextlib.suppress(OSError):
            (folder / "results.json").unlink(missing_ok=True)
        return student, "error", f"the grader could not write this student's results ({_describe(e)}); run the " \
                                 f"same command again"
    return student, result.status, result.message


def _describe(error: OSError) -> str:
    return f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error)


def write_gradebook(out: Path, suite, students: dict[str, Path], errors: dict[str, str] | None = None) -> Path:
    """One row per student, from their results.json; a student without one
    is ``error`` with the message in ``errors`` (this run failed to record
    them), else ``not graded``."""
    functions = [name for name, _ in suite.graded]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*GRADEBOOK_BEFORE, *functions, *GRADEBOOK_AFTER])
    blank = [""] * (len(functions) + len(GRADEBOOK_AFTER) - 1)  # every column but the message
    for student in students:
        try:
            data = json.loads(result_path(out, student).read_text())
        except (OSError, ValueError):
            if student in (errors or {}):
                writer.writerow([student, "error", *blank, errors[student]])
            else:
                writer.writerow([student, "not graded", *blank,
                                 "no result: the batch stopped before this student; run it again"])
            continue
        points = {t["name"].split(": ", 1)[-1]: t["score"] for t in data.get("tests", [])}
        extra = data.get("extra_data", {})
        development = {True: "yes", False: "no"}.get(extra.get("development_seed"), "")
        writer.writerow([student, extra.get("status", ""), *[points.get(f, 0) for f in functions], data["score"],
                         data.get("max_score", ""), extra.get("percent", ""), development,
                         extra.get("confinement", ""), extra.get("message", "")])
    path = out / "gradebook.csv"
    write_text_atomically(path, buffer.getvalue())
    return path


@contextlib.contextmanager
def _workers_start_clean(course: Course):
    """Spawned workers start in this process's current folder with a copy of
    its sys.path (multiprocessing's spawn passes both), and the interpreter of
    each looks its first imports (multiprocessing itself, struct, pickle...) up
    in its current folder first: a numpy.py, struct.py or grader/ planted in
    the folder the batch was started from would run in every worker. While the
    pool starts its workers, this process stands in an empty folder of its
    own, and its sys.path lacks the current folder, unless the grader itself
    is imported from there (a checkout run as ``python -m grader``). The course
    folder, which ``Course.locate`` may take from the current folder, reaches
    them in ``$DLGRADE_COURSE``."""
    cwd = os.getcwd()
    here, own = os.path.realpath(cwd), os.path.realpath(Path(grader.__file__).parent.parent)
    saved, located = sys.path[:], os.environ.get("DLGRADE_COURSE")
    with tempfile.TemporaryDirectory(prefix="dlgrade-batch-") as empty:
        sys.path[:] = [p for p in saved if os.path.realpath(p or ".") != here or here == own]
        os.environ["DLGRADE_COURSE"] = str(course.root)
        os.chdir(empty)
        try:
            yield
        finally:
            os.chdir(cwd)
            sys.path[:] = saved
            if located is None:
                del os.environ["DLGRADE_COURSE"]
            else:
                os.environ["DLGRADE_COURSE"] = located


def main(args) -> int:
    try:
        suite = get_suite(args.assignment)
    except UnknownAssignment as e:
        print(f"dlgrade grade-batch: {e}", file=sys.stderr)
        return EXIT_USAGE
    folder, out = Path(args.folder), Path(args.output)
    if not folder.is_dir():
        print(f"dlgrade grade-batch: {folder} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        secret = Secret.resolve(args.seed, development=args.development)
        students = discover(folder)
        out.mkdir(parents=True, exist_ok=True)
    except SecretError as e:
        print(f"dlgrade grade-batch: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, OSError) as e:
        print(f"dlgrade grade-batch: {_describe(e) if isinstance(e, OSError) else e}", file=sys.stderr)
        return EXIT_USAGE
    for stale in out.glob("students/*/.*.tmp"):  # left by a batch killed mid-write; never read
        with contextlib.suppress(OSError):
            stale.unlink()
    todo = {s: p for s, p in students.items() if args.regrade or not is_finished(out, s, secret.is_development)}
    print(f"{len(students)} submissions, {len(students) - len(todo)} already graded, {len(todo)} to grade "
          f"with {args.jobs} worker(s)", flush=True)
    if secret.is_development:
        print("note: graded with the public development seed (--development): these results are no grades",
              file=sys.stderr)
    html = args.html
    if html and (missing := unavailable("html")):
        print(f"note: no report.html per student: {missing}", file=sys.stderr)
        html = False
    tally: dict[str, int] = {}
    errors: dict[str, str] = {}
    # Workers run in another folder (see _workers_start_clean): every path they get is made absolute here
    # (not resolved: a submission that is a symbolic link must reach materialize as one).
    hide, where = (folder.resolve(), out.resolve()), str(out.absolute())
    todo = {s: str(p.absolute()) for s, p in todo.items()}
    with _progress(len(todo)) as advance, _workers_start_clean(Course.locate()), \
            concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs,
                                                   mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(grade_one, suite.assignment, s, p, where, secret.value, hide, html, args.skipped,
                               args.allow_unconfined): s for s, p in todo.items()}
        for future in concurrent.futures.as_completed(futures):
            try:
                _, status, message = future.result()
            except concurrent.futures.process.BrokenProcessPool:
                status, message = "error", "a grader worker died while grading this student; run the same command again"
            if status == "error":
                errors[futures[future]] = message
            tally[status] = tally.get(status, 0) + 1
            advance()
    try:
        gradebook = write_gradebook(out, suite, students, errors)
    except OSError as e:
        print(f"dlgrade grade-batch: cannot write the gradebook ({_describe(e)}); the students' results written so "
              f"far are kept: run the same command again", file=sys.stderr)
        return EXIT_INTERNAL
    print(f"gradebook: {gradebook} ({', '.join(f'{n} {s}' for s, n in sorted(tally.items())) or 'nothing new'})")
    unrecorded = [s for s in errors if not result_path(out, s).is_file()]
    if unrecorded:
        print(f"dlgrade grade-batch: no result recorded for {len(unrecorded)} student(s) ({', '.join(unrecorded)}): "
              f"the grader failed, see their rows; run the same command again to grade them", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


class _progress:
    """A tqdm bar when tqdm is installed (it is optional for the grading core)."""

    def __init__(self, total: int):
        self.total = total

    def __enter__(self):
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
            self.done = 0
            return self._print
        self.bar = tqdm(total=self.total, unit="student", file=sys.stderr, disable=not self.total)
        return lambda: self.bar.update()

    def _print(self) -> None:
        self.done += 1
        print(f"  graded {self.done}/{self.total}", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()

