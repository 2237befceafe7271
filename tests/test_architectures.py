"""The networks of 05_conv's architecture arithmetic, as the suite builds them
in torch (on the meta device: no memory, no download), hold the figures of the
lectures' tables: VGG-16's 138 million parameters (the slide's total less the
65,664 it writes on a max-pooling row), ResNet-18's 11.7 million as torchvision
counts them, and the slide's own ResNet-18 table, 11,511,784."""

from __future__ import annotations

import pytest
import torch

from grader.suites.networks import RESNET18, RESNET18_TABLE, VGG16, parameters, torch_network


@pytest.mark.parametrize("layers, size, total", [
    (VGG16, 224, 138_423_208 - 65_664),
    (RESNET18, 224, 11_689_512),
    (RESNET18_TABLE, 227, 11_511_784),
], ids=["vgg16", "resnet18", "resnet18-lecture-table"])
def test_the_lectures_networks_have_the_lectures_totals(layers, size, total):
    with torch.device("meta"):
        x = torch.empty(1, 3, size, size)
        network = torch_network(layers, x)
        assert network(x).shape == (1, 1000)  # ImageNet's classes
    assert parameters(network) == total


def test_resnet18_differs_from_the_table_by_batch_norm_shortcuts_and_biases():
    """torchvision's ResNet-18 has no conv biases (3,904 in the table), and adds batch norm (9,600 parameters with
    the shortcuts') and three 1x1 projection convolutions (172,032)."""
    with torch.device("meta"):
        resnet = torch_network(RESNET18, torch.empty(1, 3, 224, 224))
    modules = list(resnet.modules())
    norm = sum(parameters(m) for m in modules if isinstance(m, torch.nn.BatchNorm2d))
    projections = sum(parameters(m) for m in modules if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1))
    assert (norm, projections) == (9_600, 172_032)
    assert 11_511_784 - 3_904 + norm + projections == 11_689_512
