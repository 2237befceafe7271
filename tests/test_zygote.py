"""The fork server: every child is a fresh fork of a zygote that never ran
student code, confined as a freshly started interpreter was; its exit is
reported as before; a zygote that dies is replaced; a zygote that preloads
torch never lends it to a child that forbids it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader import sandbox as sandbox_module
from grader.child.protocol import ErrorKind, Request
from grader.sandbox import Sandbox
from grader.spec import Limits
from tests.processes import alive, processes_of
from tests.toy import SUITE

PROGRAM = Request(SUITE.functions[0].program)  # out, _ = scale_forward(x)
TORCH_LIMITS = Limits(preload=("numpy", "torch"), packages=("numpy", "torch"), forbidden_modules=("tensorflow", "jax"))
ROOT = Path(__file__).resolve().parent.parent


def submission(folder: Path, body: str, name: str = "toy.py") -> Path:
    """A module whose scale_forward runs ``body`` (checks that raise on
    failure), then returns 2x."""
    path = folder / name
    path.write_text(f"import os, sys\n\ndef scale_forward(x):\n{textwrap.indent(textwrap.dedent(body), '    ')}\n"
                    "    return 2 * x, None\n")
    return path


def run_once(folder: Path, body: str, limits: Limits = Limits(), time_limit: float = 10):
    with Sandbox(submission(folder, body), "toy", limits) as sandbox:
        return sandbox.run(PROGRAM, {"x": np.ones(3)}, time_limit)


def zygote_pid(limits: Limits = Limits()) -> int:
    return sandbox_module._zygotes[limits.preload]._process.pid


def test_child_holds_only_its_pipes_log_and_scrubbed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_SEED", "the-secret")
    sandbox_module._stop_zygotes()  # the next zygote starts from this grader environment
    other = Sandbox(submission(tmp_path, "pass", "other.py"), "toy")
    try:
        other.run(PROGRAM, {"x": np.ones(3)}, 10)  # its status pipe is open in the zygote meanwhile
        outcome = run_once(tmp_path, """
            fds = {int(fd): os.readlink(f'/proc/self/fd/{fd}') for fd in os.listdir('/proc/self/fd')
                   if os.path.lexists(f'/proc/self/fd/{fd}')}
            assert fds[0] == '/dev/null' and fds[1] == fds[2] and 'log-' in fds[1], fds
            others = sorted(target.partition(':')[0] for fd, target in fds.items() if fd > 2)
            assert others == ['pipe', 'pipe'], fds
            assert (os.getppid(), os.getpid()) == (1, 2), 'not in a PID namespace of its own'
            assert os.getcwd() == os.environ['HOME'] and os.listdir('.') == ['toy.py']
            try:  # the environment it started with: the zygote's
                initial = open('/proc/self/environ', 'rb').read().decode()
            except PermissionError:  # unreadable to a child that switched from root to nobody
                initial = ''
            for environment in (str(os.environ), initial):
                assert 'the-secret' not in environment and 'DLGRADE' not in environment, environment
        """)
    finally:
        other.close()
    assert outcome.ok, outcome.message


@pytest.mark.parametrize("limits", [Limits(), TORCH_LIMITS], ids=["numpy", "torch-preloaded"])
def test_child_is_confined_before_the_submission_runs(tmp_path, limits):
    outcome = run_once(tmp_path, """
        import socket
        for attempt in (os.fork, lambda: os.system('true'),
                        lambda: socket.create_connection(('127.0.0.1', 22), timeout=1)):
            try:
                attempt()
            except (PermissionError, OSError):
                continue
            raise AssertionError(f'{attempt} was allowed')
        import resource
        assert resource.getrlimit(resource.RLIMIT_AS)[0] == 4 << 30
        assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0
        try:
            import scipy
        except ImportError as e:
            assert 'may not be used' in str(e), e
        else:
            raise AssertionError('scipy was imported')
    """, Limits(preload=limits.preload, packages=limits.packages, forbidden_modules=("scipy",)))
    assert outcome.ok, outcome.message


@pytest.mark.parametrize("body, message", [
    ("os._exit(3)", "exited with status 3"),
    ("import ctypes; ctypes.string_at(0)", "killed by SIGSEGV"),
    ("os.abort()", "killed by SIGABRT"),
    ("print('last words', flush=True); os.kill(os.getpid(), 9)", "killed by SIGKILL; its last output:\nlast words"),
    ("while True: pass", "killed by SIGXCPU (it used up its CPU time)"),
], ids=["exit-status", "segfault", "abort", "sigkill-with-output", "cpu-limit"])
def test_how_a_child_ended_is_reported(tmp_path, body, message):
    outcome = run_once(tmp_path, body, Limits(cpu_seconds=1))
    assert outcome.error is ErrorKind.CRASH and message in outcome.message, outcome.message


@pytest.mark.parametrize("then, error", [("while True: pass", ErrorKind.TIMEOUT), ("os._exit(0)", ErrorKind.CRASH)])
def test_what_a_child_leaves_behind_is_killed(tmp_path, then, error):
    """A grandchild in a session of its own (out of reach of a process-group
    kill), started by native code past the audit hook: gone with the child."""
    source = submission(tmp_path, f"""
        import ctypes
        libc = ctypes.CDLL(None)
        if libc.fork() == 0:
            libc.setsid()
            if libc.fork() == 0:
                while True: pass
            os._exit(0)
        {then}
    """)
    with Sandbox(source, "toy", Limits(allow_processes=True)) as sandbox:
        uid = sandbox._request["uid"]
        assert sandbox.run(PROGRAM, {"x": np.ones(3)}, 1).error is error
        deadline = time.monotonic() + 5
        while processes_of(uid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not processes_of(uid)


def test_a_dead_zygote_is_replaced(tmp_path):
    with Sandbox(submission(tmp_path, "if x[0] < 0: os._exit(3)"), "toy") as sandbox:
        assert sandbox.run(PROGRAM, {"x": np.ones(3)}, 10).ok
        old = zygote_pid()
        keeper = sandbox._child.pid
        os.kill(old, signal.SIGKILL)
        # The child it had forked dies with it (a parent-death signal: nothing
        # would be left to report how it ended, or to kill it), and says so.
        deadline = time.monotonic() + 10
        while alive(keeper) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not alive(keeper)
        crash = sandbox.run(PROGRAM, {"x": np.ones(3)}, 10)
        assert crash.error is ErrorKind.CRASH and "how was lost" in crash.message, crash.message
        # The next child comes from a fresh zygote, and reports as before.
        assert sandbox.run(PROGRAM, {"x": np.ones(3)}, 10).ok
        assert zygote_pid() != old
        crash = sandbox.run(PROGRAM, {"x": -np.ones(3)}, 10)
        assert "exited with status 3" in crash.message, crash.message


def test_no_torch_in_a_numpy_child_while_a_torch_zygote_runs(tmp_path):
    with Sandbox(submission(tmp_path, "assert 'torch' in sys.modules", "t.py"), "toy", TORCH_LIMITS) as torch_child:
        assert torch_child.run(PROGRAM, {"x": np.ones(3)}, 10).ok
        outcome = run_once(tmp_path, """
            assert not [m for m in sys.modules if m.startswith('torch')], 'torch is loaded'
            import torch
        """)
        assert outcome.error is ErrorKind.EXCEPTION and "torch may not be used" in outcome.message, outcome.message
        assert zygote_pid(TORCH_LIMITS) != zygote_pid()


@pytest.mark.gpu
def test_a_child_of_a_torch_zygote_can_use_cuda(tmp_path):
    """The zygote imports torch but never initialises CUDA, which a forked
    process could not use again."""
    outcome = run_once(tmp_path, """
        import torch
        x = (torch.from_numpy(x).cuda() * 2).cpu().numpy() / 2
    """, Limits(preload=("numpy", "torch"), packages=("numpy", "torch"), forbidden_modules=(), memory_bytes=None,
                gpu=True))
    assert outcome.ok, outcome.message
    assert np.array_equal(outcome.outputs["out"], 2 * np.ones(3))


def test_a_preloaded_module_is_never_forbidden(tmp_path):
    with pytest.raises(ValueError, match="torch cannot be both preloaded and forbidden"):
        Limits(preload=("numpy", "torch.nn"))
    # Brought in by a preloaded module rather than named: refused before any child starts.
    with pytest.raises(RuntimeError, match="preloading numpy also loads re, which the assignment forbids"):
        run_once(tmp_path, "pass", Limits(forbidden_modules=("re",)))


def test_children_of_one_zygote_cannot_see_each_others_folders(tmp_path):
    first_folder, second_folder = tmp_path / "first", tmp_path / "second"
    first_folder.mkdir()
    second_folder.mkdir()
    first = Sandbox(submission(first_folder, "pass"), "toy")
    try:
        assert first.run(PROGRAM, {"x": np.ones(3)}, 10).ok
        outcome = run_once(second_folder, f"""
            for path in ({str(first._workdir)!r}, {str(first._workdir / 'toy.py')!r}, {str(first._workdir.parent)!r}):
                assert not os.path.exists(path), path + ' is visible'
        """)
    finally:
        first.close()
    assert outcome.ok, outcome.message


GRADER_SCRIPT = """
import os, sys, time
from pathlib import Path
import numpy as np
from grader import sandbox as sandbox_module
from grader.child.protocol import Request
from grader.sandbox import Sandbox
from grader.spec import Limits
from tests.toy import SUITE

