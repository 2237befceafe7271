"""The one protocol across the process boundary: what the grader asks the
process running student code to do, and the kinds of answer it gets back.

A ``Request`` (a program of calls, the device, the forbidden torch functions,
an optional timing) is plain, frozen data: the grader builds it from a suite's
declarations, ``encode_request`` turns it into the JSON header of a wire
message (``wire.py``), and the child rebuilds it with ``decode_request``, the
one validating decoder: anything malformed is a ``ProtocolError`` before a
single student function runs. The same classes are the suites' program
declarations (``grader.spec`` re-exports them), so a program is written once
and never re-described as a dict.

Imported by the untrusted process as a top-level module (``protocol``), and
by the grader as ``grader.child.protocol``: standard library only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Mapping, Union

PROTOCOL_VERSION = 1

# A call of f"{BUILTIN}name" runs a helper of the child's own (``BUILTINS`` in
# program.py and torch_support.py: dict, rng, quadratic_gradient, ...), not student code.
BUILTIN = "builtin:"

DeviceName = Literal["cpu", "cuda"]


class _Named(str, enum.Enum):
    """An enum whose members are their names on the wire and in text (enum.StrEnum, before Python 3.11)."""

    def __str__(self) -> str:
        return self.value


class ErrorKind(_Named):
    """Why a request produced no outputs. The first group is raised in the
    child by the student's code; the second is decided by the grader's side."""

    MISSING = "missing"  # no such function, or a kept value that was never made
    NOT_IMPLEMENTED = "not_implemented"  # it still raises NotImplementedError
    EXCEPTION = "exception"
    EXIT = "exit"  # sys.exit or KeyboardInterrupt instead of returning
    BAD_RETURN = "bad_return"  # not the arrays, tuple or tensor the program reads
    FORBIDDEN = "forbidden"  # a function it must not use (a call, an autograd node, or the source scan)
    MODIFIES = "modifies"  # an argument changed in place that the call may not change
    IMPORT = "import"  # the submission did not import, or there was none
    TIMEOUT = "timeout"
    CRASH = "crash"  # the child died (a signal, a limit, os._exit)
    PROTOCOL = "protocol"  # the child's answer broke this protocol


# What a child may answer a request with: the kinds its student code causes (and PROTOCOL, for a request it
# could not read). Any other kind in a child's answer is itself a breach of the protocol.
CHILD_ERRORS = (ErrorKind.MISSING, ErrorKind.NOT_IMPLEMENTED, ErrorKind.EXCEPTION, ErrorKind.EXIT,
                ErrorKind.BAD_RETURN, ErrorKind.FORBIDDEN, ErrorKind.MODIFIES, ErrorKind.PROTOCOL)


def child_error(value: Any) -> ErrorKind | None:
    """The error kind a child's answer names, when it is one a child may send."""
    return next((kind for kind in CHILD_ERRORS if kind.value == value), None)


class ReplyKind(_Named):
    """The header ``kind`` of each message the child sends."""

    READY = "ready"  # imported; carries the guarantees its confinement holds
    IMPORT_ERROR = "import_error"
    SETUP_ERROR = "setup_error"  # the grader's side of confinement failed, not the submission
    OUTPUTS = "outputs"  # the program's outputs, as arrays
    ERROR = "error"  # an ErrorKind, a message, and ``blocked_by``


class ProtocolError(ValueError):
    """A message that does not follow this protocol (a wrong version, a
    missing field, a value of the wrong type)."""


# -- a program's parts --------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """A case input (``index`` picks one item along its first axis, e.g. step
    ``t`` of a sequence of gradients). A plain string in a call means
    ``Input(name)``."""

    name: str
    index: int | None = None


@dataclass(frozen=True)
class Returned:
    """The value returned by call number ``call`` of a program: ``index`` picks
    one element when it returns a tuple, then ``key`` one entry of a dict
    (read after the whole program ran, so a state dict updated in place by a
    later call is seen updated)."""

    call: int
    index: int | None = None
    key: str | None = None


@dataclass(frozen=True)
class Stack:
    """An output made of several values stacked along a new first axis, e.g.
    the parameters after each step of an optimiser."""

    parts: tuple[Input | Returned, ...]


@dataclass(frozen=True)
class Tensor:
    """A torch tensor made in the child from the array input ``name``, on the
    request's device (the same tensor object wherever the program names it)."""

    name: str
    requires_grad: bool = False


@dataclass(frozen=True)
class Device:
    """The device the program runs on, as a string: "cuda" where the grader
    found a GPU, else "cpu"."""


@dataclass(frozen=True)
class Kept:
    """A value an earlier program of the same submission kept (see
    ``Program.keep``): a model built by one request and trained by the next."""

    name: str


@dataclass(frozen=True)
class Gradient:
    """The gradient of ``sum(of * cotangent)`` with respect to the tensor input
    ``wrt``, computed in the child by autograd after the program's calls."""

    of: Returned
    wrt: str
    cotangent: str


