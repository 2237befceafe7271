"""How a class did, from a ``grade-batch`` output folder (``dlgrade report OUT``;
its renderings are ``grader.render.class_report``'s).

Per graded function: the class's mean points, the share of submissions that
lost points on it, and the catalogued bug recognised most often; and how many
submissions are ``graded``, ``invalid``, ``error`` or ``not graded``. The
class is the students of ``OUT/gradebook.csv``; what each one got is read from
their native result file (``students/<name>/result.json``), the gradebook's
status standing only for a student without one. Function statistics are over
the ``graded`` submissions: an empty file, a broken zip or a module that does
not import says nothing about which function is hard.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader.results import GRADEBOOK_BEFORE, ResultFormatError, Status, read_result, result_path


class ReportError(ValueError):
    pass


@dataclass
class FunctionStats:
    name: str
    max_points: float = 0.0
    points: list[float] = field(default_factory=list)  # one per graded submission
    failed: int = 0  # graded submissions that lost points on it
    bugs: Counter = field(default_factory=Counter)  # catalogued bug -> submissions it was recognised in

    @property
    def mean(self) -> float:
        return sum(self.points) / len(self.points) if self.points else 0.0

    @property
    def failure_rate(self) -> float:
        return self.failed / len(self.points) if self.points else 0.0

    @property
    def top_bug(self) -> tuple[str, int] | None:
        return self.bugs.most_common(1)[0] if self.bugs else None


@dataclass
class ClassReport:
    assignment: str
    statuses: Counter
    functions: list[FunctionStats]
    percents: list[float]  # of the graded submissions
    unreadable: list[str]  # students the gradebook marks finished whose result file could not be read
    development: list[str]  # students graded with the public development seed: no grades

    @property
    def students(self) -> int:
        return sum(self.statuses.values())


def summarise(out: Path) -> ClassReport:
    gradebook = out / "gradebook.csv"
    try:
        with open(gradebook, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames or []
    except OSError as e:
        raise ReportError(f"cannot read {gradebook} ({e.strerror or e}): is {out} a grade-batch output "
                          f"folder?") from None
    missing = [c for c in GRADEBOOK_BEFORE if c not in columns]
    if missing:
        raise ReportError(f"{gradebook} is not a dlgrade gradebook: no column {', '.join(missing)}")
    stats: dict[str, FunctionStats] = {}
    graded = []
    statuses: Counter[str] = Counter()
    unreadable, development, assignment = [], [], ""
    for row in rows:
        try:
            result = read_result(result_path(out, row["student"]))
        except (OSError, ResultFormatError):
            statuses[row["status"]] += 1  # "not graded", "error": no result, as the gradebook says
            if row["status"] in (Status.GRADED, Status.INVALID):  # finished, says the gradebook: its result is lost
                unreadable.append(row["student"])
            continue
        statuses[result.status.value] += 1
        assignment = result.assignment
        if result.development_seed:
            development.append(row["student"])
        if result.status is Status.GRADED:
            graded.append(result)
            for fn in result.functions:  # the functions in the results' own order
                s = stats.setdefault(fn.name, FunctionStats(fn.name))
                s.max_points = max(s.max_points, fn.max_score)
    for result in graded:
        functions = {f.name: f for f in result.functions}
        failing = _failing(functions, stats)
        for name, s in stats.items():
            graded_fn = functions.get(name)  # missing: graded by a suite without it, no points
            s.points.append(graded_fn.score if graded_fn else 0.0)
            s.failed += name in failing
            s.bugs.update(graded_fn.bugs if graded_fn else [])
    return ClassReport(assignment or out.name, statuses, list(stats.values()), [r.percent for r in graded],
                       unreadable, development)


def _failing(functions: dict, stats: dict) -> set[str]:
    """The functions one submission failed on. A case lost because another of
    the student's functions failed on its input (``CaseResult.blocked_by``: a
    backward's own forward) is a failure of that function, not of the graded
    one."""
    failing = {name for name in stats if name not in functions}
    for name, f in functions.items():
        for c in f.cases:
            if c.score < c.max_score:
                failing.add(c.blocked_by if c.blocked_by in stats else name)
    return failing
