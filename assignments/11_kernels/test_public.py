"""Public checks for assignment 11 (kernels). Run them with ``pytest test_public.py`` in this folder.

They compare each wrapper with torch on small tensors whose sizes are not
multiples of the blocks (here, in the tests, torch is the reference; in
kernels.py its softmax, exp and matrix products are off limits). Without a GPU
the kernels run in Triton's interpreter, on the CPU. The grader uses other
shapes: tall and wide, a single row or column, logits near +-1000.
"""

import pytest
import torch

from kernels import add, matmul, softmax

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def random(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(DEVICE)


@pytest.mark.parametrize("n", [1, 1000, 1025])
def test_add_matches_torch(n):
    x, y = random(n, seed=1), random(n, seed=2)
    got = add(x, y)
    assert got.shape == x.shape and got.dtype == torch.float32
    torch.testing.assert_close(got, x + y)


@pytest.mark.parametrize("shape", [(3, 37), (2, 64), (4, 1)])
def test_softmax_matches_torch(shape):
    x = random(*shape) * 3
    got = softmax(x)
    assert got.shape == x.shape
    torch.testing.assert_close(got, torch.softmax(x, dim=1), rtol=1e-4, atol=1e-5)


def test_softmax_of_large_logits_is_finite():
    x = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1000.5]], device=DEVICE)
    got = softmax(x)
    assert torch.isfinite(got).all(), "subtract each row's maximum before exponentiating"
    torch.testing.assert_close(got, torch.softmax(x, dim=1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("m, k, n", [(5, 7, 3), (33, 40, 35), (2, 70, 1)])
def test_matmul_matches_torch(m, k, n):
    a, b = random(m, k, seed=3), random(k, n, seed=4)
    got = matmul(a, b)
    assert got.shape == (m, n) and got.dtype == torch.float32
    expected = (a.double() @ b.double()).float()
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
