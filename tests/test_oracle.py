"""What a submission can learn from being graded, and use: its inputs are its
own (from the secret and its content), its feedback tells no expected value
and carries only a bounded piece of text the student controls, and its speed
is measured on fresh inputs with every timed result checked."""

from __future__ import annotations

import dataclasses
import re
from types import ModuleType

import numpy as np
import pytest

from grader.child.program import StudentError, run_program, torch_support
from grader.child.protocol import ErrorKind, Request
from grader.compare import compare
from grader.course import Course, Secret
from grader.engine import MESSAGE_CHARS, OUTPUT_CHARS, bounded, grade_submission, submission_cases, submission_digest
from grader.render.gradescope import to_gradescope
from grader.render.text import feedback, to_text
from grader.spec import Expected, Tolerance
from grader.suites import SUITES
from grader.training import shuffled
from tests.toy import SOLUTION, SUITE, make_course

SECRET = Secret("oracle")
COURSE = Course.locate()


@pytest.fixture
def course(tmp_path):
    make_course(tmp_path / "course")
    return Course(tmp_path / "course")


def write(folder, name, source):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(source)
    return path


def wire_of(monkeypatch, grade) -> bytes:
    """Every message the grader sent to a child while ``grade()`` ran."""
    import grader.sandbox as sandbox_module

    sent, real_encode = [], sandbox_module.encode
    monkeypatch.setattr(sandbox_module, "encode", lambda meta, arrays=None: sent.append(real_encode(meta, arrays))
                        or sent[-1])
    grade()
    monkeypatch.undo()
    return b"".join(sent)


def inputs_of(suite, path, secret=SECRET, helpers=False):
    """The case inputs ``path`` was graded on, by function."""
    digest = submission_digest(path, helpers)
    return {fn.name: [case.inputs for case in submission_cases(suite, fn, secret, digest)] for fn in suite.functions}


def by_function(result):
    return {f.name: f for f in result.functions}


# --------------------------------------------------------------------------- per-submission inputs


def test_two_submissions_get_different_inputs_and_a_regrade_the_same(tmp_path, course, monkeypatch):
    first = write(tmp_path / "a", "toy.py", SOLUTION)
    second = write(tmp_path / "b", "toy.py", SOLUTION + "# one comment more\n")
    wires = {p: wire_of(monkeypatch, lambda p=p: grade_submission(SUITE, p, SECRET, course)) for p in (first, second)}
    for path, other in ((first, second), (second, first)):
        sent = [x["x"].tobytes() for cases in inputs_of(SUITE, path).values() for x in cases]
        assert all(x in wires[path] for x in sent)  # what it was graded on ...
        assert not any(x in wires[other] for x in sent)  # ... and the other one never saw
    # The same file again: the same inputs, the same feedback, to the character.
    again = wire_of(monkeypatch, lambda: grade_submission(SUITE, first, SECRET, course))
    assert again == wires[first]
    buggy = write(tmp_path / "c", "toy.py", SOLUTION.replace("out = 2 * x", "out = 3 * x").replace("x + 1", "x - 1"))
    results = [grade_submission(SUITE, buggy, SECRET, course) for _ in range(2)]
    assert results[0].score == 0 and results[0].bugs == ["tripled"]
    assert to_text(results[0]) == to_text(results[1])
    reports = [to_gradescope(r) for r in results]
    for report in reports:
        report.pop("execution_time")
    assert reports[0] == reports[1]


def test_answers_computed_for_another_submission_score_nothing(tmp_path, course):
    """Submission A's inputs (here straight from the grader; a student would
    have to get them out through A's feedback) with their right answers
    written into submission B: each answer is right for A's case of its
    shape, and B, whose cases are its own, gets none of them."""
    a = write(tmp_path / "a", "toy.py", SOLUTION)
    answers = {fn.name: {case["x"].shape: fn.reference(case)["out"].tolist() for case in cases}
               for fn, cases in zip(SUITE.functions, inputs_of(SUITE, a).values())}
    replay = write(tmp_path / "b", "toy.py", "import numpy as np\n\n"
                   f"ANSWERS = {answers!r}\n\n\n"
                   "def scale_forward(x):\n    return np.array(ANSWERS['scale_forward'][x.shape]), None\n\n\n"
                   "def shift_forward(x):\n    return np.array(ANSWERS['shift_forward'][x.shape]), None\n")
    module = ModuleType("replay")
    exec(replay.read_text(), module.__dict__)
    for fn in SUITE.functions:  # the payload works where the inputs are A's ...
        for case in inputs_of(SUITE, a)[fn.name]:
            out = run_program(module, Request(fn.program), dict(case))["out"]
            assert compare("out", out, Expected(fn.reference(case)["out"]), Tolerance()).ok
    result = grade_submission(SUITE, replay, SECRET, course)  # ... and is graded on its own
    assert result.max_score == 4 and result.score == 0, to_text(result)
    assert all("is wrong at" in c.messages[0] for f in result.functions for c in f.cases)


