"""Train the feature extractor of assignment 9 (transfer) and write it as safetensors.

    .venv/bin/python solutions/09_transfer/train_backbone.py

A small convolutional network (LAYERS: three Conv-BN-ReLU-MaxPool blocks, 576
features) is trained with a temporary linear head to tell MNIST's digits 0-4
apart, on the CPU, from one seed, on one thread; the head is dropped and the
extractor's tensors (its BatchNorm statistics included) are written, with the
architecture in the file's metadata, to the grader's copy
(grader/data/transfer_backbone.safetensors, which every route grades with) and
to the students' (assignments/09_transfer/backbone.safetensors). Both must be
byte-identical and hash to ``BACKBONE_SHA256`` of grader/suites/transfer.py:
paste the printed SHA-256 there and in solutions/09_transfer/transfer.py after
retraining. The same torch release on the same kind of CPU reproduces the file
bit for bit; another release may round differently and give another checksum
(and a backbone as good). Needs the MNIST files (grader/datasets.py says where).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader import datasets  # noqa: E402  (after the checkout is on the path)

# The architecture, as data: [torch.nn class name, keyword arguments], in order (the metadata holds this one
# key: safetensors writes several in no fixed order, and the checksum must not depend on it). The grader's child and the
# students' load_backbone build the same nn.Sequential from the copy of this list in the file's metadata.
LAYERS = [
    ["Conv2d", {"in_channels": 1, "out_channels": 16, "kernel_size": 3, "padding": 1, "bias": False}],
    ["BatchNorm2d", {"num_features": 16}], ["ReLU", {}], ["MaxPool2d", {"kernel_size": 2}],  # 28 -> 14
    ["Conv2d", {"in_channels": 16, "out_channels": 32, "kernel_size": 3, "padding": 1, "bias": False}],
    ["BatchNorm2d", {"num_features": 32}], ["ReLU", {}], ["MaxPool2d", {"kernel_size": 2}],  # 14 -> 7
    ["Conv2d", {"in_channels": 32, "out_channels": 64, "kernel_size": 3, "padding": 1, "bias": False}],
    ["BatchNorm2d", {"num_features": 64}], ["ReLU", {}], ["MaxPool2d", {"kernel_size": 2}],  # 7 -> 3
    ["Flatten", {}],
]
FEATURES = 64 * 3 * 3
DIGITS = (0, 1, 2, 3, 4)  # pretrained on these; the assignment transfers to 5-9
SEED, EPOCHS, BATCH, LR = 0, 4, 128, 3e-3
TARGETS = (ROOT / "grader" / "data" / "transfer_backbone.safetensors",
           ROOT / "assignments" / "09_transfer" / "backbone.safetensors")


def main() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    images, labels = datasets.load("train")
    keep = np.isin(labels, DIGITS)
    x = torch.from_numpy(images[keep]).unsqueeze(1).float().div_(255)
    y = torch.from_numpy(labels[keep])
    backbone = nn.Sequential(*(getattr(nn, name)(**kwargs) for name, kwargs in LAYERS))
    model = nn.Sequential(backbone, nn.Linear(FEATURES, len(DIGITS)))
    optimiser = torch.optim.Adam(model.parameters(), lr=LR)
    steps = EPOCHS * -(-len(x) // BATCH)
    # The learning rate falls linearly to 0: the last steps settle the weights (and the BatchNorm statistics).
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - step / steps)
    model.train()
    for epoch in range(EPOCHS):
        order = torch.randperm(len(x))
        for batch in order.split(BATCH):
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        print(f"epoch {epoch + 1}: last loss {loss.item():.4f}")
    test_images, test_labels = datasets.load("test")
    keep = np.isin(test_labels, DIGITS)
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(test_images[keep]).unsqueeze(1).float().div_(255)).argmax(1)
    print(f"test accuracy on digits 0-4: {(predicted.numpy() == test_labels[keep]).mean():.4f}")
    tensors = {name: t.contiguous() for name, t in backbone.state_dict().items()}
    for target in TARGETS:
        target.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(target), metadata={"layers": json.dumps(LAYERS)})
    digests = {hashlib.sha256(t.read_bytes()).hexdigest() for t in TARGETS}
    print(f"{sum(t.numel() for t in backbone.parameters())} parameters, "
          f"{TARGETS[0].stat().st_size} bytes, SHA-256 {' '.join(digests)}")


if __name__ == "__main__":
    main()
