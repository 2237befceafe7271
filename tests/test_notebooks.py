"""The student notebooks: valid, deterministic, made of the stub's functions;
run top to bottom with the solutions their checks pass and their pictures
appear, with the stubs they report "not implemented yet" without an error;
and as submissions they grade like the modules they hold."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need nbformat (pip install -e .[dev])")
nbclient = pytest.importorskip("nbclient", reason="the notebook tests need nbclient (pip install -e .[dev])")
pytest.importorskip("ipykernel", reason="the notebook tests need ipykernel (pip install -e .[dev])")
pytest.importorskip("matplotlib", reason="the notebook pictures need matplotlib (pip install -e .[dev])")

from grader.commands import generate  # noqa: E402
from grader.course import Course, Secret  # noqa: E402
from grader.engine import grade_submission  # noqa: E402
from grader.markers import solution_blocks, stub_source  # noqa: E402
from grader.notebooks import NarrativeError, notebook_path, parse_narrative, render_notebook  # noqa: E402
from grader.render.templates import template_environment  # noqa: E402
from grader.student import SOURCE as HELPER_SOURCE  # noqa: E402
from grader.student.dlgrade_student import function_of, run_checks  # noqa: E402
from grader.suites import SUITES  # noqa: E402
from tests.test_generate import solution_only_lines  # noqa: E402

COURSE = Course.locate()
ENV = template_environment(COURSE.root / "templates")
KERNEL = "dlgrade-tests"
# The numpy assignments grade in seconds; 07_cnn's hidden suite trains on MNIST.
QUICK_TO_GRADE = [s for s in SUITES.values() if "torch" in s.limits.forbidden_modules]


def solution_source(suite) -> str:
    return COURSE.solution_file(suite).read_text()


def committed_notebook(suite):
    return nbformat.read(notebook_path(COURSE, suite), as_version=4)


def tagged(notebook, tag: str) -> list:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def defined_functions(source: str) -> list[str]:
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]


# --------------------------------------------------------------------------- the files


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_notebook_is_valid_nbformat_4_without_outputs(suite):
    notebook = committed_notebook(suite)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    ids = [cell.id for cell in notebook.cells]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_function_cells_are_the_stub_functions_each_followed_by_its_check(suite):
    stub = (COURSE.assignment_dir(suite) / f"{suite.module}.py").read_text()
    notebook = committed_notebook(suite)
    cells = {defined_functions(c.source)[0]: c for c in tagged(notebook, "function")}
    assert sorted(cells) == sorted(defined_functions(stub))
    for cell in cells.values():
        assert cell.source in stub
    assert tagged(notebook, "check")[-1].source == f"%check {suite.module}"
    tests = defined_functions((COURSE.solution_dir(suite) / "test_public.py").read_text())
    tested = {function_of(test, list(cells)) for test in tests if test.startswith("test_")}
    for name, cell in cells.items():
        following = notebook.cells[notebook.cells.index(cell) + 1]
        has_check = following.source == f"%check {suite.module}.{name}"
        assert has_check == (name in tested), f"{name}: a check cell under it only if a public test is about it"


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_no_solution_line_reaches_the_notebook(suite):
    secret = solution_only_lines(solution_source(suite))
    notebook = committed_notebook(suite)
    lines = {line.strip() for cell in notebook.cells for line in cell.source.splitlines()}
    assert not secret & lines


def test_rendering_is_deterministic_and_generate_check_reports_a_drifted_notebook(tmp_path, monkeypatch, capsys):
    suite = SUITES["neuron"]
    stub = stub_source(solution_source(suite), "neuron.py")
    assert render_notebook(ENV, COURSE, suite, stub) == render_notebook(ENV, COURSE, suite, stub)
    # A copy of the course in which the notebook was edited by hand.
    for part in ("solutions", "templates", "assignments"):
        shutil.copytree(COURSE.root / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(COURSE.root / "README.md", tmp_path / "README.md")
    copy = notebook_path(Course(tmp_path), suite)
    copy.write_text(copy.read_text().replace("%check neuron.relu_forward", "%check neuron.relu_backward"))
    monkeypatch.setenv("DLGRADE_COURSE", str(tmp_path))
    assert generate.run(argparse.Namespace(check=True)) != 0
    assert "out of date: assignments/01_neuron/neuron.ipynb" in capsys.readouterr().err


# --------------------------------------------------------------------------- the narrative


NARRATIVE = """\
Intro text.

