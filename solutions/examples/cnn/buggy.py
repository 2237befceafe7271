"""Two mistakes students make: conv2d flips the kernel (a true convolution, not
the cross-correlation of deep-learning libraries), and train never calls
optimizer.step(), so the model does not learn."""

import torch
import torch.nn.functional as F
from torch import nn


def conv2d(x, weight, bias, stride=1, padding=0):
    n, _, h, w = x.shape
    filters, _, hh, ww = weight.shape
    out_h = (h + 2 * padding - hh) // stride + 1
    out_w = (w + 2 * padding - ww) // stride + 1
    columns = F.unfold(x, (hh, ww), padding=padding, stride=stride)
    out = weight.flip(2, 3).reshape(filters, -1) @ columns + bias.reshape(1, filters, 1)  # BUG: flipped-kernel
    return out.reshape(n, filters, out_h, out_w)


def build_model():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def train(model, images, labels, device, epochs=None):
    model.to(device).train()
    images, labels = images.to(device), labels.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(epochs or 2):
        for index in torch.randperm(len(images), device=device).split(256):
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()  # and no optimizer.step(): nothing is learnt
            losses.append(loss.detach())
    return [float(v) for v in torch.stack(losses).cpu()]


def predict(model, images, device):
    model.eval()
    with torch.no_grad():
        return model(images.to(device)).argmax(dim=1)