def test_the_digest_covers_the_module_and_a_folders_helpers_only(tmp_path):
    folder = tmp_path / "alice"
    module = write(folder, "toy.py", SOLUTION)
    helper = write(folder, "helpers.py", "K = 2\n")
    digest = submission_digest(module, helpers=True)
    assert submission_digest(module, helpers=True) == digest
    helper.write_text("K = 3\n")
    assert submission_digest(module, helpers=True) != digest  # a helper is code the submission runs
    # A .py file among others (a batch folder): its neighbours are other students', not its own.
    alone = submission_digest(module)
    write(folder, "bob.py", "pass\n")
    assert submission_digest(module) == alone != submission_digest(module, helpers=True)


def test_a_stub_and_an_invalid_submission_are_graded_as_before(tmp_path, course):
    stub = write(tmp_path / "stub", "toy.py", "def scale_forward(x):\n    raise NotImplementedError\n")
    result = grade_submission(SUITE, stub, SECRET, course)
    assert result.status == "graded" and result.score == 0
    assert "not implemented yet" in feedback(by_function(result)["scale_forward"])
    assert "has no function named shift_forward" in feedback(by_function(result)["shift_forward"])
    empty = write(tmp_path / "empty", "toy.py", "")
    assert grade_submission(SUITE, empty, SECRET, course).status == "invalid"


def test_training_data_comes_in_an_order_of_the_submissions_own():
    images = np.arange(50, dtype=np.uint8).reshape(50, 1, 1)
    labels = np.arange(50) % 10
    data = (images, labels, images[:20], labels[:20], "digits")
    one, again, other = (shuffled(data, SECRET.rng("cnn", "classifier", d)) for d in ("a", "a", "b"))
    for got in (one, other):
        assert np.array_equal(got[0][:, 0, 0] % 10, got[1]) and np.array_equal(got[2][:, 0, 0] % 10, got[3])
        assert sorted(got[0][:, 0, 0]) == list(range(50)) and got[4] == "digits"
    assert all(np.array_equal(x, y) for x, y in zip(one[:4], again[:4]))
    assert not np.array_equal(one[2], other[2]) and not np.array_equal(one[2], images[:20])


# --------------------------------------------------------------------------- no oracle in the feedback


def shown_forms(value: float) -> set[str]:
    forms = {f"{value:.3g}", f"{value:.4f}", f"{value:.2f}"}
    return {f for f in forms if len(f.lstrip("-0.")) >= 2}


def test_a_zero_loss_cannot_read_the_expected_loss(tmp_path):
    suite = SUITES["losses"]
    source = (COURSE.solution_dir(suite) / "losses.py").read_text()
    path = write(tmp_path, "losses.py", source + "\n\ndef mse_loss(pred, target):\n"
                 "    return 0.0, np.zeros_like(pred)\n")
    mse = by_function(grade_submission(suite, path, SECRET, COURSE))["mse_loss"]
    text = feedback(mse)
    fn = suite.function("mse_loss")
    cases = submission_cases(suite, fn, SECRET, submission_digest(path))
    losses = [float(fn.reference(c.inputs)["loss"]) for c in cases]
    assert sum(loss != 0 for loss in losses) == 6 and mse.score == 1  # only "pred equals target" is right
    assert "loss is wrong at 1 of 1 elements" in text and "max abs error ~1e" in text
    for loss in losses:
        if loss:
            assert not any(form in text for form in shown_forms(loss)), (loss, text)


def test_a_constant_answer_reads_no_constant_expected_value_from_a_factor():
    tol = Tolerance()
    constant = Expected(np.full(8, 0.125))  # the gradient of a mean over 8 elements
    message = compare("db", np.ones(8), constant, tol).message
    assert "times the expected value" not in message and "opposite sign" not in message
    assert "max abs error ~1e0" in message and "0.875" not in message and "0.125" not in message
    assert "opposite sign" not in compare("db", np.full(8, -0.125), constant, tol).message
    assert "0 times the expected value" in compare("db", np.zeros(8), constant, tol).message  # tells nothing
    varying = Expected(np.arange(1.0, 9.0))
    assert "0.5 times the expected value" in compare("dx", 0.5 * np.arange(1.0, 9.0), varying, tol).message


