"""An otter-grader master notebook (otter-grader 5+, notebook format v1) whose
tests grade through dlgrade, and the functions those tests call.

Format: otter-grader.readthedocs.io/en/latest/otter_assign/v1/notebook_format.html.
Each graded function (and a suite's training task) is one question worth its
points. Its solution block holds the student functions it is the first to call
(dlgrade's solution markers become otter's, the hint a TODO line). Its tests, in
otter's exception-based format, are

* one public test (0 points): dlgrade's cases for the function on inputs from
  the development seed, which students run with ``grader.check`` and whose
  failure message is dlgrade's feedback;
* one hidden test per case of the hidden suite, worth that case's points, on
  inputs from a seed of the export's own: a fresh random one, written into
  these tests only (``otter assign`` keeps them out of the student's notebook).

Never the course's secret: otter runs the tests in the student's own kernel,
after the student's cells, so the student's code can read whatever the tests
hold or compute (their seed, the autograder's files, the references) and can
replace the functions they call, scoring every case. Only a seed that grades
nothing else is safe to hand to that kernel; precomputed expected values would
be answers, and a grader process outside the kernel would need a secret that
the kernel, running as the same user, could read too. Grades for the record
come from ``grade-batch`` or the Gradescope export, with the course's secret.

A test grades what the notebook ran: the cells of IPython's input history
(``In``), read the way dlgrade reads a notebook submission (imports and
top-level definitions only), in dlgrade's sandbox. A case counts in otter only
when dlgrade gives it full points (a test case passes or fails as a whole), so
a check that cannot run where otter runs (GPU-only ones without a GPU) fails.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from grader.course import DEVELOPMENT_SEED, Course, Secret
from grader.render.text import feedback
from grader.results import FunctionResult, write_text_atomically
from grader.spec import Suite
from grader.training import training_cases


def write_master_notebook(suite: Suite, course: Course, out: Path, dlgrade_url: str) -> Path:
    """Write ``out/<assignment>.ipynb`` and the ``requirements.txt`` it names
    (for the Gradescope zip that ``otter assign`` generates). The hidden tests
    get a fresh random seed, never the course's secret (see the module's
    docstring)."""
    import nbformat

    from grader.export.common import fresh_secret, pinned_requirements

    notebook = nbformat.v4.new_notebook(cells=master_cells(suite, course, fresh_secret()))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    out.mkdir(parents=True, exist_ok=True)
    requirements = [*pinned_requirements(suite.limits.packages), dlgrade_url]
    write_text_atomically(out / "requirements.txt", "\n".join(requirements) + "\n")
    target = out / f"{suite.assignment}.ipynb"
    write_text_atomically(target, nbformat.writes(notebook), mode=0o600)  # its hidden tests hold the export's seed
    return target


def question_name(name: str) -> str:
    """Otter names a question's test file after it: ``sgd_step on a quadratic`` -> ``sgd_step_on_a_quadratic``."""
    return re.sub(r"\W+", "_", name).strip("_")


def graded_items(suite: Suite, secret: Secret) -> list[tuple[str, tuple[str, ...], list[tuple[str, float]]]]:
    """What a question is made of, for every graded function and then the
    training task: (name, the student functions it calls, [(case, points)] in
    the order dlgrade reports its cases)."""
    items = []
    for fn in suite.functions:
        cases = [(c.name, c.points) for c in fn.cases(secret.rng(suite.assignment, fn.name))]
        items.append((fn.name, fn.program.functions, cases + ([("speed", fn.speed.points)] if fn.speed else [])))
    task = suite.training
    if task:
        items.append((task.name, task.functions, training_cases(task)))
    return items


