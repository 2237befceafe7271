"""Assignment 9: transfer learning with a pretrained feature extractor, in PyTorch.

The course ships a small convolutional network, ``backbone.safetensors`` in
this folder, trained on MNIST's digits 0-4 only: three Conv-BN-ReLU-MaxPool
blocks that turn a 28x28 grey image into 576 features. ``load_backbone()`` in
``backbone.py`` beside this module builds it exactly as the grader does (the
architecture is in the file's metadata; its SHA-256 is checked). Your task is a new one: digits 5-9, which
the network has never seen, from only a handful of labelled examples of each
(labels 0-4 stand for digits 5-9).

* ``build_model(backbone)``: the model for the new task. Freeze the backbone
  (its parameters must not change in training) and put a new head on its 576
  features, with one score per new class.
* ``train(model, images, labels, device, epochs)``: train it. Only the head
  may change: the backbone's BatchNorm layers hold running statistics
  (buffers, which ``requires_grad`` does not protect), and a BatchNorm in
  training mode updates them on every batch.
* ``predict(model, images, device)``: the class of each image.

The grader builds your model around the pretrained backbone, checks bit for
bit that training left the backbone as it was and changed the head, trains on
ten images of each new digit and measures test accuracy on images whose
labels it keeps to itself. Then it gives your ``build_model`` the same
architecture initialised at random, makes every parameter trainable and lets
your ``train`` train it from scratch on the same images, and reports by how
much the pretrained features do better (graded too: a model that does worse
than training from scratch has not used them).

Use PyTorch (``torch``, ``torch.nn``, ``torch.nn.functional``); no other
deep-learning library, no other pretrained weights, no downloads.
"""

import torch
import torch.nn.functional as F
from torch import nn

FEATURES = 576  # what the backbone gives per image
CLASSES = 5  # digits 5-9, as labels 0-4


def build_model(backbone):
    """A model for the new task around ``backbone`` (from ``load_backbone``, or the grader's).

    Args:
        backbone: an ``nn.Module`` mapping images (N, 1, 28, 28) to features (N, 576).

    Returns:
        An ``nn.Module`` mapping images (N, 1, 28, 28) to scores (N, 5), that holds ``backbone`` itself (not a
        copy) with every one of its parameters frozen (``requires_grad`` False), and trainable parameters of
        its own.
    """
    # BEGIN SOLUTION: freeze every parameter of the backbone, then put a new linear head on its features
    backbone.requires_grad_(False)
    return nn.Sequential(backbone, nn.Linear(FEATURES, CLASSES))
    # END SOLUTION


def train(model, images, labels, device, epochs=None):
    """Train ``model`` (from ``build_model``) in place: the parameters that require gradients, and nothing else.

    Args:
        model: the module to train.
        images: training images, a float32 tensor (N, 1, 28, 28) with values in [0, 1] (on the CPU, or
            already on ``device``).
        labels: their classes, an int64 tensor (N,) of values 0..4.
        device: where to train, ``"cuda"`` or ``"cpu"``.
        epochs: how many passes over the data; None means your own choice (the grader also calls ``train``
            with ``epochs=1``).

    Returns:
        The training loss of each step, a list of floats (shown to you as a training curve; not graded).
    """
    # BEGIN SOLUTION: train mode but frozen BatchNorms in eval mode, then Adam over the trainable parameters only
    epochs = epochs or 40
    model.to(device).train()
    # A BatchNorm without trainable parameters is part of a frozen backbone: in training mode it would normalise
    # with each batch's statistics and update its running ones, which requires_grad does not protect.
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d) and not any(p.requires_grad for p in module.parameters()):
            module.eval()
    images, labels = images.to(device), labels.to(device)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(epochs):
        for batch in torch.randperm(len(images), device=device).split(25):
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
    return losses
    # END SOLUTION


def predict(model, images, device):
    """The predicted class of each image.

    Args:
        model: a trained module.
        images: a float32 tensor (N, 1, 28, 28) with values in [0, 1], on the CPU.
        device: ``"cuda"`` or ``"cpu"``, as in ``train``.

    Returns:
        An int64 tensor (N,) of classes 0..4 (on any device).
    """
    # BEGIN SOLUTION: evaluation mode, no gradients, the most likely class per image, in batches
    model.eval()
    with torch.no_grad():
        return torch.cat([model(batch).argmax(1) for batch in images.to(device).split(1000)])
    # END SOLUTION
