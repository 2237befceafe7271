"""Catalogued bugs made runnable: the solution module with a bug's edits applied.

The grader runs a mutant on a case the student failed; when the student's
output matches the mutant's, the bug's hint is shown. Solutions are trusted
code, so mutants run in the grader's own process.
"""

from __future__ import annotations

import ast
import copy
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.child.program import StudentError, run_program
from grader.spec import Bug


class CatalogError(ValueError):
    """A bug's edits do not apply to the solution (the catalogue drifted)."""


def mutated_source(source: str, bug: Bug, filename: str) -> str:
    for old, new in bug.edits:
        count = source.count(old)
        if count != 1:
            raise CatalogError(f"bug {bug.name!r}: {old!r} occurs {count} times in {filename}; it must occur once")
        source = source.replace(old, new)
    return source


def affected_functions(source: str, bug: Bug) -> set[str]:
    """The top-level functions of the solution whose behaviour the bug changes:
    those its edits touch, and every function that calls one of them."""
    tree = ast.parse(source)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    affected = set()
    for old, _ in bug.edits:
        line = source.count("\n", 0, source.index(old)) + 1
        affected |= {f.name for f in functions if f.lineno <= line <= f.end_lineno}
    names_used = {f.name: {n.id for n in ast.walk(f) if isinstance(n, ast.Name)} for f in functions}
    while callers := {name for name, used in names_used.items() if used & affected} - affected:
        affected |= callers
    return affected


@lru_cache(maxsize=None)
def load_mutant(solution_file: Path, bug: Bug) -> ModuleType:
    source = mutated_source(solution_file.read_text(), bug, solution_file.name)
    module = ModuleType(f"mutant_{bug.name.replace('-', '_')}")
    module.__file__ = str(solution_file)
    exec(compile(source, str(solution_file), "exec"), module.__dict__)
    return module


def mutant_outputs(solution_file: Path, bug: Bug, program: dict, inputs: dict) -> dict[str, np.ndarray] | None:
    """The bug's outputs on a case, or None where the buggy code cannot run it."""
    with np.errstate(all="ignore"):
        try:
            return run_program(load_mutant(solution_file, bug), program, copy.deepcopy(dict(inputs)))
        except StudentError:
            return None
