"""``%check``: the public checks of a student notebook, run on the notebook's own functions.

The first code cell of a generated notebook loads this IPython extension
(``%load_ext grader.notebook_checks``). Then ``%check neuron.sigmoid_forward``
runs the public tests of ``sigmoid_forward`` from the ``test_public.py`` beside
the notebook, and ``%check neuron`` runs all of them; both print the summary of
``dlgrade check``. The tests import ``neuron``: while they run, that name
stands for a module made of what the notebook has defined, so what is checked
is the code the student has run, saved or not, and no file is written.

Nothing here raises into the notebook: a function that still raises
``NotImplementedError`` is reported as not implemented yet, and "Run all"
carries on. Magic lines are dropped when a notebook is graded
(``grader/submissions.py``), so none of this reaches the grader.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import sys
import types
from pathlib import Path
from typing import Mapping

from grader.check import PUBLIC_TESTS, _function_of, _reason, summary_lines

USAGE = "usage: %check MODULE[.FUNCTION], e.g. `%check neuron.sigmoid_forward` or `%check neuron` for every check"


def load_ipython_extension(ipython) -> None:
    def check(line: str) -> None:
        """%check MODULE[.FUNCTION]: run the public checks (of one function) on this notebook's functions."""
        print("\n".join(run_checks(line.strip(), ipython.user_ns, Path.cwd())))

    ipython.register_magic_function(check, "line", "check")


def run_checks(target: str, namespace: Mapping[str, object], folder: Path) -> list[str]:
    """The report of ``%check target`` for the functions in ``namespace``, with
    the public tests found in ``folder``."""
    module, _, function = target.partition(".")
    if not module.isidentifier() or (function and not function.isidentifier()):
        return [USAGE]
    tests = folder / PUBLIC_TESTS
    if not tests.is_file():
        return [f"There is no {PUBLIC_TESTS} in {folder}: open this notebook from its assignment folder, "
                f"where the public tests are."]
    defined = [name for name, value in namespace.items()
               if inspect.isfunction(value) and value.__module__ == namespace.get("__name__")]
    if function and function not in defined:
        return [f"{function} is not defined in this notebook yet: run the cell that defines it, then check again."]
    not_defined: list[str] = []  # what the tests import that the notebook has not defined (yet)
    collector = _Collector(defined, not_defined, function or None)
    # pytest's own report would repeat ours (and the student's prints are in it): it is not shown.
    with _notebook_as_module(module, namespace, not_defined), _forget_modules_from(folder), \
            contextlib.redirect_stdout(io.StringIO()):
        import pytest  # only notebooks need it, not the grading core

        # Without the plugins that would touch the kernel's own state (a cache folder, fault
        # handler) or collect garbage twice per run (a check then takes half the time).
        quiet = [arg for plugin in ("cacheprovider", "faulthandler", "unraisableexception", "threadexception")
                 for arg in ("-p", f"no:{plugin}")]
        pytest.main(["-q", "--color=no", *quiet, "--import-mode=importlib", "--rootdir", str(folder), str(tests)],
                    plugins=[collector])
    return collector.report(function or None)


class _Collector:
    """A pytest plugin that keeps the tests of one function (or all) and records
    how each went, by function, as ``dlgrade check`` does."""

    def __init__(self, defined: list[str], not_defined: list[str], selected: str | None):
        self.defined, self.not_defined, self.selected = defined, not_defined, selected
        self.outcomes: dict[str, list[tuple[bool, str]]] = {}
        self.import_error = ""

    def _function(self, nodeid: str) -> str:
        return _function_of(nodeid.split("::")[-1], self.defined + self.not_defined)

    def pytest_collection_modifyitems(self, config, items):
        if self.selected is None:
            return
        unselected = [item for item in items if self._function(item.nodeid) != self.selected]
        if unselected:
            config.hook.pytest_deselected(items=unselected)
            items[:] = [item for item in items if item not in unselected]

    def pytest_collectreport(self, report):
        if report.failed:
            self.import_error = str(report.longrepr).strip().splitlines()[-1].removeprefix("E").strip()

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.outcomes.setdefault(self._function(report.nodeid), []).append(
                (report.passed, "" if report.passed else _reason(report)))

    def report(self, function: str | None) -> list[str]:
        if self.import_error:
            return [f"The public tests could not be loaded: {self.import_error}",
                    "Run every cell above this one (the tests import each function the assignment asks for)."]
        if not self.outcomes:
            return [f"There are no public checks for {function or 'this assignment'}."]
        return summary_lines(self.outcomes)


@contextlib.contextmanager
def _notebook_as_module(name: str, namespace: Mapping[str, object], not_defined: list[str]):
    """While the tests run, ``import name`` finds the notebook's definitions.
    The tests import every function of the assignment, so one the student has
    not reached yet is a stand-in that says so when called (and its name is
    added to ``not_defined``)."""
    module = types.ModuleType(name, "the definitions of the notebook being checked")
    module.__dict__.update((key, value) for key, value in namespace.items() if not key.startswith("_"))

    def stand_in_for(attribute: str):
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        not_defined.append(attribute)
        return _not_defined_yet(attribute)

    module.__getattr__ = stand_in_for
    saved = sys.modules.get(name)
    sys.modules[name] = module
    try:
        yield
    finally:
        if saved is None:
            del sys.modules[name]
        else:
            sys.modules[name] = saved


def _not_defined_yet(name: str):
    def stand_in(*args, **kwargs):
        raise NotImplementedError(f"{name} is not defined in this notebook yet: run the cell that defines it")

    return stand_in


@contextlib.contextmanager
def _forget_modules_from(folder: Path):
    """pytest keeps the test module it imported in ``sys.modules``; the next
    ``%check`` must import it afresh, bound to the notebook's current functions."""
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            file = getattr(sys.modules[name], "__file__", None)
            if file and Path(file).resolve().parent == folder.resolve():
                del sys.modules[name]
