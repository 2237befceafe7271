"""Helpers for the public checks of this assignment. `dlgrade generate` writes
this same file into every assignment folder: edit your own module, not this one.

* ``assert_gradient``: compares a backward pass with a numerical gradient
  (central differences, as in the lectures).
* A pytest plugin, which ``test_public.py`` loads: after the tests, one line per
  function of yours (ok or FAIL, the checks it passed, why the others failed),
  then how many public checks pass.
* ``%check`` in the notebook (its first cell runs ``%load_ext dlgrade_student``):
  ``%check neuron.sigmoid_forward`` runs the public tests of ``sigmoid_forward``
  from the ``test_public.py`` beside the notebook, on the functions the notebook
  has defined (saved or not), and ``%check neuron`` runs all of them. It never
  raises into the notebook, so *Run All* carries on past a function that is not
  written yet.

It needs numpy, pytest to run the checks, and IPython inside a notebook only.

(PYTEST_DONT_REWRITE: the tests import this module before pytest loads it as a
plugin, too late for pytest to rewrite its asserts, which carry their own
messages anyway.)
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import sys
import types
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

PUBLIC_TESTS = "test_public.py"
NAME = __name__.rpartition(".")[2]  # "dlgrade_student", also where the grader imports it from its package
OTHER = "other checks"  # the summary's line for tests whose name names no function
USAGE = "usage: %check MODULE[.FUNCTION], e.g. `%check neuron.sigmoid_forward` or `%check neuron` for every check"

# --------------------------------------------------------------------------- gradient checking

# Central differences need a step the function's precision can resolve. float32
# has about 7 significant digits: rounding noise divided by the step swamps small
# gradient elements, so float32 is held to a relative error over the whole
# gradient (its norm) rather than element by element.
STEP = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-2}
TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}


def numerical_gradient(f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray | float = 1.0,
                       h: float = 1e-6) -> np.ndarray:
    """d(sum(f() * dout)) / dx by central differences, changing ``x`` in place
    (and restoring it). ``f`` reads ``x``; ``dout`` is the upstream gradient."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        saved = x[i]
        x[i] = saved + h
        plus = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        x[i] = saved - h
        minus = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        x[i] = saved
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8), elementwise: for float64 gradients,
    below 1e-6 is a match and above 1e-3 a bug."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8))) if a.size else 0.0


def assert_gradient(f: Callable[[], np.ndarray], x: np.ndarray, analytic, dout: np.ndarray | float = 1.0,
                    name: str = "dx") -> None:
    """Assert that ``analytic`` is d(sum(f() * dout))/dx, with a step and a
    tolerance that suit the precision computed in: float32 when ``f``'s result or
    the gradient is float32 (a loss computed in float32 may come back as a Python
    float), float64 otherwise."""
    analytic = np.asarray(analytic)
    assert analytic.size == np.size(x), f"{name} should have shape {np.shape(x)}; got {analytic.shape}"
    in_float32 = np.dtype(np.float32) in (np.asarray(f()).dtype, analytic.dtype)
    precision = np.dtype(np.float32) if in_float32 else np.dtype(np.float64)
    numeric = numerical_gradient(f, x, dout, STEP[precision])
    analytic = analytic.reshape(np.shape(x)).astype(np.float64)
    if precision == np.float32:
        err = float(np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-8))
    else:
        err = relative_error(analytic, numeric)
    assert err < TOLERANCE[precision], (
        f"{name} differs from the numerical gradient (relative error {err:.2e}, "
        f"tolerance {TOLERANCE[precision]:g} for {precision})")


# --------------------------------------------------------------------------- the summary (a pytest plugin)


def from_imports(source: str) -> dict[str, list[str]]:
    """``{module: [names]}`` of the ``from module import names`` statements at
    the top of a test file: what the public tests take from the student's
    module (and from this one)."""
    imported: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.setdefault(node.module, []).extend(alias.asname or alias.name for alias in node.names)
    return imported


def tested_names(source: str) -> list[str]:
    """The functions a test file is about: what it imports by name, but from this module."""
    return [name for module, names in from_imports(source).items() if module != NAME for name in names]


def function_of(test_name: str, functions: list[str]) -> str:
    """The function a test is about, by its name: ``test_relu_backward_gradcheck[2]``
    is about ``relu_backward`` (the longest function name that fits)."""
    name = test_name.split("[")[0].removeprefix("test_")
    matching = [f for f in functions if name == f or name.startswith(f + "_")]
    return max(matching, key=len) if matching else OTHER


def _reason(report) -> str:
    text = str(report.longrepr)
    if "NotImplementedError" in text:
        return "not implemented yet"
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash else text
    return message.splitlines()[0][:160] if message else "failed"


