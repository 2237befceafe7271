"""Assignment 11: GPU kernels in Triton.

A GPU runs a kernel as a grid of *programs*, each on a block of the data. In
Triton a kernel is a Python function decorated with ``@triton.jit``: it
receives pointers and sizes, asks ``tl.program_id(axis)`` which program it is,
computes the offsets of its block with ``tl.arange``, and moves whole blocks
with ``tl.load`` and ``tl.store``. A block's size is a compile-time constant
(``tl.constexpr``), a power of two; where the data ends inside a block, a
*mask* turns the lanes past the end off (``tl.load(..., mask=m, other=v)``
fills them with ``v``). A plain Python wrapper allocates the output and
launches the kernel on its grid: ``kernel[grid](arguments...)``.

Three kernels, each with its wrapper:

* ``add_kernel`` / ``add(x, y)``: the warm-up, ``x + y`` for 1-D tensors.
* ``softmax_kernel`` / ``softmax(x)``: softmax over each row of a 2-D tensor,
  one program per row, stable for logits of any size.
* ``matmul_kernel`` / ``matmul(a, b)``: ``a @ b``, tiled: each program
  computes one ``BLOCK_M x BLOCK_N`` tile of the product, walking ``K`` a
  ``BLOCK_K`` slice at a time with ``tl.dot`` and a float32 accumulator.

The grader compares each wrapper's result with torch's (``torch.softmax``,
``a @ b`` in exact float32) on shapes that are *not* multiples of the blocks,
and on a GPU times it against torch's own kernel. The wrappers may not call the
torch operation they implement (``torch.softmax``, ``torch.exp``, ``@``,
``torch.matmul``, ``torch.add``... ): the kernel computes it. Inputs are float32
tensors on the GPU, or on the CPU where there is none: Triton's interpreter then
runs the same kernels on the CPU, one program after another (slowly: keep the
shapes small when you try things out).

``@triton.autotune`` over several configurations is welcome. It times each one
on the GPU; Triton's interpreter cannot ("0 active drivers"), so without a GPU
try your kernel with a single configuration. The grader, without a GPU, times
them by the CPU clock.
"""

import os

import torch

# Without a GPU, Triton's interpreter runs the kernels on CPU tensors. It is chosen when
# triton is first imported, so before that (the grader sets it too where it has no GPU).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import triton  # noqa: E402
import triton.language as tl  # noqa: E402

# Elements per program of add.
ADD_BLOCK = 1024
# The tiles of matmul. tl.dot needs each to be at least 16; larger tiles can be faster on a large GPU.
BLOCK_M = 32
BLOCK_N = 32
BLOCK_K = 32


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    """Program ``p`` computes ``out[i] = x[i] + y[i]`` for ``i`` in
    ``p * BLOCK ... p * BLOCK + BLOCK - 1``, leaving alone what lies past ``n``."""
    # BEGIN SOLUTION: this program's offsets, a mask for those past n, two masked loads, a masked store
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < n  # the last block runs past the end unless n is a multiple of BLOCK
    x = tl.load(x_ptr + offsets, mask=inside)
    y = tl.load(y_ptr + offsets, mask=inside)
    tl.store(out_ptr + offsets, x + y, mask=inside)
    # END SOLUTION


def add(x, y):
    """``x + y``, computed by ``add_kernel`` on a grid of ADD_BLOCK elements per program.

    Args:
        x: a 1-D float32 tensor of any length.
        y: a float32 tensor of the same length, on the same device.

    Returns:
        out: a new float32 tensor, ``out[i] = x[i] + y[i]``.
    """
    # BEGIN SOLUTION: allocate the output, launch cdiv(n, ADD_BLOCK) programs, return the output
    out = torch.empty_like(x)
    n = x.numel()
    add_kernel[(triton.cdiv(n, ADD_BLOCK),)](x, y, out, n, BLOCK=ADD_BLOCK)
    return out
    # END SOLUTION


