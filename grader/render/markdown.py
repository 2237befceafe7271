"""Markdown, for a CI job summary (``>> $GITHUB_STEP_SUMMARY``) or a pull
request comment; and the table and code helpers that the class report's
markdown uses too."""

from __future__ import annotations

import re
from typing import Any

from grader.render.text import failure_groups, points, summary, warnings
from grader.results import GradeResult, Status

PASSED, FAILED = "✅", "❌"


def markdown_table(header: list[str], rows: list[list[Any]], align: str = "") -> str:
    """A GitHub markdown table; ``align`` has one of l/c/r per column (default l)."""
    marks = {"l": "---", "c": ":-:", "r": "--:"}
    line = lambda cells: "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"  # noqa: E731
    return "\n".join([line(header), line(marks[a] for a in align.ljust(len(header), "l")), *map(line, rows)])


def code_block(text: str) -> str:
    """``text`` verbatim in a fence longer than any backtick run inside it (a
    student's exception message can hold anything)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}" if longest else f"`{text}`"


def to_markdown(result: GradeResult) -> str:
    """For a job summary (``>> $GITHUB_STEP_SUMMARY``) or a pull request comment."""
    mark = PASSED if result.status is Status.GRADED and result.score >= result.max_score else FAILED
    lines = [f"## {mark} {result.assignment}: {points(result)} ({result.percent:.1f}%)", "",
             f"Submission {code_span(result.submission)}"]
    if warnings(result) or result.notices:
        # two spaces: a line break between notes
        lines += ["", *(f"> **warning**: {w}  " for w in warnings(result)), *(f"> note: {n}  " for n in result.notices)]
    if result.status is not Status.GRADED:
        lines += ["", f"**{result.status}**:", code_block(result.message)]
    rows = [[PASSED if f.score >= f.max_score else FAILED, f"`{f.name}`", points(f)] for f in result.functions]
    rows.append(["", "**total**", f"**{points(result)}**"])
    lines += ["", markdown_table(["", "function", "points"], rows, "clr")]
    for f in result.functions:
        if f.score >= f.max_score and not f.notes:
            continue
        lines += ["", f"### {PASSED if f.score >= f.max_score else FAILED} `{f.name}`: {summary(f)}", ""]
        for which, lost, messages, _ in failure_groups(f):
            fenced = code_block("\n".join(messages)).splitlines()
            lines += [f"- {which}{f' (-{lost:g})' if lost else ''}:", "", *(f"  {line}" for line in fenced), ""]
        lines += [f"- 💡 {h}" for h in f.hints]
        lines += [f"- {n}" for n in f.notes]
    return "\n".join(lines) + "\n"
