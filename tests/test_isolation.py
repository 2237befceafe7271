"""The sandbox's isolation, attacked with real payloads (issue 10, properties
1 to 7): an allow-list view, a PID namespace of its own, never uid 0, memory
and processes held by a cgroup, size-limited scratch space, nothing secret in
reach, forbidden modules absent rather than hooked.

These run here, in CI, as root with Python in root's private home: the case
the view exists for. Payloads that signal every process they can reach run
in a PID namespace of their own, made by ``unshare``, so that a sandbox that
failed to hold could not hit the test runner.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader import sandbox as sandbox_module
from grader.child.confine import Confinement
from grader.child.protocol import ErrorKind
from grader.child.zygote import sweep
from grader.course import Course
from grader.sandbox import Sandbox, UnconfinedError
from grader.spec import Limits
from tests.processes import processes_of
from tests.test_zygote import PROGRAM, ROOT, run_once, submission


def test_the_view_holds_only_what_the_child_is_given(tmp_path):
    secret = tmp_path / "beside-the-submission.txt"
    secret.write_text("answers")
    numpy_folder = Path(np.__file__).parent
    torch_folder = Path(np.__file__).parent.parent / "torch"
    outcome = run_once(tmp_path, f"""
        import glob
        for path in ({str(secret)!r}, {str(ROOT / '.git')!r}, {str(ROOT / 'solutions')!r},
                     {str(ROOT / 'grader' / 'suites')!r}, {str(ROOT.parent / 'shared')!r},
                     {str(torch_folder)!r}, '/home', '/etc/passwd', '/var', '/opt', '/run', '/sys'):
            assert not os.path.exists(path), path + ' is visible'
        assert sorted(os.listdir({str(ROOT)!r})) == ['.venv', 'grader'], os.listdir({str(ROOT)!r})
        assert os.listdir({str(ROOT / 'grader')!r}) == ['child'], 'more of the grader than its child code'
        site = {str(numpy_folder.parent)!r}
        assert all(name.startswith('numpy') for name in os.listdir(site)), os.listdir(site)
        assert os.path.isdir({str(numpy_folder)!r})
        assert os.getcwd() == '/submission' and os.listdir('.') == ['toy.py']
        numbers = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
        assert numbers[:2] == [1, 2], numbers  # its own processes: init and itself
        assert sorted(os.listdir('/dev')) == ['full', 'null', 'random', 'shm', 'urandom', 'zero'], os.listdir('/dev')
        import json, fractions, decimal, statistics  # the standard library is all there
    """)
    assert outcome.ok, outcome.message


def test_nothing_in_the_view_is_writable_but_scratch_space(tmp_path):
    site = Path(np.__file__).parent.parent
    outcome = run_once(tmp_path, f"""
        for path in ({str(site / 'evil.pth')!r}, {str(Path(np.__file__).parent / '__init__.py')!r},
                     '/evil', '/usr/lib/evil', {str(ROOT / 'grader' / 'child' / 'main.py')!r}):
            try:
                open(path, 'a').write('import os')
            except OSError:
                continue
            raise AssertionError(path + ' is writable')
        for scratch in ('/tmp', '/dev/shm', '.'):
            open(os.path.join(scratch, 'note'), 'w').write('ok')
    """)
    assert outcome.ok, outcome.message


def test_forbidden_modules_are_absent_not_only_refused(tmp_path):
    """Taking the import hook away finds no torch: it is not in the view."""
    outcome = run_once(tmp_path, """
        sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != 'ForbiddenModules']
        try:
            import torch
        except ModuleNotFoundError as e:
            assert "No module named 'torch'" in str(e), e
        else:
            raise AssertionError('torch was imported')
    """)
    assert outcome.ok, outcome.message


def test_never_root_no_capabilities_and_a_uid_of_its_own(tmp_path):
    body = """
        status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
        assert os.getuid() != 0 and os.geteuid() != 0 and os.getgid() != 0, 'root'
        for caps in ('CapEff', 'CapPrm', 'CapInh', 'CapAmb'):
            assert int(status[caps], 16) == 0, (caps, status[caps])
        assert status['NoNewPrivs'].strip() == '1'
        print(os.getuid(), flush=True)
    """
    with Sandbox(submission(tmp_path, body, "a.py"), "toy") as first, \
            Sandbox(submission(tmp_path, body, "b.py"), "toy") as second:
        for box in (first, second):
            outcome = box.run(PROGRAM, {"x": np.ones(3)}, 10)
            assert outcome.ok, outcome.message
        uids = {int(first.output_tail()), int(second.output_tail())}
    assert len(uids) == 2 and 0 not in uids


KILL_EVERYTHING = """
import ctypes, os, signal, sys
from pathlib import Path
import numpy as np
from grader.sandbox import Sandbox
from grader.spec import Limits
from tests.test_zygote import PROGRAM, submission

