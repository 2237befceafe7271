"""Renderings of a ``GradeResult`` (``grader.results``): text, Gradescope's
results.json, the native result file, markdown, JUnit XML and HTML with
figures, one module each, by the names that ``dlgrade grade --format`` takes.

None of them shows an expected value: a ``GradeResult`` holds none."""

from __future__ import annotations

import importlib.util
import json
from typing import Callable

from grader.render.gradescope import to_gradescope
from grader.render.html import to_html
from grader.render.junit import to_junit
from grader.render.markdown import to_markdown
from grader.render.text import to_text
from grader.results import GradeResult

RENDERERS: dict[str, Callable[[GradeResult], str]] = {
    "text": to_text,
    "json": lambda r: json.dumps(to_gradescope(r), indent=2),
    "result": lambda r: json.dumps(r.to_dict(), indent=2),  # the native file (dlgrade-result/1)
    "markdown": to_markdown,
    "junit": to_junit,
    "html": to_html,
}
FORMATS = tuple(RENDERERS)


def render(result: GradeResult, fmt: str) -> str:
    return RENDERERS[fmt](result)


def unavailable(fmt: str) -> str | None:
    """Why ``fmt`` cannot be rendered here (a package is missing), else None."""
    if fmt == "html" and importlib.util.find_spec("jinja2") is None:  # found, not imported: it is not needed yet
        return "the HTML report needs jinja2: pip install 'dlgrade[feedback]'"
    return None
