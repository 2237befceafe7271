"""``dlgrade check [PATH]``: the public tests, with a summary per function.

Students run it in their assignment folder. It runs pytest on the folder's
``test_public.py`` in a subprocess, with this module loaded as a pytest
plugin that prints one line per student function at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.course import Course, infer_assignment

FUNCTIONS_VARIABLE = "DLGRADE_CHECK_FUNCTIONS"
PUBLIC_TESTS = "test_public.py"


def main(args) -> int:
    from grader.cli import EXIT_USAGE
    from grader.suites import SUITES

    path = Path(args.path).resolve()
    suite = infer_assignment(path, SUITES)
    if path.is_dir() and (path / PUBLIC_TESTS).is_file():
        return _run_pytest(path, suite.student_functions if suite else ())
    if suite is None:
        print(f"dlgrade check: {path} is not an assignment folder (it has no {PUBLIC_TESTS}) and its name "
              f"matches no assignment ({', '.join(SUITES)})", file=sys.stderr)
        return EXIT_USAGE
    tests = Course.locate().assignment_dir(suite) / PUBLIC_TESTS
    source = path / f"{suite.module}.py" if path.is_dir() else path
    if not source.is_file() or not tests.is_file():
        missing = source if not source.is_file() else tests
        print(f"dlgrade check: {missing} does not exist", file=sys.stderr)
        return EXIT_USAGE
    # A file under another name (e.g. examples/submissions/neuron/buggy.py): check
    # a copy under the module's name beside the public tests.
    with tempfile.TemporaryDirectory(prefix="dlgrade-check-") as tmp:
        shutil.copyfile(source, Path(tmp) / f"{suite.module}.py")
        shutil.copyfile(tests, Path(tmp) / PUBLIC_TESTS)
        return _run_pytest(Path(tmp), suite.student_functions, shown_as=source)


def _run_pytest(folder: Path, functions: tuple[str, ...], shown_as: Path | None = None) -> int:
    print(f"Public checks for {shown_as or folder}")
    env = {**os.environ, FUNCTIONS_VARIABLE: ",".join(functions)}
    command = [sys.executable, "-m", "pytest", "-q", "--no-header", "--tb=no", "-rN", "-p", "no:cacheprovider",
               "-p", "grader.check", "--rootdir", str(folder), str(folder / PUBLIC_TESTS)]
    return subprocess.run(command, cwd=folder, env=env).returncode


# -- pytest plugin (runs inside the pytest subprocess) -------------------------

_outcomes: dict[str, list[tuple[bool, str]]] = {}


def _function_of(test_name: str, functions: list[str]) -> str:
    name = test_name.split("[")[0].removeprefix("test_")
    matching = [f for f in functions if name == f or name.startswith(f + "_")]
    return max(matching, key=len) if matching else "other checks"


def _reason(report) -> str:
    text = str(report.longrepr)
    if "NotImplementedError" in text:
        return "not implemented yet"
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash else text
    return message.splitlines()[0][:160] if message else "failed"


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.failed):
        functions = [f for f in os.environ.get(FUNCTIONS_VARIABLE, "").split(",") if f]
        fn = _function_of(report.nodeid.split("::")[-1], functions)
        _outcomes.setdefault(fn, []).append((report.passed, "" if report.passed else _reason(report)))


def summary_lines(outcomes: dict[str, list[tuple[bool, str]]]) -> list[str]:
    """One line per function (ok or FAIL, checks passed, the distinct reasons of
    the failures), then the count of passing checks. Also used by ``%check`` in
    the student notebooks (grader/notebook_checks.py)."""
    width = max(len(f) for f in outcomes)
    lines = []
    for fn, results in outcomes.items():
        passed = sum(ok for ok, _ in results)
        reasons = list(dict.fromkeys(r for ok, r in results if not ok))
        mark = "ok  " if passed == len(results) else "FAIL"
        lines.append(f"  {mark} {fn:<{width}}  {passed}/{len(results)}  {'; '.join(reasons)}".rstrip())
    total = sum(len(r) for r in outcomes.values())
    passed = sum(ok for r in outcomes.values() for ok, _ in r)
    return lines + [f"{passed} of {total} public checks pass."]


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    *per_function, total = summary_lines(_outcomes)
    for line in ["", *per_function, ""]:
        terminalreporter.write_line(line)
    all_pass = all(ok for results in _outcomes.values() for ok, _ in results)
    terminalreporter.write_line(total + ("" if all_pass else
                                         " Run `pytest test_public.py` in the folder for full tracebacks."))
