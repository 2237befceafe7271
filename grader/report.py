"""Grading results, and their renderings: Gradescope's results.json and text
(markdown, JUnit XML and HTML are in ``grader.formats``)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# How checks that cannot run here count (``CaseResult.skipped``): left out of the total, or as lost.
SKIPPED_POLICIES = ("exclude", "zero")

DEVELOPMENT_SEED_WARNING = ("graded with the public development seed, not a secret one: this is no grade "
                            "(give the secret with DLGRADE_SEED_FILE, DLGRADE_SEED or --seed)")

# gradebook.csv (``dlgrade grade-batch``, read by ``dlgrade report``): these columns, with one column of points
# per graded function between them.
GRADEBOOK_BEFORE = ("student", "status")
GRADEBOOK_AFTER = ("total", "max", "percent", "development_seed", "confinement", "message")


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
    status: str = "graded"  # or "invalid" (the submission is unusable), "error" (the grader failed)
    message: str = ""  # why, when the status is not "graded"
    leaderboard: list[dict] = field(default_factory=list)  # Gradescope's leaderboard: {"name", "value", "order"}
    # Hidden inputs from the public development seed (``--development``): anyone can compute them, so the result
    # is no grade; every rendering and the gradebook say so.
    development_seed: bool = False
    # How far the sandbox could confine the student's code here: "namespaces", "uid-only" or "unconfined"
    # (``grader.sandbox``); "" when not known (a result made without a sandbox).
    confinement: str = ""

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
        return list(dict.fromkeys(b for f in self.functions for c in f.cases for b in c.bugs))

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
        results = {
            "score": round(self.score, 4),
            "max_score": round(self.max_score, 4),
            "execution_time": round(self.seconds, 3),
            "output": "\n".join([f"{self.assignment}: {self.score:g}/{self.max_score:g}",
                                 *(f"warning: {w}" for w in self.warnings), *self.notices,
                                 *([self.message] if self.message else [])]),
            "visibility": "visible",
            "extra_data": {"assignment": self.assignment, "percent": round(self.percent, 2), "bugs": self.bugs,
                           "status": self.status, "message": self.message,
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
                    # read by `dlgrade report` for the class's most frequent bugs
                    "extra_data": {"bugs": list(dict.fromkeys(b for c in f.cases for b in c.bugs))},
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
        if self.status != "graded":
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


def result_path(out: Path, student: str) -> Path:
    """Where ``dlgrade grade-batch`` writes a student's results.json (read by ``dlgrade report``)."""
    return out / "students" / student / "results.json"


def write_text_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename: a reader (or a
    crash, or kill -9) never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
