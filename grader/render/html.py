"""A self-contained HTML page of a result, with figures (``report.html``
in a batch, ``dlgrade grade --html``)."""

from __future__ import annotations

import dataclasses

from grader.render.figures import Figure, figures_of
from grader.render.templates import template_environment
from grader.render.text import failure_groups, points, summary, warnings
from grader.results import GradeResult


def to_html(result: GradeResult) -> str:
    """A self-contained page (inline CSS, figures as PNG data URIs and inline
    SVG) from ``report.html.j2``."""
    functions = []
    for f in result.functions:
        figures = figures_of(f)

        def named(cases: list) -> list[Figure]:
            return [dataclasses.replace(figure, caption=f"case '{c.name}': {figure.caption}")
                    for c in cases for figure in figures.pop(id(c), [])]

        groups = [{"which": which, "lost": lost, "messages": messages,
                   "figures": named(cases) if len(cases) > 1 else figures.pop(id(cases[0]), [])}
                  for which, lost, messages, cases in failure_groups(f)]
        # What is left belongs to passed cases (a training curve, say): shown with the function.
        passed_figures = named(f.cases)
        functions.append({"name": f.name, "points": points(f), "passed": f.score >= f.max_score,
                          "summary": summary(f), "groups": groups, "figures": passed_figures,
                          "hints": f.hints, "notes": f.notes})
    return template_environment().get_template("report.html.j2").render(
        result=result, points=points(result), warnings=warnings(result), functions=functions)
