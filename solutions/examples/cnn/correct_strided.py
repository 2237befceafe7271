"""A correct submission written differently from the reference: conv2d as a
strided view contracted by einsum; a LeNet with batch norm trained by Adam on
batches drawn on the GPU, with a cosine schedule."""

import torch
import torch.nn.functional as F
from torch import nn


def conv2d(x, weight, bias, stride=1, padding=0):
    kh, kw = weight.shape[2:]
    padded = F.pad(x, (padding, padding, padding, padding))
    # windows[n, c, i, j, k, l] = padded[n, c, i * stride + k, j * stride + l]
    windows = padded.unfold(2, kh, stride).unfold(3, kw, stride)
    return torch.einsum("ncijkl,fckl->nfij", windows, weight) + bias[None, :, None, None]


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 7 * 7, 10),
    )


def train(model, images, labels, device, epochs=None):
    epochs = epochs or 3
    batch = 256 if device == "cuda" else 32
    model.to(device).train()
    images, labels = images.to(device), labels.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = epochs * (len(images) // batch)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    losses = []
    for _ in range(epochs):
        for index in torch.randperm(len(images), device=device)[: len(images) // batch * batch].view(-1, batch):
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.detach())
    return [float(v) for v in torch.stack(losses).cpu()]


def predict(model, images, device):
    model.eval()
    with torch.no_grad():
        return model(images.to(device)).argmax(dim=1)
