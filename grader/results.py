"""The results model: what grading a submission found (``GradeResult``, its
functions and cases), the native result file (``result.json``, format
``dlgrade-result/1``: the one that ``grade-batch``, ``dlgrade report`` and the
gradebook are made from), the gradebook's columns, and writing any of them
atomically. Renderings (text, Gradescope's results.json, markdown, JUnit, HTML)
are ``grader.render``'s."""

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


class SkippedPolicy(str, enum.Enum):
    """How checks that cannot run here count (``CaseResult.skipped``): left out of the total, or as lost."""

    EXCLUDE = "exclude"
    ZERO = "zero"

    def __str__(self) -> str:  # as argparse shows a choice
        return self.value

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
    # text): the keys that ``grader.render.figures.FIGURES`` knows how to draw, e.g.
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


class _Totals:
    """Points, recognised bugs and their hints gathered over the parts: a function's cases, a grade's functions."""

    @property
    def _parts(self) -> list:
        raise NotImplementedError

    @property
    def score(self) -> float:
        return sum(part.score for part in self._parts)

    @property
    def max_score(self) -> float:
        return sum(part.max_score for part in self._parts)

    @property
    def bugs(self) -> list[str]:
        """Each catalogued bug recognised in any part, once."""
        return list(dict.fromkeys(b for part in self._parts for b in part.bugs))

    @property
    def hints(self) -> list[str]:
        """Each recognised bug's hint, once."""
        return list(dict.fromkeys(h for part in self._parts for h in part.hints))


@dataclass
class FunctionResult(_Totals):
    name: str
    cases: list[CaseResult]
    notes: list[str] = field(default_factory=list)  # shown whatever the score, e.g. the measured speed

    @property
    def _parts(self) -> list:
        return self.cases


@dataclass
class GradeResult(_Totals):
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
    def _parts(self) -> list:
        return self.functions

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

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
