"""The student folders, written from the solutions (``dlgrade generate``,
``grader/commands/generate.py``).

``solutions/<NN>_<name>/`` is the single source of truth. Each block between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes a TODO that raises
``NotImplementedError``; public tests are copied, and the student helper
(``grader/student/dlgrade_student.py``, verbatim) beside them; a README lists
the graded functions and their points, what to install and how to check.
``--check`` writes nothing and fails on drift.

An assignment folder is all a student needs: nothing in it imports ``grader``.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Iterable

from grader.course import Course
from grader.markers import MarkerError, stub_source
from grader.render.templates import template_environment
from grader.spec import Suite
from grader.student import SOURCE as HELPER_SOURCE

# The README's table of assignments is generated between these lines.
TABLE_BEGIN, TABLE_END = "<!-- BEGIN ASSIGNMENT TABLE (dlgrade generate) -->", "<!-- END ASSIGNMENT TABLE -->"


def render(course: Course, suites: list[Suite]) -> dict[Path, str]:
    """Every generated file, by path, with its content."""
    from grader.notebooks import notebook_path, render_notebook

    env = template_environment(course.root / "templates")  # the course's own, which generate rewrites from
    helper = HELPER_SOURCE.read_text()
    files = {}
    for suite in suites:
        solution_dir = course.solution_dir(suite)
        target = course.assignment_dir(suite)
        module_path = solution_dir / f"{suite.module}.py"
        source = module_path.read_text()
        name = f"{suite.folder}/{module_path.name}"
        body = stub_source(source, name)
        stub = env.get_template("student_module.py.j2").render(suite=suite, origin=name, body=body)
        files[target / module_path.name] = stub
        notebook = render_notebook(env, course, suite, body)
        files[notebook_path(course, suite)] = notebook
        tests = {target / test.name: test.read_text() for test in sorted(solution_dir.glob("test_*.py"))}
        files.update(tests)
        files[target / HELPER_SOURCE.name] = helper
        support = {target / name: (solution_dir / name).read_text() for name in suite.support}
        files.update(support)
        local = {path.stem for path in [*tests, *support, module_path, HELPER_SOURCE]}
        # pytest runs the checks; a Jupyter kernel runs the notebook (its pictures import what they draw with).
        install = packages_imported(["import pytest", stub, helper, *tests.values(), *support.values()], local)
        notebook_install = [p for p in packages_imported(["import ipykernel", *narrative_code(notebook)], local)
                            if p not in install]
        intro = ast.get_docstring(ast.parse(source)) or ""
        files[target / "README.md"] = env.get_template("assignment_README.md.j2").render(
            suite=suite, intro=intro, install=install, notebook_install=notebook_install)
    readme = course.root / "README.md"
    table = env.get_template("course_table.md.j2").render(suites=suites)
    files[readme] = _replace_between(readme.read_text(), TABLE_BEGIN, TABLE_END, table, readme)
    return files


def packages_imported(sources: Iterable[str], local: set[str]) -> list[str]:
    """The packages that ``sources`` import, anywhere in them, leaving out the
    standard library and the assignment's own modules (``local``), sorted. A
    package is named by its import name, which is its pip name for everything
    the assignments use (numpy, pytest, torch, matplotlib, ipykernel)."""
    found = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.partition(".")[0])
    return sorted(found - set(sys.stdlib_module_names) - local)


def narrative_code(notebook: str) -> list[str]:
    """The sources of a rendered notebook's narrative code cells (pictures,
    experiments): plain Python, unlike its setup and check cells' magics."""
    return ["".join(cell["source"]) for cell in json.loads(notebook)["cells"]
            if "narrative" in cell.get("metadata", {}).get("tags", [])]


def _replace_between(text: str, begin: str, end: str, content: str, path: Path) -> str:
    try:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
    except ValueError:
        raise MarkerError(f"{path} needs the lines {begin} and {end} around the assignment table") from None
    return f"{head}{begin}\n{content}{end}{tail}"

