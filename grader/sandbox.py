"""The trusted side of the process boundary.

A ``Sandbox`` runs one submission in a child process (``grader/child/main.py``)
started with ``python -I`` in a fresh temporary directory that holds a copy of
the submission only, with a scrubbed environment, in its own process group.
The grader sends a case's inputs and program; the child answers with plain
arrays or an error. A case that hangs past its time limit, or a child that
exits or crashes, fails that case only: the child is killed and a fresh one
serves the next case.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.child.wire import WireError, encode, read_message

CHILD_MAIN = Path(__file__).resolve().parent / "child" / "main.py"
# Inherited only where set: OpenBLAS builds need them on some processors.
PASSED_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
STARTUP_TIME_LIMIT = 60.0  # seconds to import numpy and the submission
OUTPUT_TAIL_BYTES = 2000


@dataclass
class Outcome:
    """What one case produced: outputs, or an error of a known kind."""

    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None  # missing, not_implemented, exception, exit, bad_return, import, timeout, crash, protocol
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


class _ChildGone(Exception):
    pass


class _Timeout(Exception):
    pass


class Sandbox:
    def __init__(self, module_file: Path, module_name: str):
        self._workdir = Path(tempfile.mkdtemp(prefix="dlgrade-"))
        self._module_file = self._workdir / f"{module_name}.py"
        _copy_submission(Path(module_file), self._module_file)
        self._proc: subprocess.Popen | None = None
        self._import_error: str | None = None
        self._log_path = Path(tempfile.mkstemp(prefix="dlgrade-child-", suffix=".log")[1])

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._kill()
        shutil.rmtree(self._workdir, ignore_errors=True)
        self._log_path.unlink(missing_ok=True)

    def run(self, program: dict, inputs: dict, time_limit: float) -> Outcome:
        if self._import_error is None and self._proc is None:
            self._start()
        if self._import_error is not None:
            return Outcome(error="import", message=self._import_error)
        scalars = {k: v for k, v in inputs.items() if not isinstance(v, np.ndarray)}
        arrays = {k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}
        deadline = time.monotonic() + time_limit
        try:
            self._send(encode({"program": program, "scalars": scalars}, arrays), deadline)
            meta, outputs = self._receive(deadline)
        except _Timeout:
            self._kill()
            return Outcome(error="timeout", message=f"did not finish within the time limit of {time_limit:g} s")
        except (_ChildGone, BrokenPipeError):
            return Outcome(error="crash", message=self._describe_death())
        except WireError as e:
            self._kill()
            return Outcome(error="protocol", message=f"the process running your code sent a malformed result ({e})")
        if meta.get("kind") == "error":
            return Outcome(error=str(meta.get("error")), message=str(meta.get("message")))
        if meta.get("kind") != "outputs":
            self._kill()
            return Outcome(error="protocol", message="the process running your code sent an unexpected message")
        return Outcome(outputs=outputs)

    # -- child lifecycle ---------------------------------------------------

    def _start(self) -> None:
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        env = {"PATH": os.defpath, "HOME": str(self._workdir), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
               # One thread each: fair timings, and many children side by side.
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        env.update({k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ})
        with open(self._log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(CHILD_MAIN), str(request_r), str(result_w), str(self._module_file)],
                pass_fds=(request_r, result_w), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self._workdir, env=env, start_new_session=True,
            )
        os.close(request_r)
        os.close(result_w)
        self._requests, self._results = request_w, result_r
        try:
            meta, _ = self._receive(time.monotonic() + STARTUP_TIME_LIMIT)
        except _Timeout:
            self._kill()
            self._import_error = f"importing the submission did not finish within {STARTUP_TIME_LIMIT:g} s"
            return
        except (_ChildGone, WireError):
            self._import_error = "the submission ended the process while being imported: " + self._describe_death()
            return
        if meta.get("kind") != "ready":
            self._kill()
            self._import_error = str(meta.get("message", "the submission could not be imported"))

    def _kill(self) -> None:
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._proc.wait()
        for fd in (self._requests, self._results):
            os.close(fd)
        self._proc = None

    def _describe_death(self) -> str:
        proc = self._proc
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._kill()
        if code is None:
            what = "the process running your code stopped answering"
        elif code < 0:
            what = f"the process running your code was killed by {signal.Signals(-code).name}"
        else:
            what = f"the process running your code exited with status {code} (os._exit, or a crash)"
        tail = self.output_tail()
        return what + (f"; its last output:\n{tail}" if tail else "")

    def output_tail(self) -> str:
        """The end of what the student's code printed, for context in messages."""
        try:
            with open(self._log_path, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - OUTPUT_TAIL_BYTES))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    # -- pipes ----------------------------------------------------------------

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [self._requests], [], remaining)[1]:
                raise _Timeout
            written = os.write(self._requests, view)
            view = view[written:]

    def _receive(self, deadline: float):
        def read_exactly(n: int) -> bytes:
            chunks = []
            while n:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self._results], [], [], remaining)[0]:
                    raise _Timeout
                chunk = os.read(self._results, min(n, 1 << 20))
                if not chunk:
                    raise _ChildGone
                chunks.append(chunk)
                n -= len(chunk)
            return b"".join(chunks)

        return read_message(read_exactly)


def _copy_submission(source: Path, target: Path) -> None:
    """The graded module under its expected name, with the other ``.py`` files of
    its folder (helper modules), and nothing else."""
    for sibling in source.parent.glob("*.py"):
        if sibling != source and not sibling.name.startswith("test_"):
            shutil.copyfile(sibling, target.parent / sibling.name)
    shutil.copyfile(source, target)
