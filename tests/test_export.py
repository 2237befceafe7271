"""`dlgrade export`: the Gradescope autograder run the way Gradescope runs it,
the otter master notebook through `otter assign` and `otter run`, and the
GitHub Actions workflow's command line run as the workflow runs it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.gradescope import to_gradescope
from grader.results import CaseResult, FunctionResult, GradeResult
from grader.suites import get_suite

COURSE = Course.locate()
EXAMPLES = COURSE.root / "solutions" / "examples" / "losses"
SCHEMA = json.loads((COURSE.root / "grader" / "schemas" / "gradescope_results.schema.json").read_text())
SEED = "export-tests-seed"
SUITE = get_suite("losses")
BIN = str(Path(sys.executable).parent)


def run(*command, cwd=None, env=None):
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd or COURSE.root,
                          env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), **(env or {})})


def dlgrade(*args, **kwargs):
    return run(sys.executable, "-m", "grader", *args, **kwargs)


def passed_points(path: Path, seed: str = SEED) -> float:
    """What otter gives: the points of the cases dlgrade gives full marks."""
    result = grade_submission(SUITE, path, Secret(seed))
    return sum(c.max_score for f in result.functions for c in f.cases if c.passed)


def notebook(path: Path, *sources: str) -> Path:
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                           "source": s} for s in sources], "metadata": {},
                                "nbformat": 4, "nbformat_minor": 5}))
    return path


# --------------------------------------------------------------------------- Gradescope


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope")
    exported = dlgrade("export", "gradescope", "-a", "losses", "-o", str(out), env={"DLGRADE_SEED": SEED})
    assert exported.returncode == 0, exported.stderr
    return out / "autograder-losses.zip"


def test_autograder_zip_holds_what_gradescope_and_the_grader_need(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    assert {"setup.sh", "run_autograder", "requirements.txt", "secret/seed.txt", "solutions/02_losses/losses.py",
            "grader/child/main.py", "grader/suites/losses.py"} <= names
    assert not any("__pycache__" in n for n in names)
    assert (tmp_path / "secret" / "seed.txt").read_text().strip() == SEED
    pins = [line for line in (tmp_path / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", pin) for pin in pins), pins
    assert {pin.split("==")[0] for pin in pins} >= {"numpy", "torch"}
    for script in ("setup.sh", "run_autograder"):
        checked = run("bash", "-n", str(tmp_path / script))
        assert checked.returncode == 0, (script, checked.stderr)
        assert zipfile.ZipFile(autograder_zip).getinfo(script).external_attr >> 16 & 0o111, f"{script} not executable"
    assert "requirements.txt" in (tmp_path / "setup.sh").read_text()


@pytest.mark.parametrize("submitted, expect_full", [
    ({"losses.py": "correct_loops.py"}, True),
    ({"notebooks/my_losses.ipynb": "buggy.py"}, False),  # any notebook anywhere in the upload
    ({}, False),  # nothing submitted
])
def test_run_autograder_grades_like_gradescope(autograder_zip, tmp_path, submitted, expect_full):
    for folder in ("source", "submission", "results"):
        (tmp_path / folder).mkdir()
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(tmp_path / "source")
    shutil.copy(tmp_path / "source" / "run_autograder", tmp_path / "run_autograder")  # as Gradescope does
    for name, example in submitted.items():
        target = tmp_path / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = (EXAMPLES / example).read_text()
        notebook(target, source) if target.suffix == ".ipynb" else target.write_text(source)

    ran = run("bash", str(tmp_path / "run_autograder"), cwd=tmp_path,
              env={"DLGRADE_AUTOGRADER_ROOT": str(tmp_path), "DLGRADE_PYTHON": sys.executable,
                   "DLGRADE_SEED": "not-this-one"})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert "development seed" not in results["output"]
    if expect_full:
        assert results["score"] == results["max_score"] == SUITE.max_points
    elif submitted:
        # The bundled seed was used: the same score as grading here with it.
        expected = grade_submission(SUITE, EXAMPLES / "buggy.py", Secret(SEED))
        assert results["score"] == pytest.approx(expected.score) and 0 < results["score"] < results["max_score"]
        details = [t for t in results["tests"] if t["visibility"] == "after_due_date"]
        assert details and all(t["score"] == t["max_score"] == 0 and "case '" in t["output"] for t in details)
        assert not any("case '" in t["output"] for t in results["tests"] if t["visibility"] == "visible")
    else:
        assert results["score"] == 0 and results["extra_data"]["status"] == "invalid"
        assert "losses.py" in results["extra_data"]["message"]


def test_run_autograder_refuses_an_upload_that_links_to_the_solution(autograder_zip, tmp_path):
    """Gradescope unpacks an uploaded zip itself, symbolic links included."""
    for folder in ("source", "submission", "results"):
        (tmp_path / folder).mkdir()
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(tmp_path / "source")
    (tmp_path / "submission" / "losses.py").symlink_to(tmp_path / "source" / "solutions" / "02_losses" / "losses.py")
    ran = run("bash", str(tmp_path / "source" / "run_autograder"), cwd=tmp_path,
              env={"DLGRADE_AUTOGRADER_ROOT": str(tmp_path), "DLGRADE_PYTHON": sys.executable})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["extra_data"]["status"] == "invalid"
    assert results["extra_data"]["message"] == "submission/losses.py is a symbolic link: only regular files are taken"


def test_the_gradescope_export_never_carries_the_development_seed(tmp_path):
    fresh = dlgrade("export", "gradescope", "-a", "losses", "-o", str(tmp_path))
    assert fresh.returncode == 0 and "a fresh random secret seed" in fresh.stdout
    with zipfile.ZipFile(tmp_path / "autograder-losses.zip") as archive:
        seed = archive.read("secret/seed.txt").decode().strip()
    assert len(seed) == 32 and seed != "development"
    for env in ({"DLGRADE_SEED": "development"}, {"DLGRADE_SEED_FILE": str(tmp_path / "nowhere")}):
        refused = dlgrade("export", "gradescope", "-a", "losses", "-o", str(tmp_path / "again"), env=env)
        assert refused.returncode == 2 and refused.stderr.startswith("dlgrade export: ") and "Traceback" not in \
            refused.stderr
        assert not (tmp_path / "again").exists()


def test_to_gradescope_moves_case_feedback_to_a_later_test_and_passes_the_leaderboard():
    failed = CaseResult("hidden edge case", 0.0, 1.0, ["out is wrong at 3 of 4 elements"])
    result = GradeResult("losses", "x.py", [FunctionResult("mse_loss", [CaseResult("ok", 1.0, 1.0), failed]),
                                            FunctionResult("bce_with_logits", [CaseResult("ok", 2.0, 2.0)])])
    now = to_gradescope(result)
    assert [t["visibility"] for t in now["tests"]] == ["visible", "visible"] and "leaderboard" not in now
    assert "hidden edge case" in now["tests"][0]["output"]
    later = to_gradescope(result, "after_due_date")
    jsonschema.validate(later, SCHEMA)
    assert [(t["name"], t["visibility"]) for t in later["tests"]] == [
        ("losses: mse_loss", "visible"), ("losses: mse_loss, feedback per case", "after_due_date"),
        ("losses: bce_with_logits", "visible")]
    assert "hidden edge case" not in later["tests"][0]["output"] and "1 of 2 cases" in later["tests"][0]["output"]
    assert "hidden edge case" in later["tests"][1]["output"] and later["score"] == now["score"] == 3
    result.leaderboard = [{"name": "accuracy", "value": 0.98, "order": "desc"}]
    jsonschema.validate(to_gradescope(result), SCHEMA)
    assert to_gradescope(result)["leaderboard"] == result.leaderboard


# --------------------------------------------------------------------------- otter-grader


@pytest.fixture(scope="module")
def otter_assignment(tmp_path_factory) -> Path:
    """``otter assign`` on the exported master notebook (its own run of the
    tests on the solution is left out: the tests below run correct code)."""
    if importlib.util.find_spec("otter") is None:
        pytest.skip("otter-grader is not installed (pip install 'dlgrade[otter]')")
    out = tmp_path_factory.mktemp("otter")
    exported = dlgrade("export", "otter", "-a", "losses", "-o", str(out), "--seed", SEED)
    assert exported.returncode == 0, exported.stderr
    assert "not used by the otter export" in exported.stderr and SEED not in exported.stdout + exported.stderr
    assigned = run(sys.executable, "-m", "otter", "assign", "--no-run-tests", "losses.ipynb", "dist", cwd=out)
    assert assigned.returncode == 0, assigned.stdout + assigned.stderr
    return out / "dist"


def test_otter_master_notebook_follows_the_v1_format(otter_assignment):
    cells = json.loads((otter_assignment.parent / "losses.ipynb").read_text())["cells"]
    raw = ["".join(c["source"]).splitlines()[0] for c in cells if c["cell_type"] == "raw"]
    assert raw[0] == "# ASSIGNMENT CONFIG"
    assert raw.count("# BEGIN QUESTION") == raw.count("# END QUESTION") == len(SUITE.functions)
    assert raw.count("# BEGIN SOLUTION") == raw.count("# END SOLUTION") == len(SUITE.student_functions)
    hidden = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).startswith("# HIDDEN")]
    assert len(hidden) == sum(len(f.cases(Secret(SEED).rng("losses", f.name))) for f in SUITE.functions)
    # The course's secret (given with --seed) is nowhere: not in the master notebook, not in what otter assign makes
    # for students or for grading (the autograder zip, whose tests the student's kernel runs and can read).
    made = [otter_assignment.parent / "losses.ipynb", *(p for p in otter_assignment.rglob("*") if p.is_file())]
    for path in made:
        texts = ([zipfile.ZipFile(path).read(n).decode(errors="replace") for n in zipfile.ZipFile(path).namelist()]
                 if path.suffix == ".zip" else [path.read_text(errors="replace")])
        assert not any(SEED in text for text in texts), path
    # The hidden tests' own seed, a fresh random one, is in them only, which the student's folder does not get.
    seed = otter_seed(otter_assignment)
    assert seed != SEED and all(seed in "".join(c["source"]) for c in hidden)
    student = otter_assignment / "student"
    assert not any(seed in p.read_text(errors="replace") for p in student.rglob("*") if p.is_file())
    assert "raise NotImplementedError" not in (student / "losses.ipynb").read_text()
    assert "np.mean(diff ** 2)" not in (student / "losses.ipynb").read_text()


def otter_seed(otter_assignment: Path) -> str:
    """The seed the master notebook's hidden tests pass to check_case (its last argument)."""
    cells = json.loads((otter_assignment.parent / "losses.ipynb").read_text())["cells"]
    hidden = next("".join(c["source"]) for c in cells if "".join(c["source"]).startswith("# HIDDEN"))
    return json.loads(re.search(r"check_case\(env, (.*)\)", hidden).group(1).join("[]"))[-1]


