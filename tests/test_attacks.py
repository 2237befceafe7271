"""Hostile submissions: each attack fails the function that tries it, with a
message, and the other function is still graded in full."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.text import feedback, to_text
from grader.sandbox import Sandbox
from tests.toy import SUITE, make_course

SHIFT_OK = "def shift_forward(x):\n    return x + 1, None\n"


@pytest.fixture
def course(tmp_path):
    make_course(tmp_path / "course")
    return Course(tmp_path / "course")


def attack(tmp_path, course, body, monkeypatch=None):
    path = tmp_path / "toy.py"
    path.write_text(f"import os, sys\nimport numpy as np\n\ndef scale_forward(x):\n{body}\n    return 2 * x, None\n\n"
                    + SHIFT_OK)
    result = grade_submission(SUITE, path, Secret("attacks"), course)
    functions = {f.name: f for f in result.functions}
    assert functions["shift_forward"].score == functions["shift_forward"].max_score
    return functions["scale_forward"]


@pytest.mark.parametrize(
    "body, message",
    [
        ("    bytearray(16 << 30)", "MemoryError"),
        ("    os.fork()", "os.fork is not allowed"),
        ("    import subprocess; subprocess.run(['true'])", "subprocess.Popen is not allowed"),
        ("    os.system('true')", "os.system is not allowed"),
        ("    import socket; socket.create_connection(('127.0.0.1', 22), timeout=1)", "raised"),
        ("    open('/tmp/big', 'wb').write(b'x' * (128 << 20))", "File too large"),
        ("    sys.stdout.write('x' * (128 << 20)); sys.stdout.flush()", "File too large"),
        ("    import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); signal.signal(signal.SIGALRM, "
         "signal.SIG_IGN)\n    while True: pass", "time limit"),
        ("    import threading; threading.Thread(target=lambda: [0 for _ in iter(int, 1)], daemon=True).start()\n"
         "    raise ValueError('left a thread running')", "left a thread running"),
    ],
    ids=["memory", "fork", "subprocess", "system", "socket", "file-size", "output-flood", "ignore-signals", "thread"],
)
def test_attack_fails_only_its_function(tmp_path, course, body, message):
    scale = attack(tmp_path, course, body)
    assert scale.score == 0
    assert message in feedback(scale)


def test_secrets_are_not_in_the_environment(tmp_path, course, monkeypatch):
    monkeypatch.setenv("DLGRADE_SEED", "the-secret")
    scale = attack(tmp_path, course, "    assert 'the-secret' not in str(os.environ), 'leaked'\n"
                                     "    assert set(os.environ) <= {'PATH', 'HOME', 'LANG', "
                                     "'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', "
                                     "'OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'LC_CTYPE'}, sorted(os.environ)")
    assert scale.score == scale.max_score, feedback(scale)


def test_child_never_runs_as_root(tmp_path, course):
    """Also here, where Python lives in root's private home: the view binds it
    in where the child's own uid can read it."""
    scale = attack(tmp_path, course, "    assert os.geteuid() != 0, 'still root'\n"
                                     "    open(os.path.join(os.getcwd(), 'scratch'), 'w').write('ok')")
    assert scale.score == scale.max_score, feedback(scale)


def test_solutions_suites_and_other_sandboxes_are_out_of_reach(tmp_path, course):
    import tempfile

    from grader import suites

    solution = course.root / "solutions" / "00_toy" / "toy.py"
    other = Sandbox(solution, "toy")  # another student's sandbox, alive meanwhile
    try:
        path = tmp_path / "toy.py"
        path.write_text(
            "import os\n\ndef scale_forward(x):\n"
            f"    for secret in ({str(solution)!r}, {str(next(Path(suites.__file__).parent.glob('neuron.py')))!r}):\n"
            "        try:\n            open(secret).read()\n        except OSError:\n            continue\n"
            "        raise AssertionError('read ' + secret)\n"
            f"    base = {str(Path(tempfile.gettempdir()) / 'dlgrade-sandboxes')!r}\n"
            "    assert not os.path.exists(base), os.listdir(base)\n"
            "    return 2 * x, None\n\n" + SHIFT_OK)
        result = grade_submission(SUITE, path, Secret("attacks"), course)
    finally:
        other.close()
    assert result.score == result.max_score, to_text(result)


