"""Ignores the device it is given: everything stays on the CPU, so on a GPU
machine the model is not on the GPU and training is slow (it trains one epoch
on the first 10 000 images to stay within the time limit)."""

import torch
import torch.nn.functional as F
from torch import nn


def conv2d(x, weight, bias, stride=1, padding=0):
    columns = F.unfold(x, weight.shape[2:], padding=padding, stride=stride)
    out = weight.flatten(1) @ columns + bias[None, :, None]
    h = (x.shape[2] + 2 * padding - weight.shape[2]) // stride + 1
    return out.view(x.shape[0], weight.shape[0], h, -1)


def build_model():
    return nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


def train(model, images, labels, device, epochs=None):
    images, labels = images[:10000], labels[:10000]
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(epochs or 1):
        for index in torch.randperm(len(images)).split(32):
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def predict(model, images, device):
    with torch.no_grad():
        return model(images).argmax(dim=1)
