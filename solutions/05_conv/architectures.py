"""The lectures' two networks as lists of layers, in the notation of ``conv.py``'s docstring, for
``layer_summary`` and ``network_summary`` (the public tests and the notebook use them). Part of the course:
nothing to write here, and nothing here is handed in."""

# VGG-16 for a 3 x 224 x 224 image: five stages of 3x3 convolutions (padding 1 keeps the size), each closed by a
# 2x2 max-pooling that halves it, then three fully connected layers.
VGG16 = [
    *[layer for filters, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
      for layer in [("conv", filters, 3, 3, 1, 1, True), ("relu",)] * convs + [("max_pool", 2, 2, 2, 0)]],
    ("flatten",),
    ("linear", 4096, True), ("relu",),
    ("linear", 4096, True), ("relu",),
    ("linear", 1000, True),
]

# ResNet-18 for a 3 x 224 x 224 image, as torchvision builds it: every convolution without bias and followed by
# batch norm; four stages of two residual blocks of two 3x3 convolutions, where the first block of stages 2 to 4
# halves the size and doubles the channels, so its shortcut is a 1x1 convolution of stride 2 (and batch norm).
RESNET18 = [
    ("conv", 64, 7, 7, 2, 3, False), ("batchnorm",), ("relu",), ("max_pool", 3, 3, 2, 1),
    *[layer for filters, stride in [(64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)]
      for layer in [("residual",
                     [("conv", filters, 3, 3, stride, 1, False), ("batchnorm",), ("relu",),
                      ("conv", filters, 3, 3, 1, 1, False), ("batchnorm",)],
                     [] if stride == 1 else [("conv", filters, 1, 1, stride, 0, False), ("batchnorm",)]),
                    ("relu",)]],
    ("avg_pool", 7, 7, 7, 0), ("flatten",), ("linear", 1000, True),
]
