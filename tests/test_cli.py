"""The dlgrade command as users run it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import Course
from tests.processes import descendants

COURSE = Course.locate()
EXAMPLES = COURSE.root / "solutions" / "examples"


def dlgrade(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=cwd or COURSE.root, env={"PATH": "/usr/bin:/bin", "DLGRADE_SEED": "cli-tests"})


@pytest.mark.slow
def test_grade_solution_writes_gradescope_json(tmp_path):
    out = tmp_path / "results.json"
    run = dlgrade("grade", "solutions/01_neuron", "--json", str(out), "--fail-under", "100")
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["score"] == data["max_score"] > 0
    assert {"name", "score", "max_score", "output", "visibility"} <= set(data["tests"][0])
    assert "total" in run.stdout


@pytest.mark.slow
def test_grade_stub_below_threshold_exits_1():
    run = dlgrade("grade", "assignments/02_losses/losses.py", "--fail-under", "50")
    assert run.returncode == 1
    assert "not implemented yet" in run.stdout and "below --fail-under" in run.stderr


@pytest.mark.slow
def test_grade_json_format_prints_json():
    run = dlgrade("grade", "solutions/examples/losses/buggy.py", "--format", "json")
    assert run.returncode == 0
    assert json.loads(run.stdout)["score"] < json.loads(run.stdout)["max_score"]


@pytest.mark.slow
def test_unknown_assignment_is_a_usage_error(tmp_path):
    run = dlgrade("grade", str(tmp_path), "-a", "nope")
    assert run.returncode == 2 and "unknown assignment 'nope'" in run.stderr
    run = dlgrade("grade", str(tmp_path))
    assert run.returncode == 2 and "name it with -a" in run.stderr


@pytest.mark.slow
def test_missing_module_is_graded_zero_with_a_message(tmp_path):
    run = dlgrade("grade", str(tmp_path), "-a", "neuron")
    assert run.returncode == 0
    assert "has no neuron.py" in run.stdout and "Traceback" not in run.stdout + run.stderr


@pytest.mark.slow
def test_check_passes_on_solution_and_fails_on_stub():
    good = dlgrade("check", "solutions/01_neuron")
    assert good.returncode == 0, good.stdout
    bad = dlgrade("check", cwd=COURSE.root / "assignments" / "01_neuron")
    assert bad.returncode == 1
    assert "not implemented yet" in bad.stdout and "FAIL sigmoid_forward" in bad.stdout


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/correct_*.py")), ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_public_checks_pass_every_correct_variant(path):
    """float32 and loop versions included: the public checks must not reject a
    correct submission either."""
    run = dlgrade("check", str(path))
    assert run.returncode == 0, run.stdout


@pytest.mark.slow
def test_list_shows_every_graded_function():
    from grader.suites import SUITES

    run = dlgrade("list")
    for suite in SUITES.values():
        for fn in suite.functions:
            assert fn.name in run.stdout


@pytest.mark.slow
def test_results_json_validates_against_gradescope_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((COURSE.root / "grader" / "schemas" / "gradescope_results.schema.json").read_text())
    for submission in ("solutions/02_losses", "solutions/examples/losses/buggy.py", str(tmp_path)):
        run = dlgrade("grade", submission, "-a", "losses", "--format", "json")
        jsonschema.validate(json.loads(run.stdout), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"score": 1, "tests": [{"score": 1, "visibility": "sometimes"}]}, schema)


def without_secret(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=cwd or COURSE.root, env={"PATH": "/usr/bin:/bin"})


@pytest.mark.slow
def test_grade_without_a_secret_refuses_in_one_line_unless_development():
    refused = without_secret("grade", "solutions/examples/losses/buggy.py")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("dlgrade grade: no secret seed")
    assert "DLGRADE_SEED_FILE" in refused.stderr and "--development" in refused.stderr
    text = without_secret("grade", "solutions/examples/losses/buggy.py", "--development")
    assert text.returncode == 0 and "WARNING: graded with the public development seed" in text.stdout
    data = json.loads(without_secret("grade", "solutions/examples/losses/buggy.py", "--development",
                                     "--format", "json").stdout)
    assert data["extra_data"]["development_seed"] is True and "development seed" in data["output"]
    markdown = without_secret("grade", "solutions/examples/losses/buggy.py", "--development", "--format", "markdown")
    assert "> **warning**: graded with the public development seed" in markdown.stdout
    secret = json.loads(dlgrade("grade", "solutions/examples/losses/buggy.py", "--format", "json").stdout)
    assert secret["extra_data"]["development_seed"] is False and "development seed" not in secret["output"]


@pytest.mark.slow
@pytest.mark.parametrize("how", [("--seed", ""), ("--seed=",), ("--seed", "   ")], ids=["separate", "equals", "blank"])
def test_an_empty_seed_is_an_error_not_the_development_seed(how):
    run = dlgrade("grade", "solutions/examples/losses/buggy.py", "--development", *how)
    assert run.returncode == 2 and run.stderr.startswith("dlgrade grade: --seed is empty") and not run.stdout


@pytest.mark.slow
def test_an_empty_or_missing_seed_file_is_a_usage_error(tmp_path):
    empty = tmp_path / "seed.txt"
    empty.write_text("\nsecret on the second line\n")
    for path, message in ((empty, "its first line is empty"), (tmp_path / "nowhere", "No such file")):
        run = subprocess.run([sys.executable, "-m", "grader", "grade", "solutions/examples/losses/buggy.py"],
                             capture_output=True, text=True, cwd=COURSE.root,
                             env={"PATH": "/usr/bin:/bin", "DLGRADE_SEED_FILE": str(path)})
        assert run.returncode == 2 and f"DLGRADE_SEED_FILE={path}" in run.stderr and message in run.stderr


def test_demo_and_check_say_they_need_no_secret():
    assert "development seed" in dlgrade("demo", "--help").stdout
    assert "no secret" in dlgrade("check", "--help").stdout
    assert "--development" in dlgrade("grade", "--help").stdout
    assert "--allow-unconfined" in dlgrade("demo", "--help").stdout


def test_seed_out_of_argv_takes_every_form_argparse_takes():
    from grader.cli import seed_out_of_argv

    assert seed_out_of_argv(["grade", "--seed", "S", "x.py"]) == (["grade", "x.py"], "S")
    assert seed_out_of_argv(["grade", "--seed=S", "x.py", "--seed", "T"]) == (["grade", "x.py"], "T")  # the last wins
    for kept in (["grade", "--seed", "", "x.py"], ["grade", "--seed", "-x"], ["grade", "--", "--seed", "S"],
                 ["grade", "--seed"]):
        assert seed_out_of_argv(kept) == (kept, None)
    # Abbreviations would be a --seed it does not see: argparse refuses them.
    assert dlgrade("grade", "x.py", "--se", "S").returncode == 2


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("launcher", ["module", "script"])
def test_a_seed_given_on_the_command_line_leaves_it_before_grading(tmp_path, launcher):
    """/proc/<pid>/cmdline is readable by every user: while the grader grades
    (here, waits on a submission that sleeps at import), neither it nor any
    process it started shows the seed; it has it in its environment, which
    only its user can read."""
    import signal
    import time

    seed = "s3cret-on-the-command-line"
    slow = tmp_path / "losses.py"
    slow.write_text("import time\ntime.sleep(60)\n")
    start = [sys.executable, "-m", "grader"] if launcher == "module" else [str(Path(sys.executable).parent / "dlgrade")]
    grader = subprocess.Popen([*start, "grade", str(slow), "-a", "losses", "--seed", seed], cwd=COURSE.root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not descendants(grader.pid) and time.monotonic() < deadline:  # grading has started a child
            time.sleep(0.05)
        assert descendants(grader.pid), "the grader never started grading"
        for pid in [grader.pid, *descendants(grader.pid)]:
            with contextlib.suppress(FileNotFoundError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
                assert seed not in cmdline and "--seed" not in cmdline, (pid, cmdline)
        command = Path(f"/proc/{grader.pid}/cmdline").read_bytes().split(b"\0")
        assert b"grade" in command and str(slow).encode() in command  # the same command, less the seed
        assert f"DLGRADE_SEED={seed}".encode() in Path(f"/proc/{grader.pid}/environ").read_bytes().split(b"\0")
    finally:
        os.killpg(grader.pid, signal.SIGKILL)
        grader.wait()


def test_list_json_holds_what_the_suites_declare():
    from grader.suites import SUITES

    listed = json.loads(dlgrade("list", "--format", "json").stdout)
    assert [a["assignment"] for a in listed] == list(SUITES)
    for entry, suite in zip(listed, SUITES.values()):
        assert entry["max_points"] == suite.max_points and entry["file"] == f"{suite.module}.py"
        assert [(f["name"], f["points"]) for f in entry["functions"]] == list(suite.graded)
        bugs = {fn.name: len(fn.bugs) for fn in suite.functions}
        assert all(f["catalogued_bugs"] == bugs.get(f["name"], 0) for f in entry["functions"])


def _grade_on_a_terminal(submission: Path) -> tuple[int, str, str]:
    """`dlgrade grade` with its stderr on a pseudo-terminal, as in a shell."""
    import pty

    controller, terminal = pty.openpty()
    run = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(submission), "-a", "losses"],
                           stdout=subprocess.PIPE, stderr=terminal, cwd=COURSE.root, text=True,
                           env={"PATH": "/usr/bin:/bin", "DLGRADE_SEED": "cli-tests"})
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the last holder of the terminal closed it
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return run.wait(), run.stdout.read(), shown.decode()


@pytest.mark.slow
def test_a_long_grade_shows_a_progress_line_on_a_terminal_only(tmp_path):
    """A submission that takes five seconds to import: a line with the
    seconds so far appears after a few, and is cleared before the report; with
    stderr in a file (a CI log) there is none."""
    slow = tmp_path / "losses.py"
    solution = (COURSE.root / "solutions" / "02_losses" / "losses.py").read_text()
    slow.write_text("import time\ntime.sleep(5)\n" + solution)
    code, report, terminal = _grade_on_a_terminal(slow)
    assert code == 0 and "total" in report
    assert "\rgrading losses.py (losses): 3 s (Ctrl-C stops)" in terminal and terminal.endswith("\r\x1b[K")
    quiet = dlgrade("grade", str(slow), "-a", "losses")
    assert quiet.returncode == 0 and "Ctrl-C stops" not in quiet.stderr


def test_a_broken_hints_file_is_told_in_one_line(tmp_path):
    """An instructor's typo in a suite's hints: every command says which file, in one line, and exits 3."""
    import shutil

    copy = tmp_path / "grader"
    shutil.copytree(COURSE.root / "grader", copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    with open(copy / "suites" / "hints" / "losses.toml", "a") as hints:
        hints.write("a-hint-left-unfinished = \n")
    run = subprocess.run([sys.executable, "-m", "grader", "list"], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)})
    assert run.returncode == 3, run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"dlgrade list: a suite is broken: {copy / 'suites' / 'hints' / 'losses.toml'}: "
                           f"the suite's hints cannot be read: "), line
