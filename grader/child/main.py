"""What the untrusted process does: confine itself, import the submission,
then answer case requests until the grader closes the pipe.

``serve`` runs in a process freshly forked by the zygote (``zygote.py``), which
has set up its descriptors, folder and environment. It confines itself
(``confine.py``: namespaces and the allow-list view, then its own uid, limits
and guards), then imports the submission. It receives inputs and programs
only, never expected values or the suite, and sends back plain arrays or an
error message. Everything here depends on numpy and the standard library only;
this folder must never import the rest of ``grader``.
"""

import importlib.util
import os
import sys

from confine import isolate, restrict
from program import StudentError, builtin_named, describe_exception, run_program
from protocol import ErrorKind, ProtocolError, ReplyKind, decode_request
from wire import encode, read_message


def serve(request_fd: int, result_fd: int, request: dict) -> None:
    try:
        home = isolate(request, (request_fd, result_fd))
        module_file = os.path.join(home, request["module"] + ".py")
        os.chdir(home)
        guarantees = restrict(request)
    except OSError as e:  # the grader's side of things failed, not the submission: said as such
        os.write(result_fd, encode({"kind": ReplyKind.SETUP_ERROR, "message": f"{type(e).__name__}: {e}"}))
        return
    # Our own references to the pipes: student code that closes fd 0-2 or
    # rebinds sys.stdout cannot touch them.
    requests = os.fdopen(request_fd, "rb", buffering=0)
    results = os.fdopen(result_fd, "wb", buffering=0)
    sys.path.insert(0, home)
    try:
        for name in request["setup"]:  # the task's own preparations (Limits.cpu_setup), trusted code
            builtin_named(name)()
    except Exception as e:  # noqa: BLE001 - the grading machine's failure (a package missing), not the submission's
        results.write(encode({"kind": ReplyKind.SETUP_ERROR,
                              "message": f"preparing the child failed: {describe_exception(e, module_file)}"}))
        return

    try:
        module = import_submission(module_file)
    except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt at import are reported too
        results.write(encode({"kind": ReplyKind.IMPORT_ERROR, "message": describe_import_error(e, module_file)}))
        return
    results.write(encode({"kind": ReplyKind.READY, **guarantees}))

    def read_exactly(n: int) -> bytes:
        chunks = []
        while n:
            chunk = requests.read(n)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    kept: dict[str, object] = {}  # what programs asked to keep (Program.keep), for the submission's later ones
    while True:
        try:
            meta, arrays = read_message(read_exactly)
        except EOFError:
            return
        try:
            request = decode_request(meta.get("request"))
            scalars = meta.get("scalars")
            if not isinstance(scalars, dict):
                raise ProtocolError("the scalars are not an object")
            outputs = run_program(module, request, {**scalars, **arrays}, module_file, kept)
        except ProtocolError as e:  # the grader's own message is wrong: said as such, never blamed on the student
            results.write(encode({"kind": ReplyKind.ERROR, "error": ErrorKind.PROTOCOL,
                                  "message": f"the grader sent a malformed request ({e})", "blocked_by": None}))
            continue
        except StudentError as e:
            results.write(encode({"kind": ReplyKind.ERROR, "error": e.kind, "message": e.message,
                                  "blocked_by": e.blocked_by}))
            continue
        results.write(encode({"kind": ReplyKind.OUTPUTS}, outputs))  # run_program kept them within the wire's limit


def import_submission(module_file: str):
    name = os.path.splitext(os.path.basename(module_file))[0]
    spec = importlib.util.spec_from_file_location(name, module_file)
    if spec is None or spec.loader is None:  # not a .py file: the grader always hands the child one
        raise ImportError(f"cannot import {module_file}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def describe_import_error(e: BaseException, module_file: str) -> str:
    base = os.path.basename(module_file)
    if isinstance(e, SyntaxError):
        return f"{base} has a syntax error at line {e.lineno}: {e.msg}"
    if isinstance(e, SystemExit):
        return f"{base} called sys.exit({e.code!r}) while being imported; keep top-level code to definitions"
    return f"importing {base} failed: {describe_exception(e, module_file)}"
