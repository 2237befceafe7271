"""Ordinary mistakes in a command: one line on stderr naming the option or
file, exit status 2, found before any grading (nothing printed on stdout,
nothing written), never a traceback."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import Course

COURSE = Course.locate()
SOLUTION = COURSE.root / "solutions" / "02_losses" / "losses.py"
ENV = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "DLGRADE_SEED": "mistakes"}


def dlgrade(*args, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=COURSE.root, env=ENV)


def assert_one_line_usage_error(run, *named):
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert run.stdout == "" and run.stderr.count("\n") == 1 and run.stderr.startswith("dlgrade"), run.stderr
    assert "Traceback" not in run.stderr
    for text in named:
        assert text in run.stderr, (text, run.stderr)


@pytest.fixture
def klass(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    return folder


def test_output_that_is_a_file(klass, tmp_path):
    taken = tmp_path / "results"
    taken.write_text("not a folder")
    assert_one_line_usage_error(dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(taken)),
                                "-o", str(taken), "is a file")
    assert_one_line_usage_error(dlgrade("export", "github", "-a", "losses", "-o", str(taken)), "-o", str(taken))
    assert_one_line_usage_error(dlgrade("grade", str(SOLUTION), "--json", str(taken / "results.json")),
                                "--json", str(taken), "is a file")
    assert_one_line_usage_error(dlgrade("grade", str(SOLUTION), "--html", str(tmp_path)), "--html", "is a folder")
    assert taken.read_text() == "not a folder"


def _read_only_mount(folder: Path) -> list[str]:
    """A command prefix that runs the rest in a mount namespace of its own
    where ``folder`` is a read-only bind of itself: unwritable even for root,
    which ignores permission bits."""
    prefix = ["unshare", "--mount", "sh", "-c", f'mount --bind -o ro {shlex.quote(str(folder))} '
                                                f'{shlex.quote(str(folder))} && exec "$@"', "sh"]
    probe = subprocess.run([*prefix, "touch", str(folder / "probe")], capture_output=True)
    if shutil.which("unshare") is None or b"Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.decode().strip()}")
    return prefix


def test_output_that_cannot_be_written(klass, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    prefix = _read_only_mount(locked)
    assert_one_line_usage_error(dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(locked), prefix=prefix),
                                "-o", str(locked), "Read-only file system")
    assert_one_line_usage_error(dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(locked / "new"),
                                        prefix=prefix), "-o", "Read-only file system")
    for target in ("gradescope", "github"):
        assert_one_line_usage_error(dlgrade("export", target, "-a", "losses", "-o", str(locked), prefix=prefix),
                                    "-o", str(locked), "Read-only file system")
    assert_one_line_usage_error(dlgrade("grade", str(SOLUTION), "--junit", str(locked / "junit.xml"), prefix=prefix),
                                "--junit", "Read-only file system")
    assert not list(locked.iterdir())


@pytest.mark.parametrize("args, named", [
    (("--jobs", "0"), "argument --jobs: must be at least 1, not 0"),
    (("--jobs", "-3"), "argument --jobs: must be at least 1, not -3"),
    (("--jobs", "two"), "argument --jobs: not a whole number: 'two'"),
])
def test_jobs_below_one(klass, tmp_path, args, named):
    run = dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(tmp_path / "out"), *args)
    assert_one_line_usage_error(run, named, "dlgrade grade-batch --help")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["150", "-10", "nan", "NaN", "inf", "lots"])
def test_fail_under_outside_0_to_100(value):
    assert_one_line_usage_error(dlgrade("grade", str(SOLUTION), "--fail-under", value), "argument --fail-under")
    assert_one_line_usage_error(dlgrade("export", "github", "-a", "losses", "-o", "/tmp", "--fail-under", value),
                                "argument --fail-under")


def test_fail_under_at_the_bounds_is_taken():
    assert dlgrade("grade", str(SOLUTION), "--fail-under", "100").returncode == 0
    assert dlgrade("grade", "assignments/02_losses/losses.py", "--fail-under", "0").returncode == 0


def test_a_submission_that_does_not_exist(tmp_path):
    assert_one_line_usage_error(dlgrade("grade", "does/not/exist.py", "-a", "neuron"),
                                "does/not/exist.py: no such file or folder")
    assert_one_line_usage_error(dlgrade("grade-batch", str(tmp_path / "nowhere"), "-a", "losses", "-o",
                                        str(tmp_path / "out")), "nowhere is not a folder")


@pytest.mark.parametrize("seed", ["", "   "])
def test_an_empty_or_blank_seed(klass, tmp_path, seed):
    assert_one_line_usage_error(dlgrade("grade-batch", str(klass), "-a", "losses", "-o", str(tmp_path / "out"),
                                        "--seed", seed), "--seed is empty")


def test_an_unknown_option_is_one_line_too():
    assert_one_line_usage_error(dlgrade("grade", str(SOLUTION), "--colour"), "unrecognized arguments: --colour")


def test_version():
    from importlib import metadata

    run = dlgrade("--version")
    assert run.returncode == 0 and run.stdout == f"dlgrade {metadata.version('dlgrade')}\n"
