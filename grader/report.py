"""Grading results: the model (``GradeResult``), its native file
(``result.json``, format ``dlgrade-result/1``, the one that ``grade-batch``,
``dlgrade report`` and the gradebook are made from), and its renderings as
Gradescope's results.json and text (markdown, JUnit XML and HTML are in
``grader.formats``)."""

from __future__ import annotations

import enum
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Status(str, enum.Enum):
    """How a submission's grading ended."""

    GRADED = "graded"
    INVALID = "invalid"  # the submission is unusable as handed in (the student's to fix): final
    ERROR = "error"  # the grader failed (a full disk, missing data, a broken sandbox): a rerun retries it
    NOT_GRADED = "not graded"  # gradebook only: no result recorded (the batch stopped before this student)

    def __str__(self) -> str:  # the value, in CSV cells and f-strings alike
        return self.value

    @property
    def final(self) -> bool:
        """A result that a rerun keeps (an error is retried)."""
        return self in (Status.GRADED, Status.INVALID)


# How checks that cannot run here count (``CaseResult.skipped``): left out of the total, or as lost.
SKIPPED_POLICIES = ("exclude", "zero")

DEVELOPMENT_SEED_WARNING = ("graded with the public development seed, not a secret one: this is no grade "
                            "(give the secret with DLGRADE_SEED_FILE, DLGRADE_SEED or --seed)")

# gradebook.csv (``dlgrade grade-batch``, read by ``dlgrade report``): these columns, with one column of points
# per graded function between them.
GRADEBOOK_BEFORE = ("student", "status")
GRADEBOOK_AFTER = ("total", "max", "percent", "development_seed", "confinement", "message")

# The native result file's format and version: a reader refuses any other (a change that an older reader would
# misread gets a new version).
RESULT_FORMAT = "dlgrade-result/1"


class ResultFormatError(ValueError):
    pass


@dataclass
class CaseResult:
    name: str
    score: float
    max_score: float
    messages: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    bugs: list[str] = field(default_factory=list)  # names of the catalogued bugs recognised
    speed: bool = False  # efficiency points rather than correctness
    # Data for the HTML report's figures only (never in results.json or the
    # text): the keys that ``grader.formats.FIGURES`` knows how to draw, e.g.
    # "error_maps" (attached by the grader to a failed array output),
    # "training_curve", "confusion_matrix". Values never hold expected outputs.
    details: dict[str, Any] = field(default_factory=dict)
    # Why the check did not run here (a GPU-only check on a machine without
    # one): never passed; its points count as 0 or not at all, as the
    # instructor chose (``dlgrade grade --skipped``).
    skipped: str | None = None
    # The student function that failed on this case's input when it is not the
    # graded one (a backward's own forward): the case is lost, and the class
    # report counts the failure under that function.
    blocked_by: str | None = None

    def __post_init__(self):
        if self.skipped and not self.messages:
            self.messages = [f"skipped: {self.skipped}"]

    @property
    def passed(self) -> bool:
        return self.skipped is None and self.score >= self.max_score


@dataclass
class FunctionResult:
    name: str
    cases: list[CaseResult]
    notes: list[str] = field(default_factory=list)  # shown whatever the score, e.g. the measured speed

    @property
    def score(self) -> float:
        return sum(c.score for c in self.cases)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cases)

    @property
    def summary(self) -> str:
        return f"{sum(c.passed for c in self.cases)} of {len(self.cases)} cases passed"

    @property
    def hints(self) -> list[str]:
        """Each recognised bug's hint once."""
        return list(dict.fromkeys(h for c in self.cases for h in c.hints))

    @property
    def bugs(self) -> list[str]:
        """Each catalogued bug recognised in any of its cases, once."""
        return list(dict.fromkeys(b for c in self.cases for b in c.bugs))

    def failure_groups(self) -> list[tuple[str, float, list[str], list[CaseResult]]]:
        """Failed cases grouped by identical feedback (one missing function reads
        as one line, not one per case): (which cases, points lost, messages, cases)."""
        groups: dict[tuple, list[CaseResult]] = {}
        for c in self.cases:
            if not c.passed:
                groups.setdefault(tuple(c.messages), []).append(c)
        found = []
        for messages, cases in groups.items():
            if len(cases) == len(self.cases) > 1:
                which = f"all {len(cases)} cases"
            else:
                which = ("case " if len(cases) == 1 else "cases ") + ", ".join(f"'{c.name}'" for c in cases)
            found.append((which, sum(c.max_score - c.score for c in cases), list(messages), cases))
        return found

    def output(self) -> str:
        lines = [self.summary]
        for which, lost, messages, _ in self.failure_groups():
            lines.append(f"- {which} (-{lost:g}):")
            lines += [f"    {line}" for m in messages for line in m.splitlines()]
        lines += [f"hint: {h}" for h in self.hints]
        lines += self.notes
        return "\n".join(lines)


