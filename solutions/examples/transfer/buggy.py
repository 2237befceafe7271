"""A transfer.py with the classic mistakes of transfer learning."""

import torch
from torch import nn


def build_model(backbone):
    # BUG: backbone-not-frozen (nothing sets requires_grad to False)
    # BUG: wrong-classes (ten scores, as for the pretrained task's data set)
    return nn.Sequential(backbone, nn.Linear(576, 10))


def train(model, images, labels, device, epochs=None):
    # BUG: batchnorm-statistics (model.train() puts the backbone's BatchNorms in training mode too)
    model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(epochs or 40):
        loss = nn.functional.cross_entropy(model(images.to(device)), labels.to(device))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def predict(model, images, device):
    model.eval()
    with torch.no_grad():
        return model(images.to(device)).argmax(1)
