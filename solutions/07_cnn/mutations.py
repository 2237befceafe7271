"""The catalogued bugs of grader/suites/cnn.py made real: edits (old, new) of cnn.py, by bug name."""

MUTATIONS = {
    "no-bias": (("+ bias.reshape(1, filters, 1)", ""),),
    "flipped-kernel": (("weight.reshape(filters, -1)", "weight.flip(2, 3).reshape(filters, -1)"),),
    "transposed-kernel": (("weight.reshape(filters, -1)", "weight.transpose(2, 3).reshape(filters, -1)"),),
}
