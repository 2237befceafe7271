"""Online softmax (as in the FlashAttention write-ups): a fixed block of 32
columns walks each row, keeping a running maximum and a running sum that is
rescaled whenever the maximum grows; a second walk writes the results. The
row's width need not fit one block."""
import torch
import triton
import triton.language as tl

BUG = ("softmax", "denom = denom * tl.exp(m_run - m_new)", "denom = denom")

COL_BLOCK = 32


@triton.jit
def online_softmax_kernel(x_ptr, y_ptr, n_cols, stride_row, BLOCK_C: tl.constexpr):
    pid = tl.program_id(axis=0)
    x_row = x_ptr + pid * stride_row
    y_row = y_ptr + pid * stride_row
    m_run = float("-inf")
    denom = 0.0
    for start in range(0, n_cols, BLOCK_C):
        idx = start + tl.arange(0, BLOCK_C)
        chunk = tl.load(x_row + idx, mask=idx < n_cols, other=float("-inf"))
        m_new = tl.maximum(m_run, tl.max(chunk, axis=0))
        denom = denom * tl.exp(m_run - m_new)
        denom += tl.sum(tl.exp(chunk - m_new), axis=0)
        m_run = m_new
    for start in range(0, n_cols, BLOCK_C):
        idx = start + tl.arange(0, BLOCK_C)
        chunk = tl.load(x_row + idx, mask=idx < n_cols, other=float("-inf"))
        tl.store(y_row + idx, tl.exp(chunk - m_run) / denom, mask=idx < n_cols)


def softmax(x):
    assert x.ndim == 2
    x = x.contiguous()
    y = torch.empty_like(x)
    n_rows, n_cols = x.shape
    online_softmax_kernel[(n_rows,)](x, y, n_cols, x.stride(0), BLOCK_C=COL_BLOCK)
    return y
