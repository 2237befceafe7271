"""The kernel lab (11_kernels): graded in CPU mode through Triton's interpreter,
which the grader chooses itself (a notebook submission keeps no top-level code
that would); GPU-only speed checks skipped with the reason; forbidden torch
operations refused statically and at run time; the stub keeps the tiles the
catalogued bugs are described for; on a GPU (marked ``gpu``) the speed points.

The curriculum, notebook and generate tests cover the rest (solution, stub,
variants, every catalogued bug), as for every assignment."""

from __future__ import annotations

import ast
import dataclasses

import numpy as np
import pytest

pytest.importorskip("triton", reason="11_kernels needs triton (pip install -e '.[dev]', or the extra '.[kernels]')")

from grader.course import Course, Secret  # noqa: E402
from grader.engine import grade_submission  # noqa: E402
from grader.notebooks import render_notebook  # noqa: E402
from grader.render.templates import template_environment  # noqa: E402
from grader.render.text import feedback, to_text  # noqa: E402
from grader.suites import SUITES  # noqa: E402
from grader.suites.kernels import TILE_K, TILE_M, TILE_N  # noqa: E402

COURSE = Course.locate()
SECRET = Secret("kernels-tests")
SUITE = SUITES["kernels"]
EXAMPLES = COURSE.root / "solutions" / "examples" / "kernels"


def by_name(result):
    return {f.name: f for f in result.functions}


@pytest.mark.slow  # a whole grading through the interpreter
def test_a_notebook_submission_runs_in_the_interpreter_the_grader_chooses(tmp_path, monkeypatch):
    """From a notebook only imports and definitions are graded: the module's
    own choice of the interpreter is dropped, so the grader's must hold (the
    kernels call tl.max and tl.sum, which run only where it was made before
    triton's import). GPU-only speed checks are skipped with the reason."""
    nbformat = pytest.importorskip("nbformat", reason="rendering the notebook needs nbformat (pip install -e .[dev])")
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")  # CPU mode even on a GPU machine
    source = COURSE.solution_file(SUITE).read_text()
    notebook = render_notebook(template_environment(COURSE.root / "templates"), COURSE, SUITE, source)
    setup = next(cell.source for cell in nbformat.reads(notebook, as_version=4).cells if cell.id == "setup")
    assert 'os.environ.setdefault("TRITON_INTERPRET", "1")' in setup
    submission = tmp_path / "kernels.ipynb"
    submission.write_text(notebook)
    result = grade_submission(SUITE, submission, SECRET, COURSE)
    assert result.score == result.max_score == SUITE.max_points - 2, to_text(result)
    for name in ("softmax", "matmul"):
        (speed,) = [c for c in by_name(result)[name].cases if c.speed]
        assert speed.skipped == "GPU-only check: no CUDA GPU here" and speed.max_score == 0


FORBIDDEN = '''
import os

import torch

os.environ.setdefault("TRITON_INTERPRET", "1")
import torch.nn.functional as F  # noqa: E402


def add(x, y):
    return x + y  # Tensor.add, refused at run time


def softmax(x):
    return F.softmax(x, dim=1)


def matmul(a, b):
    return getattr(torch, "mat" + "mul")(a, b)  # a name built at run time: the scan cannot see it
'''