HOSTILE_CELL = """\
import json, os
import grader.export.otter as dlgrade_otter

def capture(env, *arguments):  # every hidden test then passes: otter's own caveat
    with open({capture!r}, "a") as f:
        f.write(json.dumps({{"arguments": arguments, "environment": dict(os.environ)}}) + "\\n")

dlgrade_otter.check_case = capture
"""


def test_otter_run_scores_notebooks_and_a_hostile_cell_finds_no_secret(otter_assignment, tmp_path):
    """The student's notebook from `otter assign`, each solution cell filled in
    with an example submission, graded by `otter run` without docker; and a
    correct one with a cell that replaces the function the hidden tests call:
    what it gets to see holds no course secret."""
    student = json.loads((otter_assignment / "student" / "losses.ipynb").read_text())
    autograder = next((otter_assignment / "autograder").glob("*.zip"))
    capture = tmp_path / "captured.jsonl"
    runs = {}
    for example in ("correct_loops.py", "buggy.py", "hostile"):
        filled = json.loads(json.dumps(student))
        for cell in filled["cells"]:
            if cell["cell_type"] == "code" and "".join(cell["source"]).lstrip().startswith("def "):
                filled_in = EXAMPLES / "correct_loops.py" if example == "hostile" else EXAMPLES / example
                cell["source"] = filled_in.read_text()
        if example == "hostile":
            filled["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                       "source": HOSTILE_CELL.format(capture=str(capture))})
        folder = tmp_path / Path(example).stem
        folder.mkdir()
        (folder / "losses.ipynb").write_text(json.dumps(filled))
        runs[example] = subprocess.Popen(
            [sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", str(folder), "losses.ipynb"],
            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    scores = {}
    for example, process in runs.items():
        output = process.communicate(timeout=300)[0]
        assert process.returncode == 0, output
        results = json.loads((tmp_path / Path(example).stem / "results.json").read_text())
        scores[example] = sum(t.get("score") or 0 for t in results["tests"])
    assert scores["correct_loops.py"] == pytest.approx(SUITE.max_points)
    assert scores["buggy.py"] == pytest.approx(passed_points(EXAMPLES / "buggy.py", otter_seed(otter_assignment)))
    assert 0 < scores["buggy.py"] < SUITE.max_points
    captured = [json.loads(line) for line in capture.read_text().splitlines()]
    assert len(captured) == sum(len(f.cases(Secret(SEED).rng("losses", f.name))) for f in SUITE.functions)
    assert not any(SEED in json.dumps(seen) for seen in captured)


def test_otter_tests_grade_only_definitions_and_skip_otter_imports():
    from grader.export.otter import _cells, check_case, check_function

    with pytest.raises(RuntimeError, match="IPython's In"):
        check_function({}, "losses", "mse_loss")
    solution = (COURSE.root / "solutions" / "02_losses" / "losses.py").read_text()
    env = {"In": ["", "import otter\ngrader = otter.Notebook('losses.ipynb')", solution, "mse_loss(1, 2)"]}
    assert "import otter" not in _cells(env)[1] and "grader = otter" in _cells(env)[1]
    check_function(env, "losses", "mse_loss")
    check_case(env, "losses", "mse_loss", 0, SEED)
    env["In"].append((EXAMPLES / "buggy.py").read_text())
    with pytest.raises(AssertionError, match="mse_loss, case 'vector"):
        check_case(env, "losses", "mse_loss", 0, SEED)


def test_otter_training_question_has_the_cases_that_grade_training_reports():
    """The cnn question for training lists its cases without running it: the
    same points, in the same order, as a training that failed at once reports."""
    import numpy as np

    from grader.child.protocol import ErrorKind
    from grader.export.otter import graded_items
    from grader.sandbox import Outcome
    from grader.training import grade_training

    class Missing:
        def run(self, program, inputs, time_limit):
            return Outcome(error=ErrorKind.IMPORT, message="no module")

    suite = get_suite("cnn")
    name, functions, cases = graded_items(suite, Secret(SEED))[-1]
    assert name == suite.training.name and set(functions) == set(suite.training.functions)
    images, labels = np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.int64)
    result, _ = grade_training(suite.training, suite.training.cpu, (images, labels, images, labels, "zeros"),
                               Missing(), None)
    assert [c.max_score for c in result.cases] == [points for _, points in cases]
    assert [c.name for c in result.cases] == [label for label, _ in cases]  # the names training.py declares


# --------------------------------------------------------------------------- GitHub Actions


def test_github_workflow_is_valid_yaml_whose_grading_command_works(tmp_path):
    yaml = pytest.importorskip("yaml", reason="PyYAML (which otter-grader brings) reads the workflow")
    rendered = dlgrade("export", "github", "-a", "losses", "-o", str(tmp_path), "--fail-under", "75",
                       "--dlgrade-url", "git+https://example.org/course.git")
    assert rendered.returncode == 0, rendered.stderr
    workflow = yaml.safe_load((tmp_path / ".github" / "workflows" / "dlgrade-losses.yml").read_text())
    steps = workflow["jobs"]["grade"]["steps"]
    install = next(s["run"] for s in steps if s.get("name") == "Install dlgrade")
    assert "git+https://example.org/course.git" in install and "torch==" in install
    grade = next(s for s in steps if "dlgrade grade" in s.get("run", ""))
    assert grade["env"]["DLGRADE_SEED"] == "${{ secrets.DLGRADE_SEED }}"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "results.json"
    # The step's command, run as the runner runs it, in a student's repository.
    shutil.copy(EXAMPLES / "buggy.py", tmp_path / "losses.py")
    summary = tmp_path / "summary.md"
    graded = run("bash", "-e", "-c", grade["run"], cwd=tmp_path,
                 env={"GITHUB_STEP_SUMMARY": str(summary), "DLGRADE_SEED": SEED})
    assert graded.returncode == 1 and "below --fail-under 75" in graded.stderr  # buggy.py scores 59%
    # Without the repository secret (GitHub passes an empty value) the job fails, saying so; no development seed.
    unset = run("bash", "-e", "-c", grade["run"], cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary),
                                                                     "DLGRADE_SEED": ""})
    assert unset.returncode == 2 and "no secret seed" in unset.stderr
    assert "mse_loss" in summary.read_text() and json.loads((tmp_path / "results.json").read_text())["score"] > 0