@triton.jit
def softmax_kernel(out_ptr, x_ptr, n_cols, row_stride, col_stride, BLOCK: tl.constexpr):
    """Program ``r`` writes the softmax of row ``r`` of ``x`` into row ``r`` of
    ``out`` (element ``(r, c)`` of either lies at ``r * row_stride + c *
    col_stride``); ``BLOCK`` is a power of two of at least ``n_cols``."""
    # BEGIN SOLUTION: load the row (masked lanes must not count), subtract its maximum, exponentiate, divide by the sum
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    inside = cols < n_cols
    offsets = row * row_stride + cols * col_stride
    # Lanes past the row's end read -inf: they change neither the maximum nor (exp(-inf) = 0) the sum.
    x = tl.load(x_ptr + offsets, mask=inside, other=-float("inf"))
    # The largest entry becomes exp(0) = 1: nothing overflows, however large the logits.
    shifted = x - tl.max(x, axis=0)
    e = tl.exp(shifted)
    tl.store(out_ptr + offsets, e / tl.sum(e, axis=0), mask=inside)
    # END SOLUTION


def softmax(x):
    """Softmax over each row, computed by ``softmax_kernel``, one program per row.

    Args:
        x: a 2-D float32 tensor (rows, cols); its entries may be large (logits
            near +-1000).

    Returns:
        out: a new float32 tensor of the same shape, each row ``exp(x[r]) /
            sum(exp(x[r]))`` (no NaN or infinity for finite inputs).
    """
    # BEGIN SOLUTION: the output, a block of the width rounded up to a power of two, one program per row
    x = x.contiguous()  # a copy only where the rows are not laid out one after another; out shares the strides
    rows, cols = x.shape
    out = torch.empty_like(x)
    softmax_kernel[(rows,)](out, x, cols, x.stride(0), x.stride(1), BLOCK=triton.next_power_of_2(cols))
    return out
    # END SOLUTION


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    """Program ``(i, j)`` computes the tile ``c[i*BLOCK_M : (i+1)*BLOCK_M,
    j*BLOCK_N : (j+1)*BLOCK_N]`` of ``c = a @ b`` (the part of it inside ``c``),
    ``a`` (M, K), ``b`` (K, N); element ``(m, k)`` of ``a`` lies at
    ``m * stride_am + k * stride_ak``, and likewise for ``b`` and ``c``."""
    # BEGIN SOLUTION: the tile's rows and columns; over every K slice, masked loads of a and b and tl.dot; masked store
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        inner = k * BLOCK_K + tl.arange(0, BLOCK_K)
        # Masked entries read 0: past the edges they add nothing to the products.
        a = tl.load(a_ptr + rows[:, None] * stride_am + inner[None, :] * stride_ak,
                    mask=(rows[:, None] < M) & (inner[None, :] < K), other=0.0)
        b = tl.load(b_ptr + inner[:, None] * stride_bk + cols[None, :] * stride_bn,
                    mask=(inner[:, None] < K) & (cols[None, :] < N), other=0.0)
        # "ieee": exact float32 products; a GPU's default for float32 is TF32, about 1e-3 off.
        acc += tl.dot(a, b, input_precision="ieee")
    tl.store(c_ptr + rows[:, None] * stride_cm + cols[None, :] * stride_cn, acc,
             mask=(rows[:, None] < M) & (cols[None, :] < N))
    # END SOLUTION


def matmul(a, b):
    """``a @ b``, computed by ``matmul_kernel`` on a grid of BLOCK_M x BLOCK_N tiles.

    Args:
        a: a float32 tensor (M, K).
        b: a float32 tensor (K, N), on the same device.

    Returns:
        c: a new float32 tensor (M, N), accumulated in float32 (without TF32).
    """
    # BEGIN SOLUTION: the output, a grid of cdiv(M, BLOCK_M) x cdiv(N, BLOCK_N) tiles, launch with every stride
    m, k = a.shape
    n = b.shape[1]
    # zeros, not empty: an element no program writes reads 0 on every run, not whatever the memory held.
    c = torch.zeros((m, n), device=a.device, dtype=torch.float32)
    grid = (triton.cdiv(m, BLOCK_M), triton.cdiv(n, BLOCK_N))
    matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1),
                        BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K)
    return c
    # END SOLUTION