folder = Path(sys.argv[1])
limits = Limits(allow_processes=True)
neighbour = Sandbox(submission(folder, "pass", "neighbour.py"), "toy", limits)
assert neighbour.run(PROGRAM, {"x": np.ones(3)}, 10).ok
attacker = Sandbox(submission(folder, '''
    import ctypes, time
    libc = ctypes.CDLL(None)
    if libc.fork() == 0:  # a daemon: out of its session, sleeping, then signalling again
        libc.setsid()
        if libc.fork() == 0:
            time.sleep(2)
            libc.kill(-1, 9)
        os._exit(0)
    for target in (-1, 1, os.getppid()):
        libc.kill(target, 9)
    libc.killpg(0, 9)
''', "attacker.py"), "toy", limits)
outcome = attacker.run(PROGRAM, {"x": np.ones(3)}, 10)
print("attacker:", outcome.error or "ok", flush=True)
uid = attacker._request["uid"]
attacker.close()
assert neighbour.run(PROGRAM, {"x": np.ones(3)}, 10).ok, "the neighbour was hit"
import time
time.sleep(3)  # past the daemon's wake-up, had it survived
assert neighbour.run(PROGRAM, {"x": np.ones(3)}, 10).ok, "the neighbour was hit later"
left = [p for p in os.listdir("/proc") if p.isdigit() and Path(f"/proc/{p}/status").exists()
        and f"Uid:\\t{uid}\\t" in Path(f"/proc/{p}/status").read_text()]
