"""A module class of its own (self.features, self.classifier) with a small MLP
head (Linear-ReLU-Dropout-Linear); train() puts the model in training mode,
then every BatchNorm whose weight is frozen back in eval; AdamW over the
trainable parameters, one full-batch step per epoch, losses by .item()."""
import torch
from torch import nn

BUG = ("train", "nn.BatchNorm2d", "nn.BatchNorm1d")  # the backbone's BatchNorms are 2d: none is put in eval


class FewShotNet(nn.Module):
    def __init__(self, backbone, n_features=576, n_classes=5):
        super().__init__()
        self.features = backbone
        for param in self.features.parameters():
            param.requires_grad = False
        self.classifier = nn.Sequential(
            nn.Linear(n_features, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def build_model(backbone):
    return FewShotNet(backbone)


def train(model, images, labels, device, epochs=None):
    model = model.to(device)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and not m.weight.requires_grad:
            m.eval()  # keep the pretrained running statistics
    x, y = images.to(device), labels.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=1e-2)
    criterion = nn.CrossEntropyLoss()
    history = []
    for _ in range(epochs if epochs is not None else 100):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history