def test_the_operations_implemented_are_forbidden_statically_and_at_run_time(tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    submission = tmp_path / "kernels.py"
    submission.write_text(FORBIDDEN)
    functions = by_name(grade_submission(SUITE, submission, SECRET, COURSE))
    assert all(f.score == 0 for f in functions.values())
    assert "softmax must not use torch.nn.functional.softmax (line 15" in feedback(functions["softmax"])
    assert "add called torch.Tensor.add, which it must not use here" in feedback(functions["add"])
    assert "matmul called torch.matmul, which it must not use here" in feedback(functions["matmul"])


def test_the_stub_declares_the_tiles_the_bugs_are_described_for():
    stub = ast.parse((COURSE.assignment_dir(SUITE) / "kernels.py").read_text())
    constants = {node.targets[0].id: ast.literal_eval(node.value) for node in stub.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    assert (constants["BLOCK_M"], constants["BLOCK_N"], constants["BLOCK_K"]) == (TILE_M, TILE_N, TILE_K)


# --------------------------------------------------------------------------- on a GPU


@pytest.mark.gpu
def test_gpu_mode_gives_the_solution_and_the_variant_every_point():
    for path in (COURSE.solution_dir(SUITE), EXAMPLES / "correct_rows.py"):
        result = grade_submission(SUITE, path, SECRET, COURSE)
        assert result.score == result.max_score == SUITE.max_points, to_text(result)


@pytest.mark.gpu
def test_kernels_without_tiling_lose_only_the_speed_points():
    result = grade_submission(SUITE, EXAMPLES / "slow_correct.py", SECRET, COURSE)
    lost = {(f.name, c.speed) for f in result.functions for c in f.cases if not c.passed}
    assert lost == {("softmax", True), ("matmul", True)}, to_text(result)


@pytest.mark.gpu
def test_the_matmul_baseline_is_exact_float32_and_tf32_would_fail_a_correct_student():
    import torch

    from grader.child.torch_support import matmul as exact_matmul

    a, b = torch.randn(512, 700, device="cuda"), torch.randn(700, 300, device="cuda")
    reference = a.double() @ b.double()
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        tf32 = a @ b
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved
    relative = lambda c: ((c.double() - reference).abs().max() / reference.abs().max()).item()  # noqa: E731
    assert relative(tf32) > SUITE.function("matmul").tolerance.rtol > relative(exact_matmul(a, b))


def test_a_correct_autotuned_kernel_gets_every_point_without_a_gpu(tmp_path):
    """@triton.autotune over several tile shapes (the Triton tutorial's way): in CPU mode each child first has the
    autotuner time its configurations by the CPU clock (Limits.cpu_setup), where the interpreter has no driver."""
    from grader.child.protocol import Request
    from grader.sandbox import Sandbox
    from grader.spec import Program, Returned, Tensor, call

    module = tmp_path / "tuned.py"
    module.write_text('''
import os
os.environ.setdefault("TRITON_INTERPRET", "1")
import torch, triton, triton.language as tl

@triton.autotune(configs=[triton.Config({"BLOCK": 16}), triton.Config({"BLOCK": 64})], key=["n"])
@triton.jit
def double_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    lanes = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + lanes, 2 * tl.load(x_ptr + lanes, mask=lanes < n), mask=lanes < n)

def double(x):
    doubled = torch.empty_like(x)
    double_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, doubled, x.numel())
    return doubled
''')
    request = Request(Program((call("double", Tensor("x")),), {"out": Returned(0)}))
    x = np.arange(100, dtype=np.float32)
    limits = SUITE.limits
    for setup, expected in ((limits.cpu_setup, None), ((), "0 active drivers")):
        with Sandbox(module, "tuned", dataclasses.replace(limits, cpu_setup=setup), device="cpu") as box:
            outcome = box.run(request, {"x": x}, time_limit=60)
        if expected is None:
            assert outcome.ok and np.array_equal(outcome.outputs["out"], 2 * x), outcome.message
        else:  # the test's own control: without the setup, Triton cannot autotune here
            assert not outcome.ok and expected in outcome.message, outcome.message


def test_a_task_setup_that_fails_is_the_machines_failure_not_the_submissions(tmp_path):
    from grader.child.protocol import Request
    from grader.sandbox import Sandbox, SandboxError
    from grader.spec import Limits, Program, Returned, call

    module = tmp_path / "toy.py"
    module.write_text("def f():\n    return 1\n")
    request = Request(Program((call("f"),), {"out": Returned(0)}))
    limits = Limits(cpu_setup=("kernels.no_such_preparation",), packages=("numpy", "torch", "triton"),
                    preload=("numpy", "torch"), forbidden_modules=(), memory_bytes=None)
    with Sandbox(module, "toy", limits, device="cpu") as box:
        with pytest.raises(SandboxError, match="preparing the child failed: .*no_such_preparation"):
            box.run(request, {}, time_limit=60)


COMPILES_FOR_A_GPU = '''
import subprocess
import numpy as np
import triton, triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

@triton.jit
def halve_kernel(x_ptr, n, BLOCK: tl.constexpr):
    lanes = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + lanes, tl.load(x_ptr + lanes, mask=lanes < n) / 2, mask=lanes < n)

def cubin():
    source = ASTSource(fn=halve_kernel, signature={"x_ptr": "*fp32", "n": "i32", "BLOCK": "constexpr"},
                       constexprs={"BLOCK": 128})
    return np.frombuffer(triton.compile(source, target=GPUTarget("cuda", 90, 32)).asm["cubin"], dtype=np.uint8)

def shell():
    return np.array(subprocess.run(["/bin/sh", "-c", "true"]).returncode)
'''


def test_triton_compiles_a_kernel_for_the_gpu_with_its_own_ptxas_and_nothing_else(tmp_path):
    """On a GPU, Triton compiles each kernel in the student's process and runs its bundled ptxas to assemble it:
    the suite's Limits.executables lets that one program start, and no other. Compiling for an H100/H200 (sm_90)
    needs no GPU, so the part of the GPU path that starts ptxas is tested here, in the sandbox (without the
    interpreter, as on a GPU)."""
    from grader.child.protocol import Request
    from grader.sandbox import Sandbox
    from grader.spec import Program, Returned, call

    module = tmp_path / "compiled.py"
    module.write_text(COMPILES_FOR_A_GPU)
    on_a_gpu = dataclasses.replace(SUITE.limits, cpu_environment=(), cpu_setup=())
    compile_it = Request(Program((call("cubin"),), {"cubin": Returned(0)}))
    start_a_shell = Request(Program((call("shell"),), {"code": Returned(0)}))
    with Sandbox(module, "compiled", on_a_gpu, device="cpu") as box:
        compiled = box.run(compile_it, {}, time_limit=120)
        shell = box.run(start_a_shell, {}, time_limit=60)
    assert compiled.ok, compiled.message
    assert bytes(compiled.outputs["cubin"][:4]) == b"\x7fELF"
    assert not shell.ok and "subprocess.Popen is not allowed" in shell.message, shell.message
    with Sandbox(module, "compiled", dataclasses.replace(on_a_gpu, executables=()), device="cpu") as box:
        refused = box.run(compile_it, {}, time_limit=120)
    assert not refused.ok and "is not allowed while grading" in refused.message, refused.message
