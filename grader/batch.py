"""``dlgrade grade-batch DIR -a NAME -o OUT``: grade a whole class.

DIR holds one entry per student: a folder, a ``.py``, a ``.zip`` or a
``.ipynb`` (the student's name is the entry's name without its suffix). For
each student, ``OUT/students/<name>/results.json`` (Gradescope's format; the
status and message in ``extra_data``) and ``report.txt`` are written
atomically, as soon as that student is graded. ``OUT/gradebook.csv`` is
rebuilt from those files at the end, so it is complete after any rerun: a
rerun grades only the students without a finished result (all of them with
``--regrade``), and a batch killed halfway loses nothing that was finished.
"""

from __future__ import annotations

import concurrent.futures
import csv
import io
import json
import multiprocessing
import sys
from pathlib import Path

from grader.cli import EXIT_OK, EXIT_USAGE
from grader.course import Course, Secret
from grader.formats import to_html, unavailable
from grader.grade import grade_submission
from grader.report import GradeResult, result_path, write_text_atomically
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


def is_finished(out: Path, student: str) -> bool:
    try:
        data = json.loads(result_path(out, student).read_text())
        return data["extra_data"]["status"] in FINAL_STATUSES
    except (OSError, ValueError, KeyError, TypeError):
        return False


def grade_one(assignment: str, student: str, path: str, out: str, seed: str,
              hide: tuple[Path, ...], html: bool, skipped: str = "exclude") -> tuple[str, str, float]:
    """Grade one student and write their files; runs in a worker process.
    results.json comes last: it marks the student finished."""
    suite = SUITES[assignment]
    try:
        # The class's submissions and results are hidden from each student's code.
        result = grade_submission(suite, Path(path), Secret(seed), Course.locate(), hide=hide, skipped=skipped)
    except Exception as e:  # noqa: BLE001 - one student's failure must not stop the class
        result = GradeResult(suite.assignment, path, [], status="error",
                             message=f"the grader failed on this submission: {type(e).__name__}: {e}")
    folder = Path(out) / "students" / student
    write_text_atomically(folder / "report.txt", result.to_text() + "\n")
    if html:
        try:
            write_text_atomically(folder / "report.html", to_html(result))
        except Exception as e:  # noqa: BLE001 - the grade stands without its page
            print(f"{student}: report.html not written: {type(e).__name__}: {e}", file=sys.stderr)
    write_text_atomically(folder / "results.json", json.dumps(result.to_gradescope(), indent=2))
    return student, result.status, result.percent


def write_gradebook(out: Path, suite, students: dict[str, Path]) -> Path:
    functions = [name for name, _ in suite.graded]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "status", *functions, "total", "max", "percent", "message"])
    for student in students:
        try:
            data = json.loads(result_path(out, student).read_text())
        except (OSError, ValueError):
            writer.writerow([student, "not graded", *[""] * len(functions), "", "", "",
                             "no result: the batch stopped before this student; run it again"])
            continue
        points = {t["name"].split(": ", 1)[-1]: t["score"] for t in data.get("tests", [])}
        extra = data.get("extra_data", {})
        writer.writerow([student, extra.get("status", ""), *[points.get(f, 0) for f in functions], data["score"],
                         data.get("max_score", ""), extra.get("percent", ""), extra.get("message", "")])
    path = out / "gradebook.csv"
    write_text_atomically(path, buffer.getvalue())
    return path


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
        students = discover(folder)
        secret = Secret.resolve(args.seed)
    except ValueError as e:
        print(f"dlgrade grade-batch: {e}", file=sys.stderr)
        return EXIT_USAGE
    for stale in out.glob("students/*/.*.tmp"):  # left by a batch killed mid-write; never read
        stale.unlink()
    todo = {s: p for s, p in students.items() if args.regrade or not is_finished(out, s)}
    print(f"{len(students)} submissions, {len(students) - len(todo)} already graded, {len(todo)} to grade "
          f"with {args.jobs} worker(s)", flush=True)
    if secret.is_development:
        print("note: the development seed is in use; set DLGRADE_SEED for real grading", file=sys.stderr)
    html = args.html
    if html and (missing := unavailable("html")):
        print(f"note: no report.html per student: {missing}", file=sys.stderr)
        html = False
    tally: dict[str, int] = {}
    with _progress(len(todo)) as advance, concurrent.futures.ProcessPoolExecutor(
        max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        hide = (folder.resolve(), out.resolve())
        futures = [pool.submit(grade_one, suite.assignment, s, str(p), str(out), secret.value, hide, html, args.skipped)
                   for s, p in todo.items()]
        for future in concurrent.futures.as_completed(futures):
            try:
                _, status, _ = future.result()
            except concurrent.futures.process.BrokenProcessPool:
                status = "error"
            tally[status] = tally.get(status, 0) + 1
            advance()
    gradebook = write_gradebook(out, suite, students)
    print(f"gradebook: {gradebook} ({', '.join(f'{n} {s}' for s, n in sorted(tally.items())) or 'nothing new'})")
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