def test_errors_are_told_as_powers_of_ten():
    message = compare("loss", np.array(3.2), Expected(np.array(1.0)), Tolerance()).message
    assert "max abs error ~1e0, max rel error ~1e0" in message and "2.2" not in message
    message = compare("out", np.array([1.0, 2.0]), Expected(np.array([1.0, 2.03])), Tolerance()).message
    assert "max abs error ~1e-2, max rel error ~1e-2" in message and "0.03" not in message


def test_an_exception_holding_the_inputs_is_cut(tmp_path, course):
    path = write(tmp_path, "toy.py", "import numpy as np\n\ndef scale_forward(x):\n"
                 "    raise ValueError(repr(np.tile(x, 50).tolist()))\n\n"
                 "def shift_forward(x):\n    return x + 1, None\n")
    result = grade_submission(SUITE, path, SECRET, course)
    scale = by_function(result)["scale_forward"]
    messages = [m for c in scale.cases for m in c.messages]
    assert len(messages) == 2 and scale.score == 0
    for message, case in zip(messages, inputs_of(SUITE, path)["scale_forward"]):
        full = repr(np.tile(case["x"], 50).tolist())
        assert message.startswith("scale_forward raised ValueError: " + full[:300] + " [cut: the first 300 of ")
        assert f"of {len(full)} characters] (at line 4, in scale_forward:" in message
        assert len(message) < 500


def test_printed_inputs_before_a_crash_are_cut(tmp_path, course):
    path = write(tmp_path, "toy.py", "import os, sys\n\ndef scale_forward(x):\n"
                 "    print(repr(x.tolist()) * 20)\n    sys.stdout.flush()\n    os._exit(1)\n\n"
                 "def shift_forward(x):\n    return x + 1, None\n")
    scale = by_function(grade_submission(SUITE, path, SECRET, course))["scale_forward"]
    message = scale.cases[0].messages[0]
    head, _, output = message.partition("; its last output:\n")
    assert head.startswith("the process running your code exited with status 1")
    note, _, shown = output.partition("\n")
    assert re.fullmatch(r"\[cut: the last 1000 of \d+ characters\]", note) and len(shown) == OUTPUT_CHARS


def test_whatever_a_child_sends_the_message_is_bounded():
    assert bounded("short") == "short"
    long = bounded("x" * 100_000)
    assert long.startswith("x" * MESSAGE_CHARS + " [cut: the first") and len(long) < MESSAGE_CHARS + 60
    crash = bounded("y" * 5000 + "; its last output:\n" + "z" * 5000)
    head, _, output = crash.partition("; its last output:\n")
    assert len(head) < MESSAGE_CHARS + 60 and output.endswith("z" * OUTPUT_CHARS) and len(output) < OUTPUT_CHARS + 60


# --------------------------------------------------------------------------- speed on fresh inputs

MEMOISING = '''

_honest = {name}
_memo = {{}}


def {name}(*args):
    key = tuple(getattr(a, "shape", a) for a in args)
    if key not in _memo:  # every graded case has a shape of its own
        _memo[key] = _honest(*args)
    return _memo[key]
'''

GARBAGE_AFTER = '''

_honest = {name}
_calls = []


def {name}(*args):
    _calls.append(None)
    result = _honest(*args)
    return result if len(_calls) <= {graded} else {garbage}
'''

TIMED_WRONG = "a result computed while timing was wrong"


def speed_case(result, function):
    (case,) = [c for c in by_function(result)[function].cases if c.speed]
    return case, [c for c in by_function(result)[function].cases if not c.speed]


def test_the_grader_timed_speed_check_sees_memoising_and_garbage(tmp_path):
    suite = dataclasses.replace(SUITES["conv"], functions=(SUITES["conv"].function("conv_forward"),))
    solution = (COURSE.solution_dir(suite) / "conv.py").read_text()
    graded = len(suite.functions[0].cases(SECRET.rng("conv")))
    payloads = {
        "honest": solution,
        "memoising": solution + MEMOISING.format(name="conv_forward"),
        "garbage": solution + GARBAGE_AFTER.format(name="conv_forward", graded=graded,
                                                   garbage="(np.zeros_like(result[0]), result[1])"),
    }
    for kind, source in payloads.items():
        path = write(tmp_path / kind, "conv.py", source)
        speed, cases = speed_case(grade_submission(suite, path, SECRET, COURSE), "conv_forward")
        assert len(cases) == graded and all(c.passed for c in cases), kind  # correct where graded
        if kind == "honest":
            assert not any(TIMED_WRONG in m for m in speed.messages), speed.messages
        else:
            assert speed.score == 0 and speed.messages[0].startswith(TIMED_WRONG), (kind, speed.messages)
            assert "of 6 fresh inputs" in speed.messages[0] and "out is wrong at" in speed.messages[0]


