"""Own power-of-two helper (bit_length) instead of triton.next_power_of_2, a
minimum block of 16 lanes and num_warps chosen from the block; add on small
blocks of 256 with x.numel(); softmax with exp2 and log2(e) as in the fused
attention kernels; matmul on 16 x 16 tiles with slices of 16, the K loop
running over offsets rather than slice numbers, masks built once."""
import torch
import triton
import triton.language as tl

BUG = ("softmax", "return 1 << (n - 1).bit_length()", "return 1 << (n.bit_length() - 1)")

LOG2E = 1.4426950408889634


def pow2_at_least(n):
    if n <= 1:
        return 1
    return 1 << (n - 1).bit_length()


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    block_start = tl.program_id(axis=0) * BLOCK
    offsets = block_start + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    y = tl.load(y_ptr + offsets, mask=mask, other=0.0)
    output = x + y
    tl.store(out_ptr + offsets, output, mask=mask)


def add(x, y):
    assert x.shape == y.shape
    output = torch.empty_like(x)
    n_elements = output.numel()
    BLOCK = 256
    grid = ((n_elements + BLOCK - 1) // BLOCK,)
    add_kernel[grid](x, y, output, n_elements, BLOCK=BLOCK)
    return output


@triton.jit
def softmax_exp2_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols,
                        BLOCK_SIZE: tl.constexpr, SCALE: tl.constexpr):
    row_idx = tl.program_id(0)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    input_ptrs = input_ptr + row_idx * input_row_stride + col_offsets
    row = tl.load(input_ptrs, mask=col_offsets < n_cols, other=-float("inf"))
    row_minus_max = row - tl.max(row, axis=0)
    numerator = tl.exp2(row_minus_max * SCALE)
    denominator = tl.sum(numerator, axis=0)
    softmax_output = numerator / denominator
    output_ptrs = output_ptr + row_idx * output_row_stride + col_offsets
    tl.store(output_ptrs, softmax_output, mask=col_offsets < n_cols)


def softmax(x):
    n_rows, n_cols = x.shape
    BLOCK_SIZE = max(16, pow2_at_least(n_cols))
    num_warps = 4 if BLOCK_SIZE < 2048 else 8
    y = torch.empty_like(x)
    softmax_exp2_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols,
                                   BLOCK_SIZE=BLOCK_SIZE, SCALE=LOG2E, num_warps=num_warps)
    return y


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    row_ok = rm < M
    col_ok = rn < N
    acc = tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float32)
    for k_off in range(0, K, BLOCK_K):
        kk = k_off + rk
        k_ok = kk < K
        a = tl.load(a_ptr + rm[:, None] * stride_am + kk[None, :] * stride_ak,
                    mask=row_ok[:, None] & k_ok[None, :], other=0.0)
        b = tl.load(b_ptr + kk[:, None] * stride_bk + rn[None, :] * stride_bn,
                    mask=k_ok[:, None] & col_ok[None, :], other=0.0)
        acc += tl.dot(a, b, input_precision="ieee", out_dtype=tl.float32)
    c_ptrs = c_ptr + rm[:, None] * stride_cm + rn[None, :] * stride_cn
    tl.store(c_ptrs, acc, mask=row_ok[:, None] & col_ok[None, :])


def matmul(a, b):
    M, K = a.shape
    K2, N = b.shape
    assert K == K2
    c = torch.empty((M, N), device=a.device, dtype=a.dtype)
    grid = (triton.cdiv(M, 16), triton.cdiv(N, 16))
    matmul_kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                        c.stride(0), c.stride(1), BLOCK_M=16, BLOCK_N=16, BLOCK_K=16)
    return c
