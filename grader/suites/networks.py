"""The course's notation of networks (a list of layer tuples, as the conv
assignment's module describes it) as torch modules, built on the meta device
(even VGG-16 takes no memory and no arithmetic), and the lectures' networks in
that notation: the references of the conv suite's architecture arithmetic."""

from __future__ import annotations

import enum
import functools
import json
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn


class Kind(str, enum.Enum):
    """A layer's kind in the course's notation of networks (the assignment module's docstring): the first entry of
    each layer's tuple, a plain string once sent to the student's functions."""

    CONV = "conv"  # (CONV, F, HH, WW, stride, pad, bias)
    MAX_POOL = "max_pool"  # (MAX_POOL, pool_height, pool_width, stride, pad)
    AVG_POOL = "avg_pool"  # (AVG_POOL, pool_height, pool_width, stride, pad)
    BATCHNORM = "batchnorm"
    RELU = "relu"
    FLATTEN = "flatten"
    LINEAR = "linear"  # (LINEAR, M, bias)
    RESIDUAL = "residual"  # (RESIDUAL, main layers, shortcut layers)


def conv(filters: int, height: int, stride: int = 1, pad: int = 0, bias: bool = True,
         width: int | None = None) -> tuple:
    return (Kind.CONV, filters, height, height if width is None else width, stride, pad, bias)


def pool(kind: Kind, size: int, stride: int, pad: int = 0) -> tuple:
    return (kind, size, size, stride, pad)


def linear(outputs: int, bias: bool = True) -> tuple:
    return (Kind.LINEAR, outputs, bias)


def residual(main: list, shortcut: list) -> tuple:
    return (Kind.RESIDUAL, main, shortcut)


BATCHNORM, RELU, FLATTEN = (Kind.BATCHNORM,), (Kind.RELU,), (Kind.FLATTEN,)


class Residual(nn.Module):
    """``main(x) + shortcut(x)``: an empty shortcut is the identity."""

    def __init__(self, main: nn.Sequential, shortcut: nn.Sequential):
        super().__init__()
        self.main, self.shortcut = main, shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x) + self.shortcut(x)


# Each kind's torch.nn module, made for its input x (a batch of one) from the layer's other entries.
_TORCH_LAYERS: dict[Kind, Callable[..., nn.Module]] = {
    Kind.CONV: lambda x, f, hh, ww, stride, pad, bias: nn.Conv2d(x.shape[1], f, (hh, ww), stride, pad, bias=bias),
    Kind.MAX_POOL: lambda x, ph, pw, stride, pad: nn.MaxPool2d((ph, pw), stride, pad),
    Kind.AVG_POOL: lambda x, ph, pw, stride, pad: nn.AvgPool2d((ph, pw), stride, pad),
    Kind.BATCHNORM: lambda x: nn.BatchNorm2d(x.shape[1]),
    Kind.RELU: lambda x: nn.ReLU(),
    Kind.FLATTEN: lambda x: nn.Flatten(),
    # A linear layer takes its input's C * H * W numbers as one vector.
    Kind.LINEAR: lambda x, m, bias: nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), m, bias=bias)),
    Kind.RESIDUAL: lambda x, main, shortcut: Residual(torch_network(main, x), torch_network(shortcut, x)),
}


def _modules(layers, x: torch.Tensor) -> Iterator[tuple[nn.Module, torch.Tensor]]:
    """Each layer as a torch module made for the output of the one before (the first for ``x``), and its output."""
    for kind, *entries in layers:
        # In evaluation mode: batch norm then takes a batch of one, and on the meta device it is twice as fast.
        module = _TORCH_LAYERS[Kind(kind)](x, *entries).eval()
        x = module(x)
        yield module, x


def torch_network(layers, x: torch.Tensor) -> nn.Sequential:
    """The network ``layers`` (the course's notation) as torch modules, for the input ``x``: built under
    ``torch.device("meta")`` from a meta ``x``, even VGG-16 takes no memory and no arithmetic."""
    return nn.Sequential(*(module for module, _ in _modules(layers, x)))