Arg = Union[Input, Returned, Tensor, Device, Kept]
Output = Union[Input, Returned, Stack, Gradient]


@dataclass(frozen=True)
class Call:
    """One call of a student function (or of a child builtin).

    Every array argument reaches the student as a copy of its own, and the
    call must leave it unchanged (and the arrays inside a tuple, list or dict
    argument): a change in place fails the case. ``modifies`` lists the
    positions (and keywords) of the arguments the function may update in
    place instead of (or besides) returning new ones, as documented in its
    docstring: an optimiser's ``w`` and ``state``."""

    function: str
    args: tuple[Arg, ...] = ()
    kwargs: tuple[tuple[str, Arg], ...] = ()
    modifies: tuple[int | str, ...] = ()

    @property
    def is_builtin(self) -> bool:
        return self.function.startswith(BUILTIN)


def call(function: str, *args: Arg | str, modifies: tuple[int | str, ...] = (), **kwargs: Arg | str) -> Call:
    """``Call`` with plain strings read as inputs: ``call("f", "x", Returned(0))``."""
    def arg(a: Arg | str) -> Arg:
        return Input(a) if isinstance(a, str) else a

    return Call(function, tuple(arg(a) for a in args), tuple((k, arg(v)) for k, v in kwargs.items()), modifies)


@dataclass(frozen=True)
class Program:
    """``keep``: values the child holds on to for the submission's later
    programs (never sent back); ``synchronize``: wait for the GPU's queued
    work before answering, so that the grader's clock around a request
    measures the work, not its launch."""

    calls: tuple[Call, ...]
    outputs: Mapping[str, Output]
    keep: Mapping[str, Returned] = field(default_factory=dict)
    synchronize: bool = False
    # The student function under test; default: the last one called. A case
    # where another student function (a backward's forward) fails says "not
    # graded: `<forward>` failed on this input", and its points are lost: the
    # graded function could not be shown right there (README, "For students").
    graded: str | None = None
    # A part run after this one in a fresh child of the same submission's sandbox (``Sandbox.run``), on the case's
    # inputs and the outputs of the parts before it: a checkpoint saved here is loaded there by a process that
    # never held the objects saved. Each part crosses the boundary on its own (``parts``).
    then: Program | None = None

    @property
    def parts(self) -> tuple[Program, ...]:
        """The programs to run one after the other, each in a child of its own (one, unless ``then`` is given)."""
        return (self,) if self.then is None else (replace(self, then=None), *self.then.parts)

    @property
    def functions(self) -> tuple[str, ...]:
        """The student functions it calls, in every part (builtins excluded)."""
        own = [c.function for c in self.calls if not c.is_builtin]
        return tuple(dict.fromkeys([*own, *(self.then.functions if self.then else ())]))

    @property
    def graded_function(self) -> str | None:
        return self.graded or (self.functions[-1] if self.functions else None)

    @property
    def taken(self) -> frozenset[str]:
        """The inputs its calls take (not a gradient's cotangent, which only the output reads)."""
        return frozenset(a.name for c in self.calls for a in (*c.args, *(v for _, v in c.kwargs))
                         if isinstance(a, (Input, Tensor)))


# -- a request ---------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Time the program's one call against the child's trusted builtin
    ``baseline`` with the shared harness (``timing.py``): input set ``i`` is
    sent as ``name@i``; the first ``warmup`` sets warm up, the next
    ``repeats`` are timed; ``outputs`` are sent back for every timed set."""

    baseline: str
    warmup: int
    repeats: int
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class Request:
    """One case's work for the child: run ``program`` on ``device``, refusing
    the torch functions ``forbidden`` (dotted names), timed when ``timing``
    is given. The inputs travel beside it as the message's arrays and scalars."""

    program: Program
    device: DeviceName = "cpu"
    forbidden: tuple[str, ...] = ()
    timing: Timing | None = None


def encode_request(request: Request) -> dict[str, Any]:
    """The request as the JSON header of a wire message."""
    return {"version": PROTOCOL_VERSION, "program": _encode_program(request.program), "device": request.device,
            "forbidden": list(request.forbidden),
            "timing": None if request.timing is None else {
                "baseline": request.timing.baseline, "warmup": request.timing.warmup,
                "repeats": request.timing.repeats, "outputs": list(request.timing.outputs)}}


def decode_request(meta: Any) -> Request:
    """The request a header describes, checked field by field; a
    ``ProtocolError`` says what is wrong."""
    header = _object(meta, "request")
    if header.get("version") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {header.get('version')!r}; this child speaks {PROTOCOL_VERSION}")
    device = header.get("device")
    if device not in ("cpu", "cuda"):
        raise ProtocolError(f"device {device!r} is neither 'cpu' nor 'cuda'")
    timing = header.get("timing")
    if timing is not None:
        timing = _object(timing, "timing")
        timing = Timing(_string(timing.get("baseline"), "timing.baseline"), _count(timing.get("warmup"), "warmup"),
                        _count(timing.get("repeats"), "repeats"), _strings(timing.get("outputs"), "timing.outputs"))
    return Request(_decode_program(header.get("program")), device, _strings(header.get("forbidden"), "forbidden"),
                   timing)


