"""The one protocol across the process boundary: every program the suites and
the training tasks declare crosses it unchanged, the child's decoder refuses
anything malformed with a clear message (never running student code on it),
and the grader takes from a child only the error kinds a child may send."""

from __future__ import annotations

import numpy as np
import pytest

from grader import sandbox as sandbox_module
from grader.child.protocol import (
    PROTOCOL_VERSION,
    ErrorKind,
    ProtocolError,
    Request,
    Timing,
    child_error,
    decode_request,
    encode_request,
)
from grader.sandbox import Sandbox
from grader.suites import SUITES
from grader.training import step_programs
from tests.test_zygote import PROGRAM, submission


def _every_request():
    for suite in SUITES.values():
        for fn in suite.functions:
            for i, part in enumerate(fn.program.parts):  # a program in parts crosses one part at a time
                yield f"{suite.assignment}.{fn.name}[{i}]", Request(part, "cpu", fn.forbidden)
            if fn.speed and fn.speed.baseline:
                yield f"{fn.name} timed", Request(fn.program, "cuda", fn.forbidden,
                                                  Timing(fn.speed.baseline, 3, 5, tuple(fn.program.outputs)))
        if suite.training:
            for step, program in step_programs(suite.training).items():
                yield f"{suite.training.name}.{step}", Request(program, "cuda")


@pytest.mark.parametrize("name,request_", list(_every_request()))
def test_every_declared_program_round_trips(name, request_):
    assert decode_request(encode_request(request_)) == request_, name


def _header(**changes):
    header = encode_request(PROGRAM)
    header.update(changes)
    return header


@pytest.mark.parametrize("header,says", [
    (_header(version=PROTOCOL_VERSION + 1), "protocol version"),
    (_header(device="tpu"), "device"),
    (_header(forbidden="torch.conv2d"), "forbidden is not a list"),
    (_header(program={"calls": [], "outputs": {}, "keep": {}, "synchronize": "yes", "graded": None}),
     "synchronize is not a boolean"),
    (_header(program={"calls": [{"function": "f", "args": [{"pickle": "..."}], "kwargs": {}, "modifies": []}],
                      "outputs": {}, "keep": {}, "synchronize": False, "graded": None}), "not an argument"),
    (_header(program={"calls": [{"function": "f", "args": [{"returned": {"call": -1}}], "kwargs": {},
                                 "modifies": []}], "outputs": {}, "keep": {}, "synchronize": False, "graded": None}),
     "is not a count"),
    (_header(timing={"baseline": "conv2d", "warmup": 3, "repeats": True, "outputs": []}), "is not a count"),
    ("not an object", "request is not an object"),
])
def test_malformed_requests_are_refused_with_what_is_wrong(header, says):
    with pytest.raises(ProtocolError, match=says):
        decode_request(header)


def test_a_child_names_only_the_errors_a_child_may_send():
    assert child_error("exception") is ErrorKind.EXCEPTION
    for grader_side in ("timeout", "crash", "import", "no such kind", None, 3):
        assert child_error(grader_side) is None


def test_the_child_answers_a_request_it_cannot_read_with_a_protocol_error(tmp_path, monkeypatch):
    """The decoder runs in the child: a request of another version is answered,
    not obeyed, and the next request is served as usual."""
    with Sandbox(submission(tmp_path, "pass"), "toy") as box:
        with monkeypatch.context() as patched:
            patched.setattr(sandbox_module, "encode_request", lambda r: dict(encode_request(r), version=0))
            refused = box.run(PROGRAM, {"x": np.ones(3)}, 10)
        assert refused.error is ErrorKind.PROTOCOL and "protocol version 0" in refused.message, refused
        assert box.run(PROGRAM, {"x": np.ones(3)}, 10).ok
