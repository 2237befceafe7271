"""Efficiency first: when the backbone is frozen, train() runs it once over
all the images (eval mode, torch.no_grad()) and trains the head alone on the
cached features; when it is not (training from scratch), an ordinary loop
over the whole model. The model is a class with .backbone and .head."""
import torch
import torch.nn.functional as F
from torch import nn

BUG = ("train", "feats = model.backbone.eval()(x)", "feats = model.backbone(x)")  # BatchNorm still in train mode


class HeadOnBackbone(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone.requires_grad_(False)
        self.head = nn.Linear(576, 5)

    def forward(self, x):
        return self.head(self.backbone(x))


def build_model(backbone):
    return HeadOnBackbone(backbone)


def _steps(module, inputs, targets, epochs, batch=25):
    opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(inputs.shape[0], device=inputs.device)
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(module(inputs[idx]), targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def train(model, images, labels, device, epochs=None):
    model.to(device)
    x, y = images.to(device), labels.to(device)
    epochs = 40 if epochs is None else epochs
    if any(p.requires_grad for p in model.backbone.parameters()):
        model.train()
        return _steps(model, x, y, epochs)
    with torch.no_grad():
        feats = model.backbone.eval()(x)
    model.head.train()
    return _steps(model.head, feats, y, epochs)
