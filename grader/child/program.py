"""Run a case's program (see ``grader.spec.Program``) against a module.

The untrusted process runs it against the student's module; the grader runs
the same code against edited solutions to recognise catalogued bugs. Depends
on numpy and the standard library only.
"""

from __future__ import annotations

import os
import traceback
from types import ModuleType

import numpy as np

BUILTIN = "builtin:"
# Helpers a program may call besides student functions: they build arguments
# that cannot cross the boundary as plain arrays (a dict of state, a random
# generator) or play a known part (the gradient of a known function).
BUILTINS = {
    "dict": lambda **entries: dict(entries),
    "rng": lambda seed: np.random.default_rng(int(seed)),
    # gradient of 0.5 * w.A.w - b.w
    "quadratic_gradient": lambda w, a, b: a @ w - b,
}


class StudentError(Exception):
    """A case could not be completed because of the student's code.

    ``kind`` is one of: missing, not_implemented, exception, exit, bad_return."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def run_program(module: ModuleType, program: dict, inputs: dict, source_file: str | None = None) -> dict[str, np.ndarray]:
    """Call the program's functions in order; return its outputs as plain arrays."""
    results = []
    # Each output part taken from a call's return value is copied as soon as
    # that call returns: a student function that updates its argument in place
    # (w -= lr * dw; return w, state) is correct and must not have earlier
    # steps of a trajectory overwritten by later ones. Dict entries (key) are
    # read at the end: they are state that later calls update.
    parts = {(name, i): part for name, ref in program["outputs"].items()
             for i, part in enumerate(ref["stack"] if "stack" in ref else [ref])}
    taken = {}
    for step in program["calls"]:
        fname = step["function"]
        func = BUILTINS[fname[len(BUILTIN):]] if fname.startswith(BUILTIN) else getattr(module, fname, None)
        if not callable(func):
            where = os.path.basename(source_file) if source_file else "the module"
            raise StudentError("missing", f"{where} has no function named {fname}")
        args = [_resolve(a, inputs, results, program) for a in step["args"]]
        kwargs = {k: _resolve(a, inputs, results, program) for k, a in step["kwargs"].items()}
        try:
            results.append(func(*args, **kwargs))
        except NotImplementedError:
            raise StudentError("not_implemented", f"{fname} is not implemented yet (it raises NotImplementedError)") from None
        except SystemExit as e:
            raise StudentError("exit", f"{fname} called sys.exit({e.code!r}); graded functions must return") from None
        except KeyboardInterrupt:
            raise StudentError("exit", f"{fname} raised KeyboardInterrupt") from None
        except Exception as e:
            raise StudentError("exception", f"{fname} raised {describe_exception(e, source_file)}") from None
        for (name, i), part in parts.items():
            if "returned" in part and part["returned"]["call"] == len(results) - 1 and part["returned"].get("key") is None:
                value = _resolve(part, inputs, results, program)
                taken[name, i] = value.copy() if isinstance(value, np.ndarray) else value
    return {name: _output(ref, name, inputs, results, program, taken) for name, ref in program["outputs"].items()}


def _output(ref: dict, name: str, inputs: dict, results: list, program: dict, taken: dict) -> np.ndarray:
    def value(i: int, part: dict):
        return taken[name, i] if (name, i) in taken else _resolve(part, inputs, results, program)

    if "stack" not in ref:
        return _as_plain_array(value(0, ref), name)
    parts = [_as_plain_array(value(i, p), f"{name}[{i}]") for i, p in enumerate(ref["stack"])]
    shapes = {p.shape for p in parts}
    if len(shapes) > 1:
        raise StudentError("bad_return", f"the values making up {name} change shape from one call to the next: "
                                         f"{sorted(shapes)}")
    return np.stack(parts)


def _resolve(arg: dict, inputs: dict, results: list, program: dict):
    if "input" in arg:
        value = inputs[arg["input"]]
        return value if arg.get("index") is None else value[arg["index"]]
    ref = arg["returned"]
    value = results[ref["call"]]
    producer = program["calls"][ref["call"]]["function"]
    index, key = ref.get("index"), ref.get("key")
    if index is not None:
        if not isinstance(value, (tuple, list)):
            raise StudentError("bad_return", f"{producer} must return a tuple, e.g. (out, cache); "
                                             f"it returned {_type_name(value)}")
        if index >= len(value):
            raise StudentError("bad_return", f"{producer} returned {len(value)} items; at least {index + 1} are expected")
        value = value[index]
    if key is not None:
        if not isinstance(value, dict) or key not in value:
            raise StudentError("bad_return", f"after {producer}, its state has no entry {key!r}")
        value = value[key]
    return value


def _as_plain_array(value, name: str) -> np.ndarray:
    """Only plain numeric arrays leave: a subclass, an object array, a tensor or a
    list is refused here, and the grader refuses anything else on its side."""
    if type(value) is np.ndarray or isinstance(value, (np.generic, bool, int, float)):
        array = np.asarray(value)
        if type(array) is np.ndarray and array.dtype.kind in "biuf":
            return array
        raise StudentError("bad_return", f"{name} is an array of dtype {array.dtype}; a numeric array is expected")
    raise StudentError("bad_return", f"{name} is {_type_name(value)}; a numpy array is expected")


def _type_name(value) -> str:
    t = type(value)
    module = t.__module__
    qualified = t.__qualname__ if module in ("builtins", None) else f"{module}.{t.__qualname__}"
    return f"a {qualified}"


def describe_exception(e: BaseException, source_file: str | None) -> str:
    """``TypeError: message (at line 12, in f: code)``: the innermost line of
    the student's own file, never a path or frame of the grader."""
    text = f"{type(e).__name__}: {e}"
    if source_file:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == source_file]
        if frames:
            f = frames[-1]
            text += f" (at line {f.lineno}, in {f.name}: {(f.line or '').strip()})"
    return text
