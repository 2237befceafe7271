"""Correct but slow: conv2d loops over output positions, and training follows
the classic PyTorch MNIST example (a DataLoader, batches of 64, Adadelta)."""

import torch
import torch.nn.functional as F
from torch import nn


def conv2d(x, weight, bias, stride=1, padding=0):
    n, _, h, w = x.shape
    filters, _, kh, kw = weight.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    out_h, out_w = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    rows = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            window = padded[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            row.append((window[:, None] * weight[None]).sum(dim=(2, 3, 4)) + bias)
        rows.append(torch.stack(row, dim=-1))
    return torch.stack(rows, dim=-2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = self.dropout2(F.relu(self.fc1(torch.flatten(self.dropout1(x), 1))))
        return self.fc2(x)


def build_model():
    return Net()


def train(model, images, labels, device, epochs=None):
    model.to(device).train()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset((images - 0.1307) / 0.3081, labels),
                                         batch_size=64, shuffle=True)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    losses = []
    for _ in range(epochs or 3):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        schedule.step()
    return losses


def predict(model, images, device):
    model.eval()
    with torch.no_grad():
        return model(((images - 0.1307) / 0.3081).to(device)).argmax(dim=1)
