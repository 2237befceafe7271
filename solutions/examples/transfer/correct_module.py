"""A correct transfer.py written another way: a module class whose train() keeps the frozen backbone in
evaluation mode, and SGD with momentum over the head's parameters."""

import torch
from torch import nn


class Transfer(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        for p in self.backbone.parameters():
            p.requires_grad = False
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(576, 5))

    def train(self, mode=True):
        super().train(mode)
        # A frozen backbone stays in evaluation mode (its BatchNorm statistics fixed); a trainable one trains.
        if not any(p.requires_grad for p in self.backbone.parameters()):
            self.backbone.eval()
        return self

    def forward(self, x):
        return self.head(self.backbone(x))


def build_model(backbone):
    return Transfer(backbone)


def train(model, images, labels, device, epochs=None):
    model = model.to(device)
    model.train()
    x, y = images.to(device), labels.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.SGD(trainable, lr=0.05, momentum=0.9, weight_decay=1e-4)
    losses = []
    for _ in range(epochs or 50):
        order = torch.randperm(len(x), device=device)
        for start in range(0, len(x), 10):
            batch = order[start:start + 10]
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss))
    return losses


def predict(model, images, device):
    model.eval()
    with torch.no_grad():
        return model(images.to(device)).argmax(dim=1)
