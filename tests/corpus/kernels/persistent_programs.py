"""Persistent programs: a fixed, small number of programs each walks its
share of the work with a grid-stride loop (add over blocks, softmax over rows,
as in the Triton tutorial's fused softmax with tl.range and tl.num_programs);
matmul puts the columns of tiles on axis 0 and the rows on axis 1, its grid a
lambda of the meta-parameters, x.new_empty / new_zeros for the outputs."""
import torch
import triton
import triton.language as tl

BUG = ("matmul", "triton.cdiv(M, meta[\"BLOCK_M\"])", "M // meta[\"BLOCK_M\"]")

PROGRAMS = 4


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    step = tl.num_programs(0) * BLOCK
    for start in range(tl.program_id(0) * BLOCK, n, step):
        offs = start + tl.arange(0, BLOCK)
        live = offs < n
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=live) + tl.load(y_ptr + offs, mask=live), mask=live)


def add(x, y):
    out = x.new_empty(x.shape)
    n = x.numel()
    blocks = triton.cdiv(n, 512)
    add_kernel[(min(PROGRAMS, blocks),)](x, y, out, n, BLOCK=512)
    return out


@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_stride, out_stride, n_rows, n_cols, BLOCK: tl.constexpr):
    first = tl.program_id(0)
    every = tl.num_programs(0)
    lanes = tl.arange(0, BLOCK)
    for r in tl.range(first, n_rows, every):
        logits = tl.load(in_ptr + r * in_stride + lanes, mask=lanes < n_cols, other=-float("inf"))
        z = logits - tl.max(logits, axis=0)
        p = tl.exp(z)
        tl.store(out_ptr + r * out_stride + lanes, p / tl.sum(p, axis=0), mask=lanes < n_cols)


def softmax(x):
    x = x.contiguous()
    n_rows, n_cols = x.shape
    out = x.new_empty((n_rows, n_cols))
    softmax_kernel[(min(PROGRAMS, n_rows),)](out, x, x.stride(0), out.stride(0), n_rows, n_cols,
                                             BLOCK=triton.next_power_of_2(n_cols))
    return out


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, s_am, s_ak, s_bk, s_bn, s_cm, s_cn,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    n0 = tl.program_id(0) * BLOCK_N
    m0 = tl.program_id(1) * BLOCK_M
    offs_m = m0 + tl.arange(0, BLOCK_M)
    offs_n = n0 + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), tl.float32)
    for k0 in range(0, K, BLOCK_K):
        a = tl.load(a_ptr + offs_m[:, None] * s_am + (k0 + offs_k)[None, :] * s_ak,
                    mask=(offs_m[:, None] < M) & ((k0 + offs_k)[None, :] < K), other=0.0)
        b = tl.load(b_ptr + (k0 + offs_k)[:, None] * s_bk + offs_n[None, :] * s_bn,
                    mask=((k0 + offs_k)[:, None] < K) & (offs_n[None, :] < N), other=0.0)
        acc = tl.dot(a, b, acc=acc, input_precision="ieee")
    out_mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    tl.store(c_ptr + offs_m[:, None] * s_cm + offs_n[None, :] * s_cn, acc, mask=out_mask)


def matmul(a, b):
    M, K = a.shape
    N = b.shape[1]
    c = a.new_zeros((M, N))

    def grid(meta):
        return (triton.cdiv(N, meta["BLOCK_N"]), triton.cdiv(M, meta["BLOCK_M"]))

    matmul_kernel[grid](a, b, c, M, N, K, *a.stride(), *b.stride(), *c.stride(),
                        BLOCK_M=32, BLOCK_N=64, BLOCK_K=32)
    return c