def _encode_program(program: Program) -> dict[str, Any]:
    if program.then is not None:
        raise ValueError("a program in parts crosses the boundary one part at a time (Program.parts)")
    return {"calls": [{"function": c.function, "args": [_encode_part(a) for a in c.args],
                       "kwargs": {k: _encode_part(v) for k, v in c.kwargs}, "modifies": list(c.modifies)}
                      for c in program.calls],
            "outputs": {name: _encode_part(part) for name, part in program.outputs.items()},
            "keep": {name: _encode_part(part) for name, part in program.keep.items()},
            "synchronize": program.synchronize, "graded": program.graded}


def _encode_part(part: Arg | Output) -> dict[str, Any]:
    if isinstance(part, Input):
        return {"input": part.name, "index": part.index}
    if isinstance(part, Returned):
        return {"returned": {"call": part.call, "index": part.index, "key": part.key}}
    if isinstance(part, Stack):
        return {"stack": [_encode_part(p) for p in part.parts]}
    if isinstance(part, Tensor):
        return {"tensor": part.name, "requires_grad": part.requires_grad}
    if isinstance(part, Device):
        return {"device": True}
    if isinstance(part, Kept):
        return {"kept": part.name}
    return {"gradient": {"of": _encode_part(part.of), "wrt": part.wrt, "cotangent": part.cotangent}}


def _decode_program(value: Any) -> Program:
    program = _object(value, "program")
    calls = []
    for i, step in enumerate(_list(program.get("calls"), "program.calls")):
        step = _object(step, f"call {i}")
        kwargs = _object(step.get("kwargs"), f"call {i} kwargs")
        modifies = _list(step.get("modifies"), f"call {i} modifies")
        if not all(isinstance(m, (int, str)) and not isinstance(m, bool) for m in modifies):
            raise ProtocolError(f"call {i}: modifies holds something other than positions and keywords")
        calls.append(Call(_string(step.get("function"), f"call {i} function"),
                          tuple(_decode_arg(a, f"call {i}") for a in _list(step.get("args"), f"call {i} args")),
                          tuple((_string(k, "keyword"), _decode_arg(a, f"call {i}")) for k, a in kwargs.items()),
                          tuple(modifies)))
    outputs = {_string(name, "output"): _decode_output(part, name)
               for name, part in _object(program.get("outputs"), "program.outputs").items()}
    keep = {_string(name, "kept value"): _returned(part, name)
            for name, part in _object(program.get("keep"), "program.keep").items()}
    graded = program.get("graded")
    if graded is not None:
        graded = _string(graded, "program.graded")
    synchronize = program.get("synchronize")
    if not isinstance(synchronize, bool):
        raise ProtocolError("program.synchronize is not a boolean")
    return Program(tuple(calls), outputs, keep, synchronize, graded)


def _decode_arg(value: Any, where: str) -> Arg:
    part = _object(value, where)
    if "input" in part:
        return _input(part, where)
    if "returned" in part:
        return _returned(part, where)
    if "tensor" in part:
        requires_grad = part.get("requires_grad")
        if not isinstance(requires_grad, bool):
            raise ProtocolError(f"{where}: requires_grad is not a boolean")
        return Tensor(_string(part["tensor"], where), requires_grad)
    if part.get("device") is True:
        return Device()
    if "kept" in part:
        return Kept(_string(part["kept"], where))
    raise ProtocolError(f"{where}: not an argument: {sorted(part)}")


def _decode_output(value: Any, name: str) -> Output:
    part = _object(value, f"output {name}")
    if "input" in part:
        return _input(part, name)
    if "returned" in part:
        return _returned(part, name)
    if "stack" in part:
        parts = tuple(_input(p, name) if "input" in _object(p, name) else _returned(p, name)
                      for p in _list(part["stack"], f"output {name}"))
        return Stack(parts)
    if "gradient" in part:
        gradient = _object(part["gradient"], f"output {name}")
        return Gradient(_returned(gradient.get("of"), name), _string(gradient.get("wrt"), name),
                        _string(gradient.get("cotangent"), name))
    raise ProtocolError(f"output {name}: not an output: {sorted(part)}")


def _input(part: dict, where: str) -> Input:
    return Input(_string(part.get("input"), where), _optional_count(part.get("index"), where))


def _returned(value: Any, where: str) -> Returned:
    returned = _object(_object(value, where).get("returned"), where)
    key = returned.get("key")
    if key is not None:
        key = _string(key, where)
    return Returned(_count(returned.get("call"), where), _optional_count(returned.get("index"), where), key)


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ProtocolError(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise ProtocolError(f"{where} is not a list")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{where} is not a string")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    return tuple(_string(v, where) for v in _list(value, where))


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{where}: {value!r} is not a count")
    return value


def _optional_count(value: Any, where: str) -> int | None:
    return None if value is None else _count(value, where)