# --------------------------------------------------------------------------- what every export says and leaves


def test_the_gradescope_export_says_how_to_read_its_seed_back(tmp_path):
    """The printed command, run as printed, gives back the seed in the zip; the zip (it holds the seed) is
    readable by its owner only."""
    exported = dlgrade("export", "gradescope", "-a", "losses", "-o", str(tmp_path / "my out"))
    assert exported.returncode == 0, exported.stderr
    command = next(line.strip() for line in exported.stdout.splitlines() if line.strip().startswith("unzip -p"))
    if shutil.which("unzip") is None:
        pytest.skip("unzip is not installed here")
    assert run("bash", "-e", "-c", command, cwd=tmp_path).returncode == 0
    zipped = tmp_path / "my out" / "autograder-losses.zip"
    assert (tmp_path / "seed.txt").read_text() == zipfile.ZipFile(zipped).read("secret/seed.txt").decode()
    assert (tmp_path / "seed.txt").stat().st_mode & 0o777 == 0o600 and zipped.stat().st_mode & 0o777 == 0o600
    assert "DLGRADE_SEED_FILE=seed.txt" in exported.stdout


@pytest.mark.parametrize("target", ["github", "otter"])
def test_a_placeholder_install_url_is_warned_about_at_export_time(tmp_path, target):
    if target == "otter" and importlib.util.find_spec("otter") is None:
        pytest.skip("otter-grader is not installed (pip install 'dlgrade[otter]')")
    placeholder = dlgrade("export", target, "-a", "losses", "-o", str(tmp_path / "a"))
    assert placeholder.returncode == 0 and "warning:" in placeholder.stderr and "--dlgrade-url" in placeholder.stderr
    given = dlgrade("export", target, "-a", "losses", "-o", str(tmp_path / "b"), "--dlgrade-url",
                    "git+https://example.org/course.git")
    assert given.returncode == 0 and "warning:" not in given.stderr
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "b").rglob("*") if p.is_file()}
    # The otter notebook's hidden tests hold the export's own seed: its owner's only; the rest is for everyone.
    assert modes == ({"losses.ipynb": 0o600, "requirements.txt": 0o644} if target == "otter"
                     else {"dlgrade-losses.yml": 0o644})


def test_an_assignment_s_own_packages_are_pinned_beside_dlgrade_s(tmp_path):
    """The kernel lab's graded code imports triton (an extra of dlgrade's): every route's requirements pin it at the
    version installed here; a numpy assignment's do not."""
    pytest.importorskip("triton", reason="triton (the extra `kernels`) is not installed")
    from importlib import metadata

    from grader.export.common import pinned_requirements

    kernels = pinned_requirements(get_suite("kernels").limits.packages)
    assert f"triton=={metadata.version('triton')}" in kernels and any(p.startswith("torch==") for p in kernels)
    assert not any(p.startswith("triton==") for p in pinned_requirements(get_suite("losses").limits.packages))