class Summary:
    """A pytest plugin that files the outcome of each public check under the
    function it is about and prints one line per function at the end.
    ``selected``: only the checks of that function run (``%check neuron.relu_forward``)."""

    def __init__(self, selected: str | None = None):
        self.selected = selected
        self.outcomes: dict[str, list[tuple[bool, str]]] = {}
        self.load_error = ""
        self._functions: dict[str, str] = {}  # test node id -> the function it is about

    def pytest_collection_modifyitems(self, config, items) -> None:
        names: dict[Path, list[str]] = {}
        for item in items:
            if item.path not in names:
                names[item.path] = tested_names(item.path.read_text())
            self._functions[item.nodeid] = function_of(item.name, names[item.path])
        if self.selected is not None:
            unselected = [item for item in items if self._functions[item.nodeid] != self.selected]
            if unselected:
                config.hook.pytest_deselected(items=unselected)
                items[:] = [item for item in items if item not in unselected]

    def pytest_collectreport(self, report):
        if report.failed:
            self.load_error = str(report.longrepr).strip().splitlines()[-1].removeprefix("E").strip()

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.outcomes.setdefault(self._functions.get(report.nodeid, OTHER), []).append(
                (report.passed, "" if report.passed else _reason(report)))

    @property
    def all_pass(self) -> bool:
        return not self.load_error and all(ok for results in self.outcomes.values() for ok, _ in results)

    def lines(self) -> list[str]:
        """One line per function (ok or FAIL, checks passed, the distinct reasons
        of its failures), then the count of passing checks; or why the tests
        could not be loaded; nothing when no check ran."""
        if self.load_error:
            return [f"The public tests could not be loaded: {self.load_error}"]
        if not self.outcomes:
            return []
        width = max(len(f) for f in self.outcomes)
        lines = []
        for fn, results in self.outcomes.items():
            passed = sum(ok for ok, _ in results)
            reasons = list(dict.fromkeys(r for ok, r in results if not ok))
            mark = "ok  " if passed == len(results) else "FAIL"
            lines.append(f"  {mark} {fn:<{width}}  {passed}/{len(results)}  {'; '.join(reasons)}".rstrip())
        total = sum(len(r) for r in self.outcomes.values())
        passed = sum(ok for r in self.outcomes.values() for ok, _ in r)
        return lines + [f"{passed} of {total} public checks pass."]

    def pytest_terminal_summary(self, terminalreporter, config):
        lines = self.lines()
        if not lines:
            return
        *per_function, last = lines
        if not self.all_pass and config.option.tbstyle == "no":  # `dlgrade check`: one line per failure
            last += f" Run `pytest {PUBLIC_TESTS}` in the folder for full tracebacks."
        for line in ["", *per_function, *([""] if per_function else []), last]:
            terminalreporter.write_line(line)


def pytest_configure(config):
    """Loaded as a plugin (``pytest_plugins`` in ``test_public.py``, or ``-p``): print the summary."""
    config.pluginmanager.register(Summary(), "dlgrade-summary")


# --------------------------------------------------------------------------- %check in a notebook


def load_ipython_extension(ipython) -> None:
    def check(line: str) -> None:
        """%check MODULE[.FUNCTION]: run the public checks (of one function) on this notebook's functions."""
        print("\n".join(run_checks(line.strip(), ipython.user_ns, Path.cwd())))

    ipython.register_magic_function(check, "line", "check")


def run_checks(target: str, namespace: Mapping[str, object], folder: Path) -> list[str]:
    """The report of ``%check target`` for the functions in ``namespace``, with
    the public tests found in ``folder``. The tests import the student's module
    (e.g. ``neuron``): while they run, that name stands for a module made of
    what the notebook has defined, so no file is written."""
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
    summary = Summary(function or None)
    # pytest's own report would repeat ours (and the student's prints are in it): it is not shown.
    with _notebook_as_module(module, namespace), _forget_modules_from(folder), \
            contextlib.redirect_stdout(io.StringIO()):
        import pytest  # only the checks need it, not the gradient tools

        # Without the plugins that would touch the kernel's own state (a cache folder, fault handler) or
        # collect garbage twice per run (a check then takes half the time), and without a second summary
        # from this module, which the tests load as a plugin.
        quiet = [arg for plugin in ("cacheprovider", "faulthandler", "unraisableexception", "threadexception", NAME)
                 for arg in ("-p", f"no:{plugin}")]
        pytest.main(["-q", "--color=no", *quiet, "--import-mode=importlib", "--rootdir", str(folder), str(tests)],
                    plugins=[summary])
    if summary.load_error:
        return [*summary.lines(),
                "Run every cell above this one (the tests import each function the assignment asks for)."]
    return summary.lines() or [f"There are no public checks for {function or 'this assignment'}."]


@contextlib.contextmanager
def _notebook_as_module(name: str, namespace: Mapping[str, object]):
    """While the tests run, ``import name`` finds the notebook's definitions.
    The tests import every function of the assignment, so one the student has
    not reached yet is a stand-in that says so when called."""
    module = types.ModuleType(name, "the definitions of the notebook being checked")
    module.__dict__.update((key, value) for key, value in namespace.items() if not key.startswith("_"))

    def stand_in_for(attribute: str):
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return _not_defined_yet(attribute)

    module.__dict__["__getattr__"] = stand_in_for  # a module's own __getattr__ (PEP 562)
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