## Activations

Shared words.

### `relu_forward`

ReLU is $\\max(0, x)$.

```python
print("picture")
```

After the picture.

### `relu_backward`

Its slope.

```python
print("picture")
```
Words after the picture.
## Next topic
"""


def test_narrative_sections_put_the_text_under_a_heading_before_the_code():
    intro, forward, backward = parse_narrative(NARRATIVE, ["relu_forward", "relu_backward"], "n.md")
    assert intro.function is None and intro.lead_text == "Intro text."
    assert intro.cells() == [("markdown", "## Activations\n\nShared words.")]
    assert forward.function == "relu_forward"
    assert forward.lead_text == "### `relu_forward`\n\nReLU is $\\max(0, x)$."
    assert forward.cells() == [("code", 'print("picture")'), ("markdown", "After the picture.")]
    assert backward.lead_text == "### `relu_backward`\n\nIts slope."
    assert backward.cells() == [("code", 'print("picture")'), ("markdown", "Words after the picture."),
                                ("markdown", "## Next topic")]


@pytest.mark.parametrize("text, message", [
    ("### `relu_forwad`\n", r"n.md:1: the heading `relu_forwad` names no function"),
    ("### `relu_forward`\n### `relu_forward`\n", r"n.md:2: a second section for `relu_forward`"),
    ("### `relu_forward`\n```python\nx = 1\n", r"n.md:2: the ```python block is never closed"),
])
def test_narrative_mistakes_name_file_and_line(text, message):
    with pytest.raises(NarrativeError, match=message):
        parse_narrative(text, ["relu_forward"], "n.md")


def test_a_function_without_narrative_is_introduced_by_its_docstring():
    source = 'import numpy as np\n\n\ndef double(x):\n    """Twice x.\n\n    Args:\n        x: an array.\n    """\n' \
             '    return 2 * x\n'
    without_narrative = dataclasses.replace(SUITES["neuron"], folder="99_no_such_assignment")
    notebook = nbformat.reads(render_notebook(ENV, COURSE, without_narrative, source), as_version=4)
    text = next(c for c in notebook.cells if c.id == "double-text").source
    assert text == "### `double`\n\nTwice x.\n\n**Arguments**\n\n- `x`: an array."
    assert next(c for c in notebook.cells if c.id == "setup").source.endswith("%load_ext dlgrade_student\n"
                                                                              "import numpy as np")


# --------------------------------------------------------------------------- %check


def public_checks_in(folder, suite) -> None:
    """The public tests, the helper and the course's modules they import, as in the assignment folder."""
    shutil.copy(COURSE.solution_dir(suite) / "test_public.py", folder)
    shutil.copy(HELPER_SOURCE, folder)
    for name in suite.support:
        shutil.copy(COURSE.solution_dir(suite) / name, folder)
    for data in COURSE.assignment_dir(suite).glob("*.safetensors"):  # shipped beside them (09_transfer's backbone)
        shutil.copy(data, folder)


def test_check_reports_each_state_of_a_function(tmp_path, monkeypatch):
    suite = SUITES["neuron"]
    public_checks_in(tmp_path, suite)
    monkeypatch.syspath_prepend(str(tmp_path))  # where a notebook's kernel finds the helper: its folder
    namespace = {"__name__": "__main__"}
    exec(compile(stub_source(solution_source(suite), "neuron.py"), "stub", "exec"), namespace)
    assert run_checks("neuron.relu_forward", namespace, tmp_path)[0].split() == ["FAIL", "relu_forward", "0/1", "not",
                                                                               "implemented", "yet"]
    exec(compile(solution_source(suite), "solution", "exec"), namespace)
    assert run_checks("neuron.relu_forward", namespace, tmp_path) == ["  ok   relu_forward  1/1",
                                                                      "1 of 1 public checks pass."]
    exec("def relu_forward(x):\n    return x, x\n", namespace)  # a wrong answer, redefined in a later cell
    assert run_checks("neuron.relu_forward", namespace, tmp_path)[0].startswith("  FAIL relu_forward  0/1  ")
    del namespace["relu_backward"]  # a cell not run yet
    assert run_checks("neuron.relu_backward", namespace, tmp_path) == [
        "relu_backward is not defined in this notebook yet: run the cell that defines it, then check again."]
    # The other functions are still checked: the tests' import of relu_backward gets a stand-in.
    *per_function, total = run_checks("neuron", namespace, tmp_path)
    failing = {line.split()[1] for line in per_function if line.split()[0] == "FAIL"}
    assert {"relu_forward", "relu_backward"} <= failing and "sigmoid_forward" not in failing
    assert re.fullmatch(r"\d+ of 23 public checks pass\.", total) and not total.startswith("23 ")
    assert "usage" in run_checks("neuron relu_forward", namespace, tmp_path)[0]
    assert "There is no test_public.py" in run_checks("neuron", namespace, tmp_path / "elsewhere")[0]