UNGUARDED = '''

import torch
from torch.utils._python_dispatch import _pop_mode, _push_mode


def _unguarded(call):
    """Runs call with torch's function and dispatch modes off their stacks (then back)."""
    functions = [torch._C._pop_torch_function_stack() for _ in range(torch._C._len_torch_function_stack())]
    dispatch = [_pop_mode() for _ in range(torch._C._len_torch_dispatch_stack())]
    try:
        return call()
    finally:
        for mode in reversed(dispatch):
            _push_mode(mode)
        for mode in reversed(functions):
            torch._C._push_on_torch_function_stack(mode)


_honest = conv2d
_calls = []


def conv2d(x, weight, bias, stride=1, padding=0):
    _calls.append(None)
    if len(_calls) <= {honest_calls}:
        return _honest(x, weight, bias, stride, padding)
    library = getattr(torch.nn, "func" + "tional")
    return _unguarded(lambda: getattr(library, "conv" + "2d")(x, weight, bias, stride=stride, padding=padding))
'''


@pytest.fixture(scope="module")
def cnn_conv():
    """The CNN assignment's conv2d alone, its speed check on the CPU on its first (small) case, for the
    builtin-baseline path (timed in the child, on a GPU when there is one)."""
    suite = SUITES["cnn"]
    fn = suite.function("conv2d")
    fn = dataclasses.replace(fn, speed=dataclasses.replace(fn.speed, gpu_only=False, case=0, inputs=None, repeats=3))
    return dataclasses.replace(suite, functions=(fn,), training=None), len(fn.cases(SECRET.rng("cnn")))


def test_popping_torchs_modes_is_caught_by_the_autograd_graph(tmp_path, monkeypatch, cnn_conv):
    suite, _ = cnn_conv
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    solution = (COURSE.solution_dir(suite) / "cnn.py").read_text()
    path = write(tmp_path, "cnn.py", solution + UNGUARDED.format(honest_calls=0))
    module = ModuleType("unguarded")
    exec(path.read_text(), module.__dict__)
    fn = suite.functions[0]
    program = Request(fn.program, "cpu", fn.forbidden)
    case = fn.cases(SECRET.rng("cnn"))[0]
    with monkeypatch.context() as unchecked:  # the modes alone let it through ...
        unchecked.setattr(torch_support(), "forbidden_node", lambda value, names: None)
        assert compare("out", run_program(module, program, dict(case.inputs))["out"],
                       Expected(fn.reference(case.inputs)["out"]), fn.tolerance).ok
    with pytest.raises(StudentError, match="ConvolutionBackward0") as refused:  # ... the graph does not
        run_program(module, program, dict(case.inputs))
    assert refused.value.kind is ErrorKind.FORBIDDEN
    conv = by_function(grade_submission(suite, path, SECRET, COURSE))["conv2d"]
    assert conv.score == 0
    assert "conv2d returned a result computed by ConvolutionBackward0" in feedback(conv), feedback(conv)


def test_the_child_timed_speed_check_sees_memoising_garbage_and_a_forbidden_call(tmp_path, monkeypatch, cnn_conv):
    suite, graded = cnn_conv
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    solution = (COURSE.solution_dir(suite) / "cnn.py").read_text()
    payloads = {
        "honest": (solution, None),
        "memoising": (solution + MEMOISING.format(name="conv2d"), TIMED_WRONG),
        "garbage": (solution + GARBAGE_AFTER.format(name="conv2d", graded=graded,
                                                    garbage="torch.zeros(result.shape)"), TIMED_WRONG),
        "forbidden while timed": (solution + UNGUARDED.format(honest_calls=graded),
                                  "while timing: conv2d returned a result computed by ConvolutionBackward0"),
    }
    for kind, (source, expected) in payloads.items():
        path = write(tmp_path / kind.replace(" ", "_"), "cnn.py", source)
        speed, cases = speed_case(grade_submission(suite, path, SECRET, COURSE), "conv2d")
        assert len(cases) == graded and all(c.passed for c in cases), (kind, [c.messages for c in cases])
        assert speed.name == "speed (vs conv2d on the CPU, on 'one channel, 3x3 filters')"
        if expected is None:
            assert not speed.messages or "slower than conv2d" in speed.messages[0], speed.messages
        else:
            assert speed.score == 0 and speed.messages[0].startswith(expected), (kind, speed.messages)
        if kind == "garbage":
            assert "on 3 of 3 fresh inputs" in speed.messages[0]


def test_an_error_relative_to_a_subnormal_value_is_told_without_crashing():
    message = compare("dW", np.array([1.0, 1.0]), Expected(np.array([5e-324, 1.0 + 1e-3])), Tolerance()).message
    assert "max rel error above 1e308" in message
