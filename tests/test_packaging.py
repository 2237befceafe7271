"""What `pip install` gives: a wheel built from this checkout holds every
module and what --html, generate and the exports need (templates, schemas,
data), and `dlgrade grade --html` and `dlgrade export github` work from a
folder that has nothing of the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.suites import SUITES

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "02_losses" / "losses.py"


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, the folder it is installed in), built from a copy of what
    the build reads, so that nothing is written into the checkout."""
    pytest.importorskip("setuptools")
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "grader", "templates"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                             if (ROOT / name).is_dir() else {}))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"), str(source)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp / "dist").glob("dlgrade-*.whl")
    site = tmp / "site"
    done = subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return wheel, site


def test_the_wheel_holds_every_module_template_schema_and_data_file(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = files_under(ROOT / "grader") | {f"grader/{name}" for name in files_under(ROOT / "templates")}
    assert wanted - names == set()
    assert {"grader/templates/report.html.j2", "grader/templates/github-classroom.yml.j2",
            "grader/templates/gradescope_setup.sh.j2", "grader/schemas/result.schema.json"} <= names


def test_html_feedback_and_exports_work_from_any_folder_after_install(installed, tmp_path):
    pytest.importorskip("jinja2")
    _, site = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(site), "DLGRADE_SEED": "packaging"}

    def dlgrade(*args):
        return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=elsewhere,
                              env=env)

    where = subprocess.run([sys.executable, "-c", "import grader, grader.render.templates as t; "
                            "print(grader.__file__); print(t.template_folder())"],
                           capture_output=True, text=True, cwd=elsewhere, env=env)
    module, templates = where.stdout.split()
    assert Path(module).is_relative_to(site) and Path(templates) == site / "grader" / "templates"
    shutil.copy(SOLUTION, elsewhere / "losses.py")
    graded = dlgrade("grade", "losses.py", "--html", "page.html")
    assert graded.returncode == 0, graded.stderr
    points = f"{SUITES['losses'].max_points:g}"
    assert f"{points} / {points} points" in (elsewhere / "page.html").read_text()
    exported = dlgrade("export", "github", "-a", "losses", "-o", "repo", "--dlgrade-url", "git+https://example.org/c")
    assert exported.returncode == 0, exported.stderr
    assert "dlgrade grade losses.py -a losses" in (elsewhere / "repo/.github/workflows/dlgrade-losses.yml").read_text()
