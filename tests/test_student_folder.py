"""An assignment folder is all a student needs: with only the packages its
README's install lines name, in an environment that has neither ``grader`` nor
torch, its public tests and its notebook run (and report "not implemented
yet"); and ``dlgrade check`` of a numpy assignment runs without torch.

The environments are made offline: a virtualenv without pip whose
site-packages holds symbolic links to the installed files of the named
distributions and of what they require, nothing else.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import Course
from grader.student.dlgrade_student import from_imports

COURSE = Course.locate()
ASSIGNMENT = "01_neuron"  # a numpy assignment; its tests are not parametrised, so each is one check
KERNEL = "dlgrade-student"


def student_folder(tmp_path: Path) -> Path:
    """What a student receives: a copy of the assignment folder, away from this repository."""
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(COURSE.root / "assignments" / ASSIGNMENT, folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".ipynb_checkpoints"))
    return folder


def install_lines(folder: Path) -> list[list[str]]:
    """The packages of each ``pip install`` line of the folder's README, in order."""
    return [line.split() for line in re.findall(r"^pip install (.+)$", (folder / "README.md").read_text(), re.M)]


def with_requirements(names: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``names`` and everything they require here
    (extras left out, environment markers evaluated for this interpreter)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        found[name] = importlib.metadata.distribution(name)
        for spec in found[name].requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def isolated_python(venv: Path, packages: list[str]) -> Path:
    """A fresh virtualenv's interpreter that can import ``packages`` and their
    requirements, and nothing else that is installed here."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for dist in with_requirements(packages):
        assert dist.files, f"{dist.metadata['Name']} lists no files: which ones to link is unknown"
        # Top-level packages, modules, vendored libraries (numpy.libs) and the .dist-info, which
        # importlib.metadata (pytest's plugin discovery) reads; scripts outside site-packages are not needed.
        for top in sorted({f.parts[0] for f in dist.files if f.parts[0] not in ("..", "__pycache__")}):
            if not (site / top).exists():
                (site / top).symlink_to(dist.locate_file(top))
    return python


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """No PYTHONPATH, no user site: only the virtualenv decides what imports."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONNOUSERSITE": "1"}


def importable(python: Path, module: str, cwd: Path, env: dict[str, str]) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], cwd=cwd, env=env, capture_output=True).returncode == 0


def test_public_tests_run_with_numpy_and_pytest_alone(tmp_path):
    folder = student_folder(tmp_path)
    install, _ = install_lines(folder)
    assert install == ["numpy", "pytest"]
    python, env = isolated_python(tmp_path / "venv", install), clean_environment(tmp_path)
    assert importable(python, "numpy", folder, env) and importable(python, "pytest", folder, env)
    for absent in ("grader", "torch", "IPython", "matplotlib"):
        assert not importable(python, absent, folder, env), f"{absent} is importable in the student's environment"

    run = subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "test_public.py"], cwd=folder, env=env,
                         capture_output=True, text=True)
    output = run.stdout + run.stderr
    tests = len(re.findall(r"^def test_", (folder / "test_public.py").read_text(), re.M))
    assert run.returncode == 1, output
    assert re.search(rf"^=+ {tests} failed in [\d.]+s =+$", output, re.M), output  # collected, run, none errored
    assert "Error while importing" not in output and "ModuleNotFoundError" not in output
    summary = re.findall(r"^  (?:ok  |FAIL) .*$", output, re.M)  # one line per function
    functions = from_imports((folder / "test_public.py").read_text())["neuron"]
    assert len(summary) == len(functions), summary
    assert all(line.startswith("  FAIL") and line.endswith("not implemented yet") for line in summary), summary
    assert f"0 of {tests} public checks pass." in output


def test_notebook_runs_in_a_kernel_with_the_readme_packages_alone(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="running the notebook needs nbformat (pip install -e .[dev])")
    nbclient = pytest.importorskip("nbclient", reason="running the notebook needs nbclient (pip install -e .[dev])")
    folder = student_folder(tmp_path)
    install, notebook_install = install_lines(folder)
    assert notebook_install == ["ipykernel", "matplotlib"]
    for name in notebook_install:
        pytest.importorskip(name, reason=f"the student's kernel is made of this environment's {name}")
    python = isolated_python(tmp_path / "venv", install + notebook_install)
    kernels = tmp_path / "jupyter" / "kernels" / KERNEL
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "a student's kernel", "language": "python"}))
    # The kernel inherits this process's environment: only the virtualenv decides what it imports.
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    notebook = nbformat.read(folder / "neuron.ipynb", as_version=4)
    probe = ("import importlib.util, sys\n"
             "print(sys.executable, [importlib.util.find_spec(m) is None for m in ('grader', 'torch')])")
    notebook.cells.append(nbformat.v4.new_code_cell(probe, id="probe"))
    nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=300, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}}).execute()

    def stdout(cell) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

    errors = [f"{cell.id}: {o.ename}: {o.evalue}" for cell in notebook.cells if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error"]
    assert not errors
    assert stdout(notebook.cells[-1]).split() == [str(python), "[True,", "True]"]
    checks = [cell for cell in notebook.cells if "check" in cell.metadata.get("tags", [])]
    assert checks
    for cell in checks:
        report = stdout(cell)
        assert re.search(r"^0 of \d+ public checks pass\.$", report, re.M) and "not implemented yet" in report, report
    for cell in notebook.cells:
        if "narrative" in cell.metadata.get("tags", []):
            assert stdout(cell).startswith("No picture yet: "), f"{cell.id}: {stdout(cell)!r}"


# --------------------------------------------------------------------------- dlgrade check without torch


def without_torch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``dlgrade ARGS`` where importing torch fails, in dlgrade and in the pytest it starts."""
    blocker = tmp_path / "no-torch"
    blocker.mkdir(exist_ok=True)
    (blocker / "torch.py").write_text("raise ImportError('torch is not installed here (blocked by the test)')\n")
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=COURSE.root, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(blocker)})


def test_dlgrade_check_of_a_numpy_assignment_needs_no_torch(tmp_path):
    stub = without_torch(tmp_path, "check", "assignments/02_losses")
    assert stub.returncode == 1, stub.stdout + stub.stderr
    assert "FAIL mse_loss" in stub.stdout and "not implemented yet" in stub.stdout
    assert "0 of 11 public checks pass." in stub.stdout and "torch" not in stub.stdout + stub.stderr
    for path in ("solutions/02_losses", "solutions/examples/losses/correct_loops.py"):
        passing = without_torch(tmp_path, "check", path)
        assert passing.returncode == 0 and "11 of 11 public checks pass." in passing.stdout, passing.stdout


# The modules suites are written with (grader/suites/ modules that define no SUITE).
FAMILIES = ("inputs", "layers", "criteria", "trajectories", "properties")


def test_suites_are_imported_when_asked_for():
    def loaded_after(code: str) -> list[str]:
        """The suites imported (the families they are written with aside)."""
        run = subprocess.run([sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in "
                              f"sys.modules if m.startswith('grader.suites.'))))"], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return [m for m in json.loads(run.stdout) if m.rpartition(".")[2] not in FAMILIES]

    assignments = len(list((COURSE.root / "solutions").glob("[0-9]*_*/")))
    assert loaded_after("sys.modules['torch'] = None  # importing it fails\n"
                        "from grader.suites import SUITES\n"
                        f"assert len(SUITES) == {assignments} and 'losses' in SUITES and 'nope' not in SUITES") == []
    assert loaded_after("from grader.suites import get_suite\n"
                        "assert get_suite('02_losses') is get_suite('losses')") == ["grader.suites.losses"]
