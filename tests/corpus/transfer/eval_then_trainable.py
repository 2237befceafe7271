"""An OrderedDict Sequential (backbone, head) frozen with requires_grad_(False);
train() puts the whole model in eval mode and then only the modules with
trainable parameters of their own back in training mode; RMSprop, label
smoothing, batches from torch.split of a random permutation."""
from collections import OrderedDict

import torch
from torch import nn

BUG = ("build_model", "backbone.requires_grad_(requires_grad=False)", "backbone.eval()")  # eval() freezes nothing


def build_model(backbone):
    backbone.requires_grad_(requires_grad=False)
    return nn.Sequential(OrderedDict([("backbone", backbone), ("head", nn.Linear(576, 5))]))


def train(model, images, labels, device, epochs=None):
    model = model.to(device).eval()
    for layer in model.modules():
        if any(p.requires_grad for p in layer.parameters(recurse=False)):
            layer.train()
    x, y = images.to(device), labels.to(device)
    optimiser = torch.optim.RMSprop((p for p in model.parameters() if p.requires_grad), lr=1e-3)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    curve = []
    for _ in range(epochs or 30):
        for chunk in torch.split(torch.randperm(len(x), device=device), 10):
            optimiser.zero_grad()
            loss = criterion(model(x[chunk]), y[chunk])
            loss.backward()
            optimiser.step()
            curve.append(float(loss))
    return curve
