"""The catalogued bugs of grader/suites/kernels.py made real: edits (old, new) of kernels.py, by bug name."""

MUTATIONS = {
    "max-not-subtracted": (("shifted = x - tl.max(x, axis=0)", "shifted = x"),),
    "padding-counted": (('mask=inside, other=-float("inf"))', "mask=inside, other=0.0)"),),
    # One program per column, the strides swapped: each column's softmax, written where it was read.
    "wrong-axis": (("softmax_kernel[(rows,)](out, x, cols, x.stride(0), x.stride(1), "
                    "BLOCK=triton.next_power_of_2(cols))",
                    "softmax_kernel[(cols,)](out, x, rows, x.stride(1), x.stride(0), "
                    "BLOCK=triton.next_power_of_2(rows))"),),
    "last-k-tile-missing": (("for k in range(0, tl.cdiv(K, BLOCK_K)):", "for k in range(0, K // BLOCK_K):"),),
    "edge-tiles-dropped": (("grid = (triton.cdiv(m, BLOCK_M), triton.cdiv(n, BLOCK_N))",
                            "grid = (m // BLOCK_M, n // BLOCK_N)"),),
}