assert not left, left
neighbour.close()
print("grader alive", flush=True)
"""


@pytest.mark.skipif(shutil.which("unshare") is None,
                    reason="needs util-linux's unshare for the payload's own PID namespace")
def test_kill_everything_reaches_only_the_childs_own_processes(tmp_path):
    run = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", KILL_EVERYTHING,
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stdout + run.stderr
    # killpg(0) ends the attacker itself (a crash of its own); nothing else.
    assert "attacker: crash" in run.stdout and "grader alive" in run.stdout, run.stdout + run.stderr


def test_memory_is_held_by_a_cgroup_also_without_an_address_space_limit(tmp_path):
    limits = Limits(memory_bytes=None, resident_memory_bytes=256 << 20)
    with Sandbox(submission(tmp_path, "b = bytearray(1 << 30)"), "toy", limits) as box:
        if box.guarantees["cgroup"] == "none":
            pytest.fail("no cgroup could be made here, as root: the memory limit would not hold for CUDA children")
        outcome = box.run(PROGRAM, {"x": np.ones(3)}, 30)
    assert outcome.error is ErrorKind.CRASH and "over the memory limit of 256 MiB" in outcome.message, outcome.message


def test_the_number_of_processes_is_capped(tmp_path):
    outcome = run_once(tmp_path, """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        made = 0
        for _ in range(200):
            pid = libc.fork()
            if pid == 0:
                import time; time.sleep(30)
                os._exit(0)
            if pid < 0:
                break
            made += 1
        assert made < 64, f'{made} processes'
    """, Limits(allow_processes=True, processes=16))
    assert outcome.ok, outcome.message


def test_filling_the_scratch_space_fails_only_that_case(tmp_path):
    free_before = shutil.disk_usage(tmp_path).free
    with Sandbox(submission(tmp_path, """
        if x[0] > 0:
            for place in ('/tmp', '/dev/shm', '.'):
                try:
                    with open(os.path.join(place, 'fill'), 'wb') as f:
                        for _ in range(100):
                            f.write(b'x' * (1 << 20))
                except OSError as e:
                    assert e.errno == 28, e  # ENOSPC: its own tmpfs is full
                else:
                    raise AssertionError(place + ' took 100 MiB')
            raise ValueError('filled')
    """), "toy", Limits(scratch_bytes=16 << 20, file_bytes=1 << 30)) as box:
        filled = box.run(PROGRAM, {"x": np.ones(3)}, 30)
        assert filled.error is ErrorKind.EXCEPTION and "filled" in filled.message, filled.message
        assert box.run(PROGRAM, {"x": -np.ones(3)}, 30).ok
    assert shutil.disk_usage(tmp_path).free > free_before - (32 << 20)


def test_the_grader_is_not_dumpable_and_out_of_sight(tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_SEED", "the-secret")
    outcome = run_once(tmp_path, f"""
        for pid in (p for p in os.listdir('/proc') if p.isdigit()):
            for what in ('cmdline', 'environ'):
                try:
                    text = open(f'/proc/{{pid}}/{{what}}', 'rb').read()
                except OSError:
                    continue
                assert b'the-secret' not in text, (pid, what)
        assert not os.path.exists('/proc/{os.getpid()}/mem') or {os.getpid()} in (1, 2), 'the grader is in sight'
        try:
            open('/proc/1/mem', 'rb').read(1)
        except OSError:
            pass
        else:
            raise AssertionError("read init's memory")
    """)
    assert outcome.ok, outcome.message
    PR_GET_DUMPABLE = 3
    assert ctypes.CDLL(None).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0


def test_unconfined_is_refused_unless_allowed(tmp_path, monkeypatch):
    zygote = sandbox_module._zygote_for(Limits())
    monkeypatch.setattr(zygote, "namespaces", False)
    monkeypatch.setattr(sandbox_module, "_python_readable_by_others", lambda: False)
    with pytest.raises(UnconfinedError, match="--allow-unconfined"):
        Sandbox(submission(tmp_path, "pass"), "toy")
    with Sandbox(submission(tmp_path, "pass"), "toy", allow_unconfined=True) as box:
        assert box.confinement is Confinement.UNCONFINED
        assert box.guarantees["confinement"] == "unconfined"
        assert box.run(PROGRAM, {"x": np.ones(3)}, 10).ok


def test_uid_only_fallback_sweeps_every_process_of_the_uid():
    """Without namespaces nothing ends a daemon but the uid: the zygote kills
    every process of that uid after each child."""
    uid = sandbox_module.UID_RANGE[-1]
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.setgid(uid)
        os.setuid(uid)
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(60)
        os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + 5
    while not processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert processes_of(uid), "the daemon did not start"
    sweep(uid)
    deadline = time.monotonic() + 5
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not processes_of(uid)


def test_a_torch_child_sees_torch_and_what_it_requires(tmp_path):
    torch_limits = Limits(preload=("numpy", "torch"), packages=("numpy", "torch"), forbidden_modules=())
    outcome = run_once(tmp_path, textwrap.dedent("""
        import torch, torch.nn.functional as F
        assert F.relu(torch.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
        import sympy, networkx  # required by torch, imported lazily by parts of it
    """), torch_limits)
    assert outcome.ok, outcome.message


NON_ROOT_GRADER = """
import os, sys
from pathlib import Path
import numpy as np
from grader.sandbox import Sandbox
from tests.test_zygote import PROGRAM, submission

assert os.geteuid() != 0
box = Sandbox(submission(Path(sys.argv[1]), '''
    status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
    assert int(status['CapEff'], 16) == 0 and status['NoNewPrivs'].strip() == '1', status
    assert os.getuid() == 1000, os.getuid()
    assert (os.getppid(), os.getpid()) == (1, 2)
    assert not os.path.exists(%r) and os.listdir('.') == ['toy.py']
''' % str(Path.cwd() / "solutions")), "toy")
outcome = box.run(PROGRAM, {"x": np.ones(3)}, 30)
assert outcome.ok, outcome.message
print(box.guarantees["confinement"], flush=True)
box.close()
"""


def _private_ancestor(path: Path) -> Path | None:
    """The outermost folder on the way to ``path`` that other users cannot pass."""
    for folder in reversed((path, *path.parents)):
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None or shutil.which("unshare") is None,
                    reason="runs a grader as another user: needs root, setpriv and unshare")
def test_a_grader_that_is_not_root_confines_through_a_user_namespace(tmp_path):
    """The level a non-root instructor gets on Linux: the same view and PID
    namespace inside a user namespace, the student's uid 1000 there with no
    capabilities. Here the grader is run as nobody; where Python lives in a
    private home, a mount namespace of the test's own lets nobody run it."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-nonroot-"))
    os.chmod(folder, 0o777)
    try:
        private = _private_ancestor(Path(sys.base_prefix).resolve())
        cover = ""
        if private is not None:  # bind what Python needs back over an open tmpfs on the private folder
            inner = Path(sys.base_prefix).resolve().relative_to(private).parts[0]
            keep = folder / "keep"
            keep.mkdir()
            cover = (f"mount --bind {private / inner} {keep} && mount -t tmpfs -o mode=0755 tmpfs {private} && "
                     f"mkdir {private / inner} && mount --bind {keep} {private / inner} && ")
        command = (f"{cover}exec setpriv --reuid=65534 --regid=65534 --clear-groups env TMPDIR={folder} "
                   f"PYTHONPATH={ROOT} {sys.executable} -c \"$0\" {folder}")
        run = subprocess.run(["unshare", "--mount", "sh", "-c", command, NON_ROOT_GRADER], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run(["rm", "-rf", str(folder)])
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "namespaces", run.stdout + run.stderr


def test_uid_only_fallback_runs_as_its_own_uid_and_leaves_no_process(tmp_path, monkeypatch):
    """Where the kernel refuses namespaces (as in some containers), as root:
    a uid of the child's own, every process of it killed after the child."""
    zygote = sandbox_module._zygote_for(Limits())
    monkeypatch.setattr(zygote, "namespaces", False)
    monkeypatch.setattr(sandbox_module, "_python_readable_by_others", lambda: True)
    secret = tmp_path / "secret"
    secret.mkdir(mode=0o700)
    (secret / "answers.txt").write_text("42")
    source = submission(tmp_path, f"""
        assert os.getuid() != 0 and os.geteuid() != 0
        try:
            open({str(secret / 'answers.txt')!r}).read()
        except PermissionError:
            pass
        else:
            raise AssertionError('read the secret')
        import ctypes
        libc = ctypes.CDLL(None)
        if libc.fork() == 0:
            libc.setsid()
            while True: pass
    """)
    with Sandbox(source, "toy", Limits(allow_processes=True), hide=(secret,)) as box:
        assert box.confinement is Confinement.UID_ONLY
        uid = box._request["uid"]
        outcome = box.run(PROGRAM, {"x": np.ones(3)}, 10)
        assert outcome.ok, outcome.message
        box._child.kill()
        # The zygote reports how the child ended once it has swept the uid.
        assert box._child.returncode(timeout=30) == -signal.SIGKILL
        assert not processes_of(uid)


def test_uid_only_is_refused_where_a_hidden_folder_is_readable_by_anyone(tmp_path, monkeypatch):
    zygote = sandbox_module._zygote_for(Limits())
    monkeypatch.setattr(zygote, "namespaces", False)
    monkeypatch.setattr(sandbox_module, "_python_readable_by_others", lambda: True)
    monkeypatch.setattr(sandbox_module, "_readable_by_others", lambda path: True)
    with pytest.raises(UnconfinedError, match="any user can read"):
        Sandbox(submission(tmp_path, "pass"), "toy", hide=(tmp_path,))


def _seen_in_a_view(tmp_path, spec: dict, look) -> str:
    """What ``look()`` returns, run in a fresh mount and PID namespace inside
    the view ``spec`` describes (``grader/child/view.py``)."""
    from grader.child import confine, view

    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "toy.py").write_text("pass\n")
    spec = {"read_only": [], "masks": [], "inside_masks": [], "devices": ["/dev/null"], "home": "/submission",
            "home_bytes": 1 << 20, "tmp_bytes": 1 << 20, **spec}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            assert ctypes.CDLL(None).unshare(confine.CLONE_NEWNS | confine.CLONE_NEWPID) == 0
            inner = os.fork()
            if inner == 0:
                view.build(spec, str(workdir), 65534, 65534)
                os.write(write, look().encode())
                os._exit(0)
            code = os.waitstatus_to_exitcode(os.waitpid(inner, 0)[1])
        finally:
            os._exit(code)
    os.close(write)
    seen = os.read(read, 4096).decode()
    os.close(read)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, seen
    return seen


def test_a_runtime_that_lives_under_tmp_stays_in_the_view(tmp_path):
    """A checkout (and its virtualenv) under /tmp, as a CI clone may be: the
    view's own /tmp must not cover what was bound in from there."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "module.py").write_text("VALUE = 1\n")
    seen = _seen_in_a_view(tmp_path, {"read_only": [str(runtime)]},
                           lambda: open(runtime / "module.py").read() + "|" + ",".join(os.listdir("/")))
    text, _, top = seen.partition("|")
    assert text == "VALUE = 1\n" and "tmp" in top.split(","), seen


def test_a_grader_whose_sys_path_holds_tmp_leaves_tmp_writable(tmp_path):
    """A grader run from a script in /tmp has /tmp on sys.path, so /tmp is
    among the folders the view masks: the view's /tmp is a fresh tmpfs, with
    nothing of the host's to cover, and must stay the student's scratch."""

    def write_in_tmp() -> str:
        with open("/tmp/scratch.txt", "w") as scratch:
            scratch.write("written")
        return open("/tmp/scratch.txt").read()

    assert _seen_in_a_view(tmp_path, {"masks": ["/tmp", "/dev/shm"]}, write_in_tmp) == "written"


RELATIVE_PATH_GRADE = """
import dataclasses, sys
sys.path.insert(0, ".")  # a relative entry, as a script run from the course folder may add
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.suites import SUITES
suite = SUITES["neuron"]
suite = dataclasses.replace(suite, functions=suite.functions[:1])
result = grade_submission(suite, Course.locate().solution_dir(suite) / "neuron.py", Secret("relative"))
print(result.status.value, result.score, result.max_score, result.message)
"""


def test_a_relative_entry_on_the_graders_sys_path_keeps_the_view_whole():
    """A relative ``sys.path`` entry is masked where it points, not at the
    view's own root (which made every sandbox fail to set up)."""
    done = subprocess.run([sys.executable, "-c", RELATIVE_PATH_GRADE], capture_output=True, text=True,
                          cwd=Course.locate().root, timeout=120)
    status, score, max_score, *_ = done.stdout.split() + ["", "", ""]
    assert (status, score) == ("graded", max_score), done.stdout + done.stderr
