"""A class report (``grader.class_report.ClassReport``) as text, JSON or
markdown, for ``dlgrade report``."""

from __future__ import annotations

import json
from dataclasses import asdict

from grader.class_report import ClassReport
from grader.render.markdown import markdown_table


def _status_line(report: ClassReport) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items()))
    mean = f"; mean score of the graded: {sum(report.percents) / len(report.percents):.1f}%" if report.percents else ""
    return f"{report.assignment}: {report.students} submissions ({counts or 'none'}){mean}"


def _rows(report: ClassReport) -> list[list[str]]:
    return [[s.name, f"{s.mean:.2f} / {s.max_points:g}", f"{s.failure_rate:.0%} ({s.failed}/{len(s.points)})",
             f"{s.top_bug[0]} ({s.top_bug[1]})" if s.top_bug else "-"] for s in report.functions]


HEADER = ["function", "mean points", "failure rate", "most frequent catalogued bug (submissions)"]


def to_text(report: ClassReport) -> str:
    rows = [HEADER, *_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = [_status_line(report), ""]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines + _warnings(report))


def to_markdown(report: ClassReport) -> str:
    return "\n".join([f"## {_status_line(report)}", "", markdown_table(HEADER, _rows(report), "lrrl"),
                      *_warnings(report)])


def to_json(report: ClassReport) -> str:
    return json.dumps({
        "assignment": report.assignment,
        "submissions": report.students,
        "statuses": dict(report.statuses),
        "mean_percent": round(sum(report.percents) / len(report.percents), 2) if report.percents else None,
        "functions": [{**{k: v for k, v in asdict(s).items() if k not in ("points", "bugs")},
                       "graded": len(s.points), "mean": round(s.mean, 4), "failure_rate": round(s.failure_rate, 4),
                       "bugs": dict(s.bugs.most_common())} for s in report.functions],
        "unreadable_results": report.unreadable,
        "development_seed": report.development,
    }, indent=2)


def _warnings(report: ClassReport) -> list[str]:
    lines = []
    if report.development:
        lines.append(f"graded with the public development seed, so no grades: {len(report.development)} of "
                     f"{report.students} (a grade-batch with the secret grades them again)")
    if report.unreadable:
        lines.append(f"left out, result file unreadable: {', '.join(report.unreadable)} (the same grade-batch "
                     f"command grades them again)")
    return ["", *lines] if lines else []
