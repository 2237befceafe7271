"""nn.Sequential built first and the backbone's named_parameters frozen after;
train() uses model.apply with a function that sets frozen BatchNorms to eval,
and a TensorDataset in a shuffling DataLoader, SGD with Nesterov momentum."""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

BUG = ("build_model", "for _name, p in backbone.named_parameters():", "for _name, p in model.named_parameters():")  # the head frozen too


def build_model(backbone):
    model = nn.Sequential(backbone, nn.Flatten(), nn.Linear(576, 5))
    for _name, p in backbone.named_parameters():
        p.requires_grad = False
    return model


def _freeze_bn(module):
    frozen = all(not p.requires_grad for p in module.parameters())
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and frozen:
        module.eval()


def train(model, images, labels, device, epochs=None):
    model.to(device)
    model.train()
    model.apply(_freeze_bn)
    loader = DataLoader(TensorDataset(images.cpu(), labels.cpu()), batch_size=16, shuffle=True)
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()),
                                lr=0.05, momentum=0.9, nesterov=True)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _epoch in range(epochs or 40):
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
