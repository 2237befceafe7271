"""Correct but slow on a GPU: softmax reads each row three times in slices of
16 columns (its maximum, its sum, then the result), and matmul does not tile:
one program per row of c, adding one outer product of a column of a and a row
of b per step of K, so each element of b is loaded once for every row of a.
On the interpreter both take about as long as the solution; on a GPU they
are far from torch's kernels."""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import triton  # noqa: E402
import triton.language as tl  # noqa: E402

CHUNK = 16


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + i, tl.load(x_ptr + i, mask=i < n) + tl.load(y_ptr + i, mask=i < n), mask=i < n)


def add(x, y):
    out = torch.empty_like(x)
    add_kernel[(triton.cdiv(x.numel(), CHUNK),)](x, y, out, x.numel(), BLOCK=CHUNK)
    return out


@triton.jit
def softmax_kernel(out_ptr, x_ptr, n_cols, stride, CHUNK: tl.constexpr):
    base = tl.program_id(0) * stride
    lanes = tl.arange(0, CHUNK)
    largest = -float("inf")
    for start in range(0, n_cols, CHUNK):
        piece = tl.load(x_ptr + base + start + lanes, mask=start + lanes < n_cols, other=-float("inf"))
        largest = tl.maximum(largest, tl.max(piece, axis=0))
    total = 0.0
    for start in range(0, n_cols, CHUNK):
        piece = tl.load(x_ptr + base + start + lanes, mask=start + lanes < n_cols, other=-float("inf"))
        total += tl.sum(tl.exp(piece - largest), axis=0)
    for start in range(0, n_cols, CHUNK):
        piece = tl.load(x_ptr + base + start + lanes, mask=start + lanes < n_cols, other=-float("inf"))
        tl.store(out_ptr + base + start + lanes, tl.exp(piece - largest) / total, mask=start + lanes < n_cols)


def softmax(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    softmax_kernel[(x.shape[0],)](out, x, x.shape[1], x.stride(0), CHUNK=CHUNK)
    return out


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, N, K, WIDTH: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, WIDTH)
    acc = tl.zeros((WIDTH,), dtype=tl.float32)
    for k in range(0, K):
        acc += tl.load(a_ptr + row * K + k) * tl.load(b_ptr + k * N + cols, mask=cols < N, other=0.0)
    tl.store(c_ptr + row * N + cols, acc, mask=cols < N)


def matmul(a, b):
    a, b = a.contiguous(), b.contiguous()
    c = torch.empty((a.shape[0], b.shape[1]), device=a.device, dtype=torch.float32)
    matmul_kernel[(a.shape[0],)](a, b, c, b.shape[1], a.shape[1], WIDTH=triton.next_power_of_2(b.shape[1]))
    return c