@dataclass
class GradeResult:
    assignment: str
    submission: str
    functions: list[FunctionResult]
    notices: list[str] = field(default_factory=list)  # e.g. "graded with the development seed"
    seconds: float = 0.0
    status: Status = Status.GRADED
    message: str = ""  # why, when the status is not GRADED
    leaderboard: list[dict] = field(default_factory=list)  # Gradescope's leaderboard: {"name", "value", "order"}
    # Hidden inputs from the public development seed (``--development``): anyone can compute them, so the result
    # is no grade; every rendering and the gradebook say so.
    development_seed: bool = False
    # How far the sandbox could confine the student's code here: "namespaces", "uid-only" or "unconfined"
    # (``grader.sandbox``); "" when not known (a result made without a sandbox).
    confinement: str = ""

    def __post_init__(self):
        self.status = Status(self.status)  # "graded" is taken for Status.GRADED

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def warnings(self) -> list[str]:
        """What every rendering shows above the notices: the marks of a result
        that is no grade."""
        return [DEVELOPMENT_SEED_WARNING] if self.development_seed else []

    @property
    def bugs(self) -> list[str]:
        return list(dict.fromkeys(b for f in self.functions for b in f.bugs))

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    def to_gradescope(self, details_visibility: str = "visible") -> dict:
        """Gradescope's results.json: https://gradescope-autograders.readthedocs.io/en/latest/specs/

        ``details_visibility`` other than "visible" (e.g. "after_due_date"):
        each function's test shows its score, how many cases passed and its
        notes; the feedback per failed case, which names the hidden cases,
        moves to a zero-point test of its own shown with that visibility."""
        results: dict[str, Any] = {
            "score": round(self.score, 4),
            "max_score": round(self.max_score, 4),
            "execution_time": round(self.seconds, 3),
            "output": "\n".join([f"{self.assignment}: {self.score:g}/{self.max_score:g}",
                                 *(f"warning: {w}" for w in self.warnings), *self.notices,
                                 *([self.message] if self.message else [])]),
            "visibility": "visible",
            "extra_data": {"assignment": self.assignment, "percent": round(self.percent, 2), "bugs": self.bugs,
                           "status": self.status.value, "message": self.message,
                           "development_seed": self.development_seed, "confinement": self.confinement},
            "tests": [],
        }
        now = details_visibility == "visible"
        for f in self.functions:
            results["tests"].append(
                {
                    "name": f"{self.assignment}: {f.name}",
                    "score": round(f.score, 4),
                    "max_score": round(f.max_score, 4),
                    "output": f.output() if now else "\n".join([f.summary, *f.notes]),
                    "visibility": "visible",
                    "status": "passed" if f.score >= f.max_score else "failed",
                    "extra_data": {"bugs": f.bugs},
                }
            )
            if not now and not all(c.passed for c in f.cases):
                results["tests"].append({"name": f"{self.assignment}: {f.name}, feedback per case", "score": 0,
                                         "max_score": 0, "output": f.output(), "visibility": details_visibility})
        if self.leaderboard:
            results["leaderboard"] = self.leaderboard
        return results

    def to_text(self) -> str:
        width = max([len(f.name) for f in self.functions] + [8])
        lines = [f"{self.assignment} — {self.submission}",
                 *([f"confinement: {self.confinement}"] if self.confinement else []),
                 *[f"WARNING: {w}" for w in self.warnings], *[f"note: {n}" for n in self.notices]]
        if self.status is not Status.GRADED:
            lines.append(f"{self.status}: {self.message}")
        lines.append("")
        for f in self.functions:
            mark = "ok  " if f.score >= f.max_score else "FAIL"
            lines.append(f"  {mark} {f.name:<{width}} {f.score:6.2f} / {f.max_score:g}")
        lines.append(f"  {'':4} {'total':<{width}} {self.score:6.2f} / {self.max_score:g}  ({self.percent:.1f}%)")
        details = [(f.name, f.output()) for f in self.functions if f.score < f.max_score or f.notes]
        if details:
            lines.append("")
            for name, text in details:
                lines.append(f"{name}: {text}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The native result (``RESULT_FORMAT``; ``grader/schemas/result.schema.json``):
        everything but the figure data (``CaseResult.details``), which only
        the HTML page drawn from the result in memory uses. ``score``,
        ``max_score`` and ``percent`` are there for other readers (jq, a
        spreadsheet): ``from_dict`` computes them again from the cases."""
        return {
            "format": RESULT_FORMAT, "assignment": self.assignment, "submission": self.submission,
            "status": self.status.value, "message": self.message,
            "score": self.score, "max_score": self.max_score, "percent": self.percent,
            "seconds": self.seconds, "development_seed": self.development_seed, "confinement": self.confinement,
            "notices": self.notices, "leaderboard": self.leaderboard,
            "functions": [{"name": f.name, "score": f.score, "max_score": f.max_score, "notes": f.notes,
                           "cases": [{"name": c.name, "score": c.score, "max_score": c.max_score,
                                      "messages": c.messages, "hints": c.hints, "bugs": c.bugs, "speed": c.speed,
                                      "skipped": c.skipped, "blocked_by": c.blocked_by} for c in f.cases]}
                          for f in self.functions],
        }

    @classmethod
    def from_dict(cls, data: Any) -> "GradeResult":
        """The result ``to_dict`` made; ``ResultFormatError`` for anything else
        (another format or version of it, a field missing or of the wrong type)."""
        found = data.get("format") if isinstance(data, dict) else None
        if found != RESULT_FORMAT:
            raise ResultFormatError(f"not a {RESULT_FORMAT} result (format: {found!r})")
        try:
            functions = [FunctionResult(f["name"], [
                CaseResult(c["name"], float(c["score"]), float(c["max_score"]), list(c["messages"]), list(c["hints"]),
                           list(c["bugs"]), bool(c["speed"]), skipped=c["skipped"], blocked_by=c.get("blocked_by"))
                for c in f["cases"]],
                list(f["notes"])) for f in data["functions"]]
            return cls(data["assignment"], data["submission"], functions, list(data["notices"]),
                       float(data["seconds"]), Status(data["status"]), data["message"], list(data["leaderboard"]),
                       bool(data["development_seed"]), data["confinement"])
        except (KeyError, TypeError, ValueError) as e:
            raise ResultFormatError(f"a {RESULT_FORMAT} result with a field missing or wrong ({type(e).__name__}: "
                                    f"{e})") from None


def read_result(path: Path) -> GradeResult:
    """A native result file; OSError, or ResultFormatError (JSON errors
    included) for a file that is not one."""
    try:
        data = json.loads(path.read_bytes())
    except ValueError as e:  # not JSON, or not UTF-8
        raise ResultFormatError(f"not JSON ({e})") from None
    return GradeResult.from_dict(data)


def student_folder(out: Path, student: str) -> Path:
    """Where ``dlgrade grade-batch`` writes a student's files."""
    return out / "students" / student


RESULT_FILE = "result.json"  # a student's native result in a grade-batch output folder


def result_path(out: Path, student: str) -> Path:
    """A student's native result in a ``grade-batch`` output folder: written
    last, it marks the student finished (read by the gradebook, reruns and
    ``dlgrade report``)."""
    return student_folder(out, student) / RESULT_FILE


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (a gradebook cell), cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


REPORT_MODE = 0o644  # reports and results: the course's TAs read them too (a file holding a seed is 0o600)


def write_text_atomically(path: Path, text: str, mode: int = REPORT_MODE) -> None:
    """Write to a temporary file beside ``path``, then rename: a reader (or a
    crash, or kill -9) never leaves half a file. ``mode`` is set on the
    temporary file before anything is written into it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class OutputError(ValueError):
    """Where a command was told to write cannot take it; the message says why."""


def check_output_folder(folder: Path, option: str) -> None:
    """Make ``folder`` (given by ``option``) if it is missing, and prove that a
    file can be written in it, before any grading: OutputError otherwise (a
    file there, a read-only mount, no permission, a full disk)."""
    if problem := _folder_problem(folder):
        raise OutputError(f"{option}: {problem}")


def check_output_file(path: Path, option: str) -> None:
    """As ``check_output_folder`` for the folder of a file to write; and the
    file itself must not be a folder."""
    if problem := f"{path} is a folder, not a file" if path.is_dir() else _folder_problem(path.parent):
        raise OutputError(f"{option} {path}: {problem}")


def _folder_problem(folder: Path) -> str | None:
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".dlgrade-probe-"):
            pass
    except OSError as e:
        return f"cannot write in {folder} ({e.strerror or e})"
    return None
