"""Run a request's program (``protocol.Request``) against a module.

The untrusted process runs it against the student's module; the grader runs
the same code against edited solutions to recognise catalogued bugs. Depends
on numpy and the standard library only; programs of torch assignments load
``torch_support.py`` (and so torch) when they first need it.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import inspect
import os
import sys
import traceback
from types import ModuleType
from typing import Any

import numpy as np

try:  # as grader.child.program, in the grader
    from . import protocol, timing, wire
except ImportError:  # as the child's own top-level modules, which mypy (checking the package) cannot tell
    import protocol  # type: ignore[no-redef]
    import timing  # type: ignore[no-redef]
    import wire  # type: ignore[no-redef]

ErrorKind = protocol.ErrorKind  # by its own name: the errors below name it often

HERE = os.path.dirname(os.path.abspath(__file__))

# Helpers a program may call besides student functions: they build arguments
# that cannot cross the boundary as plain arrays (a dict of state, a random
# generator) or play a known part (the gradient of a known function).
BUILTINS = {
    "dict": lambda **entries: dict(entries),
    "rng": lambda seed: np.random.default_rng(int(seed)),
    # a shape: a tuple crosses the boundary as a JSON list
    "shape": lambda dims: tuple(int(d) for d in dims),
    # gradient of 0.5 * w.A.w - b.w
    "quadratic_gradient": lambda w, a, b: a @ w - b,
}


def _load(name: str, file: str) -> ModuleType:
    """A module of this folder, loaded by path on first use as ``name``: the child has taken its own folder off
    ``sys.path`` by then, so that students cannot import it."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
        if spec is None or spec.loader is None:  # never: the path ends in .py
            raise ImportError(f"cannot load {file}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def torch_support() -> ModuleType:
    """``torch_support.py``: what programs of torch assignments need."""
    return _load("dlgrade_torch_support", "torch_support.py")


def task_support(task: str) -> ModuleType:
    """``tasks/<task>.py``: the builtins one kind of task alone needs (they use torch_support's, loaded first)."""
    if not task.isidentifier() or not os.path.isfile(os.path.join(HERE, "tasks", f"{task}.py")):
        raise KeyError(task)
    torch_support()
    return _load(f"dlgrade_task_{task}", os.path.join("tasks", f"{task}.py"))


class StudentError(Exception):
    """A case could not be completed because of the student's code (``kind``:
    one of the ErrorKinds raised in the child)."""

    def __init__(self, kind: ErrorKind, message: str, blocked_by: str | None = None):
        super().__init__(message)
        self.blocked_by = blocked_by  # the student function (not the graded one) that failed first
        self.kind = kind
        self.message = message


def run_program(module: ModuleType, request: protocol.Request, inputs: dict, source_file: str | None = None,
                kept: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Call the program's functions in order; return its outputs as plain
    arrays. ``kept``: the values earlier programs of the submission kept
    (``Program.keep``), which this one may read and add to."""
    kept = {} if kept is None else kept
    if request.timing is not None:
        return _timed(module, request, inputs, source_file, kept)
    program = request.program
    run = _Run(request, inputs, kept)
    # Each output part taken from a call's return value is copied as soon as
    # that call returns: a student function that updates its argument in place
    # (w -= lr * dw; return w, state) is correct and must not have earlier
    # steps of a trajectory overwritten by later ones. Dict entries (key) are
    # read at the end: they are state that later calls update.
    parts = {(name, i): part for name, output in program.outputs.items()
             for i, part in enumerate(output.parts if isinstance(output, protocol.Stack) else [output])}
    taken = {}
    graded = program.graded_function
    for step in program.calls:
        try:
            _call(module, request, step, run, source_file)
        except StudentError as e:
            if step.is_builtin or step.function == graded:
                raise
            # The graded function could not run: what failed is the student's own function it depends on
            # (a backward's forward), and the message says so first.
            raise StudentError(e.kind, f"not graded: `{step.function}` failed on this input: {e.message}",
                               step.function) from None
        for (name, i), part in parts.items():
            if isinstance(part, protocol.Returned) and part.call == len(run.results) - 1 and part.key is None:
                value = run.resolve(part)
                if isinstance(value, np.ndarray):
                    _check_size(value.nbytes)  # before the copy: copying hundreds of MiB costs seconds
                    value = value.copy()
                taken[name, i] = value
    if program.synchronize:
        timing.synchronize(run.device)
    for name, ref in program.keep.items():
        kept[name] = run.resolve(ref)
    outputs = {name: _output(part, name, run, taken) for name, part in program.outputs.items()}
    _check_size(sum(a.nbytes for a in outputs.values()))
    return outputs


def _call(module: ModuleType, request: protocol.Request, step: protocol.Call, run: "_Run",
          source_file: str | None) -> None:
    """One call of the program, its result appended to ``run.results``.

    A student function gets arguments it may not change: the grader's inputs
    (fresh copies for every call, so that a change cannot reach a later call
    or a graded output) and whatever earlier calls returned (a cache, a
    parameter dict). A change to one of them in place fails the case, except
    for the arguments the call declares ``modifies`` (an optimiser's ``w``
    and ``state``, batch norm's running statistics)."""
    fname = step.function
    func = _function(module, fname, source_file)
    args, kwargs = run.arguments(step)
    student = not step.is_builtin
    watched = [(name, value, _snapshot(value)) for key, name, value in _named_arguments(func, args, kwargs)
               if student and key not in step.modifies]
    with _guarded(request.forbidden, fname, source_file):
        run.results.append(func(*args, **kwargs))
    if student:
        _check_graph(request.forbidden, fname, run.results[-1])
        for name, value, before in watched:
            if (where := _changed(value, before, name)) is not None:
                raise StudentError(ErrorKind.MODIFIES, f"{fname} modifies its argument `{where}` in place; graded "
                                               f"functions must leave their inputs unchanged (compute a new array, "
                                               f"e.g. out = x * mask, not x *= mask)")


def _named_arguments(func, args: list, kwargs: dict) -> list[tuple[int | str, str, object]]:
    """``(position or keyword, name, value)`` of each argument, named as the
    student's parameters are (the message uses the student's own spelling)."""
    try:
        names = [p.name for p in inspect.signature(func).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [*((i, names[i] if i < len(names) else f"argument {i + 1}", a) for i, a in enumerate(args)),
            *((k, k, v) for k, v in kwargs.items())]


SNAPSHOT_DEPTH = 3  # containers inside containers looked into: a cache tuple holding a dict of arrays


def _snapshot(value, depth: int = SNAPSHOT_DEPTH):
    """Copies of the numpy arrays in ``value`` (an array, or a tuple, list or
    dict holding some), to tell afterwards whether any changed."""
    if type(value) is np.ndarray:
        return value.copy()
    if depth and isinstance(value, (tuple, list)):
        return [_snapshot(v, depth - 1) for v in value]
    if depth and isinstance(value, dict):
        return {k: _snapshot(v, depth - 1) for k, v in value.items()}
    return None


def _changed(value, before, name: str) -> str | None:
    """Where ``value`` no longer holds the arrays of its ``before`` snapshot
    (``cache[1]``, ``params['W']``), or None."""
    if isinstance(before, np.ndarray):
        same = (type(value) is np.ndarray and value.shape == before.shape and value.dtype == before.dtype
                and np.array_equal(value, before, equal_nan=value.dtype.kind in "fc"))
        return None if same else name
    if isinstance(before, list) and isinstance(value, (tuple, list)) and len(value) == len(before):
        return next((w for i, (v, b) in enumerate(zip(value, before)) if (w := _changed(v, b, f"{name}[{i}]"))), None)
    if isinstance(before, dict) and isinstance(value, dict):
        # Only the arrays it held: a dict given to a function may gain entries (state), never have its arrays edited.
        return next((w for k, b in before.items() if k in value and (w := _changed(value[k], b, f"{name}[{k!r}]"))),
                    None)
    return None


def _check_size(nbytes: int) -> None:
    """What one answer may carry (the wire's limit), said as a mistake of the student's."""
    if nbytes > wire.MAX_MESSAGE_BYTES:
        raise StudentError(ErrorKind.BAD_RETURN, f"the returned arrays take {nbytes >> 20} MiB, more than "
                                         f"{wire.MAX_MESSAGE_BYTES >> 20} MiB")


def builtin_named(name: str):
    """``name``: a helper of this module's, of torch_support's, or ``<task>.<helper>`` of ``tasks/<task>.py``."""
    if name in BUILTINS:
        return BUILTINS[name]
    task, _, helper = name.rpartition(".")
    return (task_support(task) if task else torch_support()).BUILTINS[helper]


def _function(module: ModuleType, fname: str, source_file: str | None):
    """What a call of the program names: a builtin, or the student's function."""
    builtin = fname.startswith(protocol.BUILTIN)
    func = builtin_named(fname[len(protocol.BUILTIN):]) if builtin else getattr(module, fname, None)
    if not callable(func):
        where = os.path.basename(source_file) if source_file else "the module"
        raise StudentError(ErrorKind.MISSING, f"{where} has no function named {fname}")
    return func


def _check_graph(forbidden: tuple[str, ...], fname: str, result) -> None:
    """Refuse a result whose autograd graph holds a forbidden function's node
    (``ConvolutionBackward0``): code that pops torch's mode stack gets past
    ``_guarded``'s modes, not past the graph of what it returns."""
    if forbidden and (node := torch_support().forbidden_node(result, list(forbidden))):
        raise StudentError(ErrorKind.FORBIDDEN, f"{fname} returned a result computed by {node}, the autograd node of a "
                                        f"function it must not use here")


@contextlib.contextmanager
def _guarded(forbidden: tuple[str, ...], fname: str, source_file: str | None, enforce: bool = True):
    """Run a call: exceptions become ``StudentError`` (a builtin fails on what
    the student's code gave it); the request's forbidden torch functions are
    refused while it runs."""
    support = torch_support() if forbidden else None
    try:
        with support.forbidding(list(forbidden), enforce) if support else contextlib.nullcontext():
            yield
    except StudentError:
        raise
    except NotImplementedError:
        raise StudentError(ErrorKind.NOT_IMPLEMENTED,
                           f"{fname} is not implemented yet (it raises NotImplementedError)") from None
    except SystemExit as e:
        raise StudentError(ErrorKind.EXIT,
                           f"{fname} called sys.exit({e.code!r}); graded functions must return") from None
    except KeyboardInterrupt:
        raise StudentError(ErrorKind.EXIT, f"{fname} raised KeyboardInterrupt") from None
    except Exception as e:
        if support and isinstance(e, support.ForbiddenCall):
            raise StudentError(ErrorKind.FORBIDDEN, f"{fname} called {e.name}, which it must not use here") from None
        raise StudentError(ErrorKind.EXCEPTION, f"{fname} raised {describe_exception(e, source_file)}") from None


def _timed(module: ModuleType, request: protocol.Request, inputs: dict, source_file: str | None,
           kept: dict[str, Any]) -> dict[str, np.ndarray]:
    """Time the program's one call against a trusted builtin with the shared
    harness, each call on its own set of inputs (``name@i``: set ``i``; the
    first ``warmup`` sets warm up), so that remembering an earlier answer
    cannot pay. Returns both sides' times and, for the grader to check, the
    student's outputs ``timing.outputs`` on every timed set (``name@i``).

    Autograd records as when graded (the inputs require gradients where the
    program says so), so that the graph check sees the timed results too; the
    baseline's tensors are its own copies, so that the student's code cannot
    change what the baseline works on."""
    spec = request.timing
    assert spec is not None  # run_program sends only timed requests here
    (step,) = request.program.calls
    func, baseline = _function(module, step.function, source_file), builtin_named(spec.baseline)
    sets: list[dict[str, Any]] = [{} for _ in range(spec.warmup + spec.repeats)]
    for key, value in inputs.items():
        name, _, i = key.rpartition("@")
        sets[int(i)][name] = value
    runs = {side: [_Run(request, s if side == "student" else copy.deepcopy(s), kept) for s in sets]
            for side in ("student", "baseline")}
    # Arguments made before the clock starts (tensors copied to the device), consumed one set per call.
    turns = {side: iter([(run, *run.arguments(step)) for run in side_runs]) for side, side_runs in runs.items()}

    def student():
        run, args, kwargs = next(turns["student"])
        with _guarded(request.forbidden, step.function, source_file):
            run.results.append(func(*args, **kwargs))

    def reference():
        _, args, kwargs = next(turns["baseline"])
        with _guarded(request.forbidden, spec.baseline, None, enforce=False):
            baseline(*args, **kwargs)

    times = timing.time_interleaved({"student": student, "baseline": reference}, request.device, spec.warmup,
                                    spec.repeats)
    outputs = {name: np.array(t.seconds) for name, t in times.items()}
    for i in range(spec.warmup, spec.warmup + spec.repeats):
        run = runs["student"][i]
        _check_graph(request.forbidden, step.function, run.results[0])
        for name in spec.outputs:
            outputs[f"{name}@{i}"] = _output(request.program.outputs[name], name, run, {})
        run.results.clear()  # the timed results go once copied out: they hold device memory and autograd graphs
    _check_size(sum(a.nbytes for a in outputs.values()))
    return outputs


class _Run:
    """The state of one program's run: its calls' results and the tensors it made."""

    def __init__(self, request: protocol.Request, inputs: dict, kept: dict[str, Any]):
        self.program, self.inputs, self.kept = request.program, inputs, kept
        self.results: list[Any] = []
        self.device = request.device
        self.tensors: dict[str, Any] = {}

    def arguments(self, step: protocol.Call) -> tuple[list, dict]:
        return [self.resolve(a) for a in step.args], {k: self.resolve(a) for k, a in step.kwargs}

    def resolve(self, part: protocol.Input | protocol.Returned | protocol.Tensor | protocol.Device | protocol.Kept
                | protocol.Gradient):
        if isinstance(part, protocol.Input):
            # A copy for every use: what a call does to its arguments stays out of the grader's inputs.
            value = self.inputs[part.name]
            value = value if part.index is None else value[part.index]
            return value.copy() if isinstance(value, np.ndarray) else value
        if isinstance(part, protocol.Tensor):
            if part.name not in self.tensors:
                self.tensors[part.name] = torch_support().to_tensor(self.inputs[part.name], self.device,
                                                                    part.requires_grad)
            return self.tensors[part.name]
        if isinstance(part, protocol.Device):
            return self.device
        if isinstance(part, protocol.Kept):
            if part.name not in self.kept:
                raise StudentError(ErrorKind.MISSING,
                                   f"{part.name} is not available: the step that makes it did not finish")
            return self.kept[part.name]
        if isinstance(part, protocol.Gradient):
            return self.gradient(part)
        return self.returned(part)

    def returned(self, ref: protocol.Returned):
        value = self.results[ref.call]
        producer = self.program.calls[ref.call].function
        if ref.index is not None:
            if not isinstance(value, (tuple, list)):
                raise StudentError(ErrorKind.BAD_RETURN, f"{producer} must return a tuple, e.g. (out, cache); "
                                                         f"it returned {_type_name(value)}")
            if ref.index >= len(value):
                raise StudentError(ErrorKind.BAD_RETURN,
                                   f"{producer} returned {len(value)} items; at least {ref.index + 1} are expected")
            value = value[ref.index]
        if ref.key is not None:
            if not isinstance(value, dict) or ref.key not in value:
                raise StudentError(ErrorKind.BAD_RETURN, f"after {producer}, its state has no entry {ref.key!r}")
            value = value[ref.key]
        return value

    def gradient(self, spec: protocol.Gradient):
        support = torch_support()
        of = self.resolve(spec.of)
        producer = self.program.calls[spec.of.call].function
        wrt = self.tensors.get(spec.wrt)
        if not support.is_tensor(of) or not of.requires_grad:
            raise StudentError(ErrorKind.BAD_RETURN, f"autograd cannot differentiate what {producer} returned: a "
                                                     f"tensor computed from its inputs by torch operations is "
                                                     f"expected (no .detach(), .numpy() or .item() on the way)")
        try:
            return support.gradient(of, wrt, self.inputs[spec.cotangent])
        except RuntimeError as e:
            raise StudentError(ErrorKind.BAD_RETURN, f"autograd failed on what {producer} returned: {e}") from None


def _output(output: protocol.Output, name: str, run: _Run, taken: dict) -> np.ndarray:
    def value(i: int, part: protocol.Input | protocol.Returned | protocol.Gradient):
        return taken[name, i] if (name, i) in taken else run.resolve(part)

    if not isinstance(output, protocol.Stack):
        return _as_plain_array(value(0, output), name)
    parts = [_as_plain_array(value(i, p), f"{name}[{i}]") for i, p in enumerate(output.parts)]
    shapes = {p.shape for p in parts}
    if len(shapes) > 1:
        raise StudentError(ErrorKind.BAD_RETURN, f"the values making up {name} change shape from one call to the "
                                                 f"next: {sorted(shapes)}")
    return np.stack(parts)


def _as_plain_array(value, name: str) -> np.ndarray:
    """Only plain numeric arrays leave: a subclass, an object array or a list is
    refused here, and the grader refuses anything else on its side. A torch
    tensor (exactly that type) is copied out as its array."""
    if "torch" in sys.modules and torch_support().is_tensor(value):
        value = torch_support().to_numpy(value)
    if type(value) is np.ndarray or isinstance(value, (np.generic, bool, int, float)):
        array = np.asarray(value)
        if type(array) is np.ndarray and array.dtype.kind in "biuf":
            return array
        raise StudentError(ErrorKind.BAD_RETURN,
                           f"{name} is an array of dtype {array.dtype}; a numeric array is expected")
    raise StudentError(ErrorKind.BAD_RETURN, f"{name} is {_type_name(value)}; a numpy array is expected")


def _type_name(value) -> str:
    t = type(value)
    module = t.__module__
    qualified = t.__qualname__ if module in ("builtins", None) else f"{module}.{t.__qualname__}"
    return f"a {qualified}"


# Characters of the student's own text in a message: an exception's message
# (which may hold the inputs, repr'd) and the names and line around it.
EXCEPTION_TEXT_CHARS = 300
NAME_CHARS = 80
LINE_CHARS = 160


def cut(text: str, limit: int, end: bool = False) -> str:
    """``text`` in at most ``limit`` characters, its start (or its ``end``),
    with a note when something was cut."""
    if len(text) <= limit:
        return text
    if end:
        return f"[cut: the last {limit} of {len(text)} characters]\n{text[-limit:]}"
    return f"{text[:limit]} [cut: the first {limit} of {len(text)} characters]"


def describe_exception(e: BaseException, source_file: str | None) -> str:
    """``TypeError: message (at line 12, in f: code)``: the innermost line of
    the student's own file, never a path or frame of the grader; each part
    the student wrote cut to a bounded length."""
    text = f"{cut(type(e).__name__, NAME_CHARS)}: {cut(str(e), EXCEPTION_TEXT_CHARS)}"
    if source_file:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == source_file]
        if frames:
            f = frames[-1]
            text += f" (at line {f.lineno}, in {cut(f.name, NAME_CHARS)}: {cut((f.line or '').strip(), LINE_CHARS)})"
    return text
