"""Catalogued bugs made real: the solution module with a bug's edits applied.

The edits are solution text, so they live beside the solution, in
``solutions/<NN>/mutations.py`` (``MUTATIONS = {bug name: ((old, new), ...)}``),
never in the grader package: the suites describe each bug with torch
operations instead. Tests inject each bug into the solution and check that the
suite's description recognises it.
"""

from __future__ import annotations

import ast
import importlib.util

from grader.course import Course
from grader.spec import Suite

Edits = tuple[tuple[str, str], ...]


class CatalogError(ValueError):
    """A bug's edits do not apply to the solution (the catalogue drifted)."""


def mutations(course: Course, suite: Suite) -> dict[str, Edits]:
    """The edits of every catalogued bug of ``suite``, by bug name."""
    path = course.solution_dir(suite) / "mutations.py"
    spec = importlib.util.spec_from_file_location(f"mutations_{suite.assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.MUTATIONS)


def mutated_source(source: str, name: str, edits: Edits, filename: str) -> str:
    for old, new in edits:
        count = source.count(old)
        if count != 1:
            raise CatalogError(f"bug {name!r}: {old!r} occurs {count} times in {filename}; it must occur once")
        source = source.replace(old, new)
    return source


def affected_functions(source: str, edits: Edits) -> set[str]:
    """The top-level functions of the solution whose behaviour the bug changes:
    those its edits touch, and every function that calls one of them."""
    tree = ast.parse(source)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    affected = set()
    for old, _ in edits:
        line = source.count("\n", 0, source.index(old)) + 1
        affected |= {f.name for f in functions if f.lineno <= line <= f.end_lineno}
    names_used = {f.name: {n.id for n in ast.walk(f) if isinstance(n, ast.Name)} for f in functions}
    while callers := {name for name, used in names_used.items() if used & affected} - affected:
        affected |= callers
    return affected