program = Request(SUITE.functions[0].program)
module = Path(sys.argv[1])
module.write_text("def scale_forward(x):\\n    while x[0] < 0: pass\\n    return 2 * x, None\\n")

def serve_one():
    sandbox = Sandbox(module, "toy")
    assert sandbox.run(program, {"x": np.ones(3)}, 10).ok
    return sandbox

sandbox = serve_one()
zygote = sandbox_module._zygotes[Limits().preload]._process.pid
"""


def _grader(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", GRADER_SCRIPT + textwrap.dedent(script), str(tmp_path / "toy.py")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})


def test_a_forked_grader_starts_its_own_zygote(tmp_path):
    run = _grader(tmp_path, """
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                forked = serve_one()
                code = 0 if sandbox_module._zygotes[Limits().preload]._process.pid != zygote else 2
                forked.close()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        serve_one().close()
        assert sandbox_module._zygotes[Limits().preload]._process.pid == zygote, "the parent's zygote was replaced"
        print("ok")
    """)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_zygote_and_its_children_end_with_the_grader(tmp_path):
    run = _grader(tmp_path, """
        import threading
        threading.Thread(target=sandbox.run, args=(program, {"x": -np.ones(3)}, 60), daemon=True).start()
        time.sleep(0.5)  # the child is now busy in a loop: only being killed ends it
        print(zygote, sandbox._child.pid, flush=True)
        os.kill(os.getpid(), 9)
    """)
    assert run.returncode == -signal.SIGKILL, run.stderr
    pids = [int(pid) for pid in run.stdout.split()]
    deadline = time.monotonic() + 10
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, pids)), pids
