"""A GitHub Actions workflow (GitHub Classroom, or any repository) that grades
the student's module on every push: ``github-classroom.yml.j2`` (shipped with the package)."""

from __future__ import annotations

import sys
from pathlib import Path

from grader.render.templates import template_environment
from grader.results import write_text_atomically
from grader.spec import Suite


def render_workflow(suite: Suite, fail_under: float, dlgrade_url: str) -> tuple[str, str]:
    """(file name, workflow text)."""
    from grader.export.common import pinned_requirements

    pins = pinned_requirements(suite.limits.packages)
    torch = next(p for p in pins if p.startswith("torch=="))
    filename = f"dlgrade-{suite.assignment}.yml"
    text = template_environment().get_template("github-classroom.yml.j2").render(
        suite=suite, filename=filename, fail_under=f"{fail_under:g}", dlgrade_url=dlgrade_url, torch=torch,
        pins=[p for p in pins if p != torch], python_version=f"{sys.version_info.major}.{sys.version_info.minor}")
    return filename, text


def write_workflow(suite: Suite, out: Path, fail_under: float, dlgrade_url: str) -> Path:
    """Write ``out/.github/workflows/dlgrade-<assignment>.yml``: ``out`` is the
    root of the students' template repository."""
    filename, text = render_workflow(suite, fail_under, dlgrade_url)
    path = out / ".github" / "workflows" / filename
    write_text_atomically(path, text)
    return path