def parameters(module: nn.Module) -> int:
    """torch's count of a module's parameters (buffers, such as batch norm's running statistics, are not)."""
    return sum(p.numel() for p in module.parameters())


def summary_table(input_shape, layers, count: Callable[[nn.Module], int] = parameters) -> np.ndarray:
    """network_summary's table of ``layers`` from torch: the shape of each module's output for one example, as a
    (C, H, W) volume, and ``count(module)``."""
    with torch.device("meta"):
        rows = [(*(*out.shape[1:], 1, 1)[:3], count(module))
                for module, out in _modules(layers, torch.empty(1, *input_shape))]
    return np.array(rows, dtype=np.int64).reshape(len(rows), 4)


def remembered_summary_table(input_shape, layers, count: Callable[[nn.Module], int] = parameters) -> np.ndarray:
    """``summary_table``, each network's once: the lectures' networks are in every grading, and batch norm takes a
    millisecond a layer on the meta device."""
    return _remembered_table(json.dumps([input_shape, layers]), count).copy()


@functools.lru_cache(maxsize=64)
def _remembered_table(network: str, count: Callable[[nn.Module], int]) -> np.ndarray:
    input_shape, layers = json.loads(network)
    return summary_table(input_shape, layers, count)


# ---- the lectures' networks

# VGG-16 for a 224x224 RGB image (the lectures' table): five stages of 3x3 convolutions of padding 1, each closed by
# a 2x2 max-pooling of stride 2, then three fully connected layers; 138,357,544 parameters.
VGG16 = [
    *(layer for filters, convolutions in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
      for layer in (*(conv(filters, 3, pad=1), RELU) * convolutions, pool(Kind.MAX_POOL, 2, 2))),
    FLATTEN, linear(4096), RELU, linear(4096), RELU, linear(1000),
]


def basic_block(filters: int, stride: int, first: tuple, second: tuple) -> list:
    """torchvision's residual block of two convolutions, each followed by batch norm, then a ReLU; where the block
    changes the shape, its shortcut is a 1x1 convolution of the block's stride and batch norm."""
    shortcut = [] if stride == 1 else [conv(filters, 1, stride, bias=False), BATCHNORM]
    return [residual([first, BATCHNORM, RELU, second, BATCHNORM], shortcut), RELU]


def _resnet18(torchvision: bool) -> list:
    """ResNet-18's layers: a 7x7 convolution of stride 2 and a 3x3 max-pooling of stride 2, four stages of two blocks
    of two 3x3 convolutions (the first block of stages 2 to 4 of stride 2, with twice the channels), a 7x7 average
    pooling and a fully connected layer. As torchvision builds it (for a 224x224 image): convolutions without bias,
    batch norm, residual blocks; as the lectures' table lists it (for 227x227): the convolutions alone, with biases."""
    bias = not torchvision

    def block(filters: int, stride: int) -> list:
        first, second = conv(filters, 3, stride, 1, bias), conv(filters, 3, 1, 1, bias)
        return basic_block(filters, stride, first, second) if torchvision else [first, second]

    stages = ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1))
    return [
        conv(64, 7, 2, 3 if torchvision else 1, bias), *((BATCHNORM, RELU) if torchvision else ()),
        pool(Kind.MAX_POOL, 3, 2, 1), *(layer for filters, stride in stages for layer in block(filters, stride)),
        pool(Kind.AVG_POOL, 7, 7), FLATTEN, linear(1000),
    ]


# ResNet-18 as torchvision builds it: 11,689,512 parameters.
RESNET18 = _resnet18(torchvision=True)
# The lectures' ResNet-18 table, row for row: 17 convolutions with a bias each, neither batch norm nor shortcuts;
# 11,511,784 parameters, the table's total. Where the table writes a padding of 0.5 (strided 3x3 layers), the layers
# have 1: the floor of PyTorch's formula gives the table's sizes.
RESNET18_TABLE = _resnet18(torchvision=False)