def master_cells(suite: Suite, course: Course, secret: Secret) -> list:
    import nbformat.v4 as v4
    import yaml

    solution = course.solution_file(suite)
    assert solution is not None  # export checked that this machine has it
    source = solution.read_text()
    intro, prelude, definitions = _split_solution(source, suite)
    config = {"name": suite.assignment, "requirements": "requirements.txt", "export_cell": False,
              "strip_solutions_from_all_cells": True, "generate": True, "tests": {"files": False, "ok_format": False}}
    cells = [v4.new_raw_cell("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)),
             v4.new_markdown_cell(f"# {suite.title}\n\n{intro}\n\nEach question is graded by dlgrade: "
                                  f"`grader.check(...)` runs its public test (dlgrade's cases on public inputs); "
                                  f"the hidden tests run the same cases on other inputs.")]
    if prelude:
        cells.append(v4.new_code_cell(prelude))
    written: set[str] = set()
    for name, functions, cases in graded_items(suite, secret):
        new = [f for f in functions if f not in written and f in definitions]
        written.update(new)
        points = [0, *(p for _, p in cases)]
        cells.append(v4.new_raw_cell("# BEGIN QUESTION\n" + yaml.safe_dump(
            {"name": question_name(name), "points": points}, sort_keys=False)))
        called = ", ".join(f"`{f}`" for f in functions)
        cells.append(v4.new_markdown_cell(f"**{name}** ({sum(points):g} points): "
                                          + (f"write {called} below." if new else f"graded on {called} again.")))
        if new:
            cells += [v4.new_raw_cell("# BEGIN SOLUTION"),
                      v4.new_code_cell("\n\n\n".join(definitions[f] for f in new)),
                      v4.new_raw_cell("# END SOLUTION")]
        cells.append(v4.new_raw_cell("# BEGIN TESTS"))
        cells.append(v4.new_code_cell(_test_source("test_public", "check_function", suite.assignment, name)))
        for index, (label, _) in enumerate(cases):
            cells.append(v4.new_code_cell(f"# HIDDEN: {label}\n" + _test_source(
                f"test_case_{index}", "check_case", suite.assignment, name, index, secret.value)))
        cells += [v4.new_raw_cell("# END TESTS"), v4.new_raw_cell("# END QUESTION")]
    return cells


def _test_source(name: str, check: str, *args: Any) -> str:
    arguments = ", ".join(json.dumps(a) for a in args)
    return f"def {name}(env):\n    from grader.export.otter import {check}\n    {check}(env, {arguments})\n"


def _split_solution(source: str, suite: Suite) -> tuple[str, str, dict[str, str]]:
    """(module docstring, the other top-level code, {student function: its source
    with otter's solution markers})."""
    from grader.submissions import _first_line

    tree = ast.parse(source)
    lines = source.splitlines()
    intro = ast.get_docstring(tree) or ""
    prelude, definitions = [], {}
    for node in tree.body[1 if intro else 0:]:
        end = node.end_lineno or node.lineno  # ast.parse sets end_lineno
        # A function's last lines may be indented comments (# END SOLUTION), which its node does not span.
        while end < len(lines) and (not lines[end].strip() or lines[end][:1].isspace()):
            end += 1
        text = _otter_markers("\n".join(lines[_first_line(node) - 1:end]).rstrip())
        if isinstance(node, ast.FunctionDef) and node.name in suite.student_functions:
            definitions[node.name] = text
        elif not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            # A __future__ import must open the module that dlgrade builds from
            # the notebook's cells, which otter's first cell precedes.
            prelude.append(text)
    return intro, "\n\n".join(prelude), definitions


def _otter_markers(code: str) -> str:
    """dlgrade's ``# BEGIN SOLUTION: hint`` becomes ``# TODO: hint`` above otter's
    ``# BEGIN SOLUTION``, which otter replaces with ``...`` for students."""
    from grader.markers import BEGIN

    out = []
    for line in code.splitlines():
        match = BEGIN.match(line)
        if match and match["todo"]:
            out.append(f"{match['indent']}# TODO: {match['todo']}")
        out.append(f"{match['indent']}# BEGIN SOLUTION" if match else line)
    return "\n".join(out)


# --------------------------------------------------------------------------- called by the notebook's tests


def check_function(env: dict, assignment: str, item: str) -> None:
    """The public test: every case of ``item`` (a graded function, or the
    training task) passes on the development seed."""
    result = _graded(assignment, item, _cells(env), DEVELOPMENT_SEED)
    assert result.score >= result.max_score, feedback(result)  # a check skipped here (GPU-only) is out of both


def check_case(env: dict, assignment: str, item: str, index: int, seed: str) -> None:
    """A hidden test: case ``index`` of ``item`` (after a function's cases, its
    speed point) gets full points on the export's seed."""
    case = _graded(assignment, item, _cells(env), seed).cases[index]
    feedback = [*case.messages, *(f"hint: {h}" for h in case.hints)]
    assert case.passed, f"{item}, case '{case.name}' ({case.score:g}/{case.max_score:g}): " + "\n".join(feedback)


def _cells(env: dict) -> tuple[str, ...]:
    if "In" not in env:
        raise RuntimeError("dlgrade's otter tests grade the cells this notebook ran (IPython's In): run them in a "
                           "Jupyter kernel, as otter does")
    return tuple(_without_otter(cell) for cell in env["In"])


def _without_otter(cell: str) -> str:
    """The cell without its top-level imports of otter (otter's own cells and the
    student's ``import otter``): the sandbox's child, which offers numpy and the
    standard library, must not import it."""
    try:
        tree = ast.parse(cell)
    except SyntaxError:
        return cell  # dlgrade reports the cell as skipped
    lines = cell.splitlines()
    for node in tree.body:
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name.split(".")[0] == "otter" for name in names):
            end = node.end_lineno or node.lineno  # ast.parse sets end_lineno
            lines[node.lineno - 1:end] = [""] * (end - node.lineno + 1)
    return "\n".join(lines)


@functools.lru_cache(maxsize=64)
def _graded(assignment: str, item: str, cells: tuple[str, ...], seed: str) -> FunctionResult:
    """One grading per item, notebook state and seed, shared by the item's
    test cases: the suite cut down to that graded function, or to the training
    task."""
    from grader.engine import grade_submission
    from grader.suites import get_suite

    suite = get_suite(assignment)
    if suite.training and item == suite.training.name:
        alone = dataclasses.replace(suite, functions=())
    else:
        alone = dataclasses.replace(suite, functions=(suite.function(item),), training=None)
    with tempfile.TemporaryDirectory(prefix="dlgrade-otter-") as folder:
        notebook = Path(folder) / f"{suite.module}.ipynb"
        notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": cell} for cell in cells]}))
        # The student's cells already ran unconfined in this very kernel: the sandbox cannot take more from them.
        result = grade_submission(alone, notebook, Secret(seed), allow_unconfined=True)
    if not result.functions:  # the training task's data could not be had
        raise AssertionError(f"{item} was not graded: {result.message}")
    return result.functions[0]
