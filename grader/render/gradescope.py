"""Gradescope's results.json: https://gradescope-autograders.readthedocs.io/en/latest/specs/"""

from __future__ import annotations

from typing import Any

from grader.render.text import feedback, summary, warnings
from grader.results import GradeResult


def to_gradescope(result: GradeResult, details_visibility: str = "visible") -> dict:
    """One test per graded function. ``details_visibility`` other than
    "visible" (e.g. "after_due_date"): each function's test shows its score,
    how many cases passed and its notes; the feedback per failed case, which
    names the hidden cases, moves to a zero-point test of its own shown with
    that visibility."""
    results: dict[str, Any] = {
        "score": round(result.score, 4),
        "max_score": round(result.max_score, 4),
        "execution_time": round(result.seconds, 3),
        "output": "\n".join([f"{result.assignment}: {result.score:g}/{result.max_score:g}",
                             *(f"warning: {w}" for w in warnings(result)), *result.notices,
                             *([result.message] if result.message else [])]),
        "visibility": "visible",
        "extra_data": {"assignment": result.assignment, "percent": round(result.percent, 2), "bugs": result.bugs,
                       "status": result.status.value, "message": result.message,
                       "development_seed": result.development_seed, "confinement": result.confinement},
        "tests": [],
    }
    now = details_visibility == "visible"
    for f in result.functions:
        results["tests"].append(
            {
                "name": f"{result.assignment}: {f.name}",
                "score": round(f.score, 4),
                "max_score": round(f.max_score, 4),
                "output": feedback(f) if now else "\n".join([summary(f), *f.notes]),
                "visibility": "visible",
                "status": "passed" if f.score >= f.max_score else "failed",
                "extra_data": {"bugs": f.bugs},
            }
        )
        if not now and not all(c.passed for c in f.cases):
            results["tests"].append({"name": f"{result.assignment}: {f.name}, feedback per case", "score": 0,
                                     "max_score": 0, "output": feedback(f), "visibility": details_visibility})
    if result.leaderboard:
        results["leaderboard"] = result.leaderboard
    return results