# --------------------------------------------------------------------------- executed


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel spec for this interpreter in a private JUPYTER_PATH: the notebooks
    run with this environment's Python whatever kernels the machine has."""
    folder = tmp_path_factory.mktemp("jupyter")
    (folder / "kernels" / KERNEL).mkdir(parents=True)
    (folder / "kernels" / KERNEL / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "dlgrade tests", "language": "python"}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder))
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        yield KERNEL


@pytest.fixture(scope="module")
def executed(kernel, tmp_path_factory):
    """``executed(suite, "solution" | "stub")``: the path and the notebook after
    one run from top to bottom, in a folder with the public tests (run once per
    notebook and module)."""
    runs = {}

    def run(suite, variant):
        if (suite.assignment, variant) not in runs:
            folder = tmp_path_factory.mktemp(f"{suite.assignment}-{variant}")
            public_checks_in(folder, suite)
            source = solution_source(suite)
            source = source if variant == "solution" else stub_source(source, suite.module)
            notebook = nbformat.reads(render_notebook(ENV, COURSE, suite, source), as_version=4)
            nbclient.NotebookClient(notebook, kernel_name=kernel, timeout=300, allow_errors=True,
                                    resources={"metadata": {"path": str(folder)}}).execute()
            path = folder / f"{suite.module}.ipynb"
            nbformat.write(notebook, path)
            runs[suite.assignment, variant] = path, notebook
        return runs[suite.assignment, variant]

    return run


def errors(notebook) -> list[str]:
    return [f"cell {cell.id}: {o.ename}: {o.evalue}" for cell in notebook.cells
            for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_solution_notebook_runs_its_checks_pass_and_its_pictures_appear(suite, executed):
    _, notebook = executed(suite, "solution")
    assert not errors(notebook)
    for cell in tagged(notebook, "check"):
        report = stdout(cell)
        passing = re.search(r"^(\d+) of (\d+) public checks pass\.$", report, re.M)
        assert passing and passing[1] == passing[2] and "FAIL" not in report, f"{cell.source}:\n{report}"
    for cell in tagged(notebook, "narrative"):
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no picture from cell {cell.id}"


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_stub_notebook_runs_and_its_checks_say_not_implemented(suite, executed):
    _, notebook = executed(suite, "stub")
    assert not errors(notebook)
    stubbed = {block.function for block in solution_blocks(solution_source(suite), "solution")}
    for cell in tagged(notebook, "check"):
        report = stdout(cell)
        assert re.search(r"^0 of \d+ public checks pass\.$", report, re.M), f"{cell.source}:\n{report}"
        function = cell.source.partition(".")[2]
        if function in stubbed:
            assert "not implemented yet" in report, f"{cell.source}:\n{report}"
    for cell in tagged(notebook, "narrative"):
        assert stdout(cell).startswith("No picture yet: "), f"cell {cell.id}: {stdout(cell)!r}"


@pytest.mark.parametrize("suite", QUICK_TO_GRADE, ids=[s.assignment for s in QUICK_TO_GRADE])
def test_run_notebooks_grade_like_their_modules(suite, executed):
    solution, _ = executed(suite, "solution")
    stub, _ = executed(suite, "stub")
    graded = grade_submission(suite, solution, Secret("notebooks"))
    assert graded.status == "graded" and graded.score == graded.max_score > 0
    graded = grade_submission(suite, stub, Secret("notebooks"))
    assert graded.status == "graded" and graded.score == 0


def test_dlgrade_grade_takes_a_notebook(executed, tmp_path):
    solution, _ = executed(SUITES["neuron"], "solution")
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(solution), "--json", str(results),
                           "--fail-under", "100"], capture_output=True, text=True,
                          env={**os.environ, "DLGRADE_SEED": "notebooks"})
    assert done.returncode == 0, done.stdout + done.stderr
    graded = json.loads(results.read_text())
    assert graded["score"] == graded["max_score"] == SUITES["neuron"].max_points
