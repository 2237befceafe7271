"""The catalogued bugs of grader/suites/transfer.py made real: edits (old, new) of transfer.py, by bug name."""

MUTATIONS = {
    "backbone-not-frozen": (("    backbone.requires_grad_(False)\n", ""),),
    "wrong-classes": (("nn.Linear(FEATURES, CLASSES)", "nn.Linear(FEATURES, 10)"),),
    "batchnorm-statistics": (("            module.eval()\n", "            pass\n"),),
}