@pytest.mark.parametrize(
    "body",
    ["    import torch", "    __import__('scipy.signal')", "    import importlib; importlib.import_module('torch.nn')",
     "    import builtins; builtins.__import__('sklearn')"],
    ids=["import", "dunder-import", "importlib", "builtins"],
)
def test_forbidden_modules_are_refused_however_imported(tmp_path, course, body):
    scale = attack(tmp_path, course, body)
    assert scale.score == 0 and "may not be used in this assignment" in feedback(scale)


def test_forbidden_import_at_module_level_fails_every_function(tmp_path, course):
    path = tmp_path / "toy.py"
    path.write_text("import torch\n\ndef scale_forward(x):\n    return 2 * x, None\n\n" + SHIFT_OK)
    result = grade_submission(SUITE, path, Secret("attacks"), course)
    assert result.score == 0
    assert "torch may not be used in this assignment" in feedback(result.functions[0])


def test_huge_returned_array_is_refused_not_loaded(tmp_path, course):
    path = tmp_path / "toy.py"
    path.write_text("import numpy as np\n\ndef scale_forward(x):\n    return np.zeros(40_000_000), None\n\n" + SHIFT_OK)
    result = grade_submission(SUITE, path, Secret("attacks"), course)
    scale, shift = result.functions
    assert scale.score == 0 and "take 305 MiB, more than 256 MiB" in feedback(scale)
    assert shift.score == shift.max_score


def test_a_sandbox_holds_only_its_own_submission(tmp_path, course):
    """Submissions handed in as files side by side (a batch folder): none is
    copied into another's sandbox."""
    (tmp_path / "other_student.py").write_text("SECRET = 'answers'\n")
    scale = attack(tmp_path, course, "    assert sorted(os.listdir('.')) == ['toy.py'], os.listdir('.')")
    assert scale.score == scale.max_score, feedback(scale)


def test_a_folder_submission_brings_its_helper_modules(tmp_path, course):
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    (folder / "toy.py").write_text("from helpers import double\n\ndef scale_forward(x):\n    return double(x), None\n\n"
                                   + SHIFT_OK)
    result = grade_submission(SUITE, folder, Secret("attacks"), course)
    assert result.score == result.max_score, to_text(result)


def test_monkeypatching_numpy_changes_nothing_in_the_grader(tmp_path, course):
    scale = attack(tmp_path, course, "    np.allclose = lambda *a, **k: True\n"
                                     "    np.testing.assert_allclose = lambda *a, **k: None\n"
                                     "    np.array_equal = np.isclose = lambda *a, **k: True\n"
                                     "    return 3 * x, None")
    assert scale.score == 0 and "1.5 times the expected value" in feedback(scale)


def test_the_child_holds_no_grader_state_to_inspect(tmp_path, course):
    scale = attack(tmp_path, course,
                   "    import gc\n"
                   "    loaded = [m for m in sys.modules if m == 'grader' or m.startswith(('grader.', 'torch'))]\n"
                   "    assert not loaded, loaded\n"
                   "    assert not [o for o in gc.get_objects() if type(o).__module__.startswith('grader')]")
    assert scale.score == scale.max_score, feedback(scale)


def test_a_stray_results_file_is_ignored(tmp_path, course):
    scale = attack(tmp_path, course,
                   "    import json\n"
                   "    for where in ('results.json', os.path.join(os.environ['HOME'], 'results.json')):\n"
                   "        json.dump({'score': 100, 'tests': []}, open(where, 'w'))\n"
                   "    return 0 * x, None")
    assert scale.score == 0
    assert not (tmp_path / "results.json").exists()
