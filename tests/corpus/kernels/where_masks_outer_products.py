"""Masks applied with tl.where after plain masked loads rather than with
``other=``; matmul without tl.dot: each slice of K adds up a block of outer
products with tl.sum over a 3-D broadcast (BLOCK x BK x BLOCK), in float32.
The add kernel takes its grid from a lambda; softmax writes into a fresh
``torch.empty`` and passes both tensors' strides."""
import torch
import triton
import triton.language as tl

BUG = ("softmax", "vals = tl.where(valid, vals, float(\"-inf\"))", "vals = tl.where(valid, vals, 0.0)")


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    valid = offs < n
    a = tl.where(valid, tl.load(x_ptr + offs, mask=valid), 0.0)
    b = tl.where(valid, tl.load(y_ptr + offs, mask=valid), 0.0)
    tl.store(out_ptr + offs, a + b, mask=valid)


def add(x, y):
    n = x.numel()
    out = torch.empty(n, dtype=torch.float32, device=x.device)
    add_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, out, n, BLOCK=2048)
    return out


@triton.jit
def row_softmax(in_ptr, out_ptr, ncols, in_stride, out_stride, BLOCK: tl.constexpr):
    r = tl.program_id(0)
    c = tl.arange(0, BLOCK)
    valid = c < ncols
    vals = tl.load(in_ptr + r * in_stride + c, mask=valid)
    vals = tl.where(valid, vals, float("-inf"))
    num = tl.exp(vals - tl.max(vals, axis=0))
    num = tl.where(valid, num, 0.0)
    den = tl.sum(num, axis=0)
    tl.store(out_ptr + r * out_stride + c, num / den, mask=valid)


def softmax(x):
    x = x.contiguous()
    rows, cols = x.shape
    out = torch.empty((rows, cols), dtype=x.dtype, device=x.device)
    row_softmax[(rows,)](x, out, cols, x.stride(0), out.stride(0), BLOCK=triton.next_power_of_2(cols))
    return out


TILE = 16
KSTEP = 8


@triton.jit
def outer_matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
                        T: tl.constexpr, KS: tl.constexpr):
    i = tl.program_id(0) * T + tl.arange(0, T)
    j = tl.program_id(1) * T + tl.arange(0, T)
    acc = tl.zeros((T, T), dtype=tl.float32)
    for k0 in range(0, K, KS):
        k = k0 + tl.arange(0, KS)
        amask = (i[:, None] < M) & (k[None, :] < K)
        bmask = (k[:, None] < K) & (j[None, :] < N)
        a = tl.load(a_ptr + i[:, None] * sam + k[None, :] * sak, mask=amask)
        b = tl.load(b_ptr + k[:, None] * sbk + j[None, :] * sbn, mask=bmask)
        a = tl.where(amask, a, 0.0)
        b = tl.where(bmask, b, 0.0)
        acc += tl.sum(a[:, :, None] * b[None, :, :], axis=1)
    tl.store(c_ptr + i[:, None] * scm + j[None, :] * scn, acc, mask=(i[:, None] < M) & (j[None, :] < N))


def matmul(a, b):
    M, K = a.shape
    _, N = b.shape
    c = torch.empty((M, N), dtype=torch.float32, device=a.device)
    grid = (triton.cdiv(M, TILE), triton.cdiv(N, TILE))
    outer_matmul_kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                              c.stride(0), c.stride(1), T=TILE, KS=KSTEP)
    return c
