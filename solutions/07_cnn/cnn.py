"""Assignment 7: a convolutional network trained on the GPU, in PyTorch.

Two parts:

* ``conv2d(x, weight, bias, stride, padding)``: a convolutional layer's forward
  pass written with tensor operations, without ``torch.nn.functional.conv2d``
  (or ``nn.Conv2d``, or any other convolution routine). Autograd differentiates
  it for you: the grader checks its output and its gradients against PyTorch's
  own convolution, and times it on the GPU against ``F.conv2d`` (cuDNN). Two
  good ways in: ``F.unfold`` (im2col) followed by one matrix product, or a
  strided view of the padded input (``Tensor.unfold`` twice) contracted with
  the weights by ``torch.einsum``.
* ``build_model()``, ``train(model, images, labels, device, epochs)`` and
  ``predict(model, images, device)``: a classifier of handwritten digits
  (MNIST, 28x28 grey images, 10 classes) in the classic Conv-BN-ReLU-MaxPool
  style of LeNet. The grader builds your model, trains it on the training set
  and asks for predictions on test images; it keeps the test labels to itself.
  It grades the test accuracy, that the model really lives on the GPU, how long
  training takes, and how many images per second it trains on.

Fast training on a GPU means keeping the GPU busy: move the whole data set to
the device once (60 000 images are 190 MB as float32), take large batches
drawn by indexing on the device instead of a ``DataLoader``, and let a
one-cycle learning-rate schedule get the most out of few epochs. Mixed
precision (``torch.autocast`` with bfloat16) and ``channels_last`` memory
format make each step cheaper still. Without a GPU everything runs on the CPU,
only more slowly: the grader then uses a subset of the data.

Use PyTorch (``torch``, ``torch.nn``, ``torch.nn.functional``); no other
deep-learning library, no pretrained weights, no downloads.
"""

import torch
import torch.nn.functional as F
from torch import nn


def conv2d(x, weight, bias, stride=1, padding=0):
    """The forward pass of a convolutional layer (cross-correlation, as in
    every deep-learning library), differentiable by autograd.

    Args:
        x: input, a float tensor of shape (N, C, H, W).
        weight: filters, of shape (F, C, HH, WW).
        bias: one per filter, of shape (F,).
        stride: the step between windows, the same along both axes (an int).
        padding: zeros added on every side of the input (an int).

    Returns:
        out: of shape (N, F, H', W') with H' = (H + 2 * padding - HH) // stride + 1
        and W' likewise, on the same device and of the same dtype as ``x``:
        out[n, f, i, j] = bias[f] + sum over c, k, l of
        weight[f, c, k, l] * x_padded[n, c, i * stride + k, j * stride + l].
    """
    # BEGIN SOLUTION: build the windows (F.unfold, or a strided view) and contract them with the weights in one product
    n, _, h, w = x.shape
    filters, _, hh, ww = weight.shape
    out_h = (h + 2 * padding - hh) // stride + 1
    out_w = (w + 2 * padding - ww) // stride + 1
    # im2col: one column of C*HH*WW values per output position, (N, C*HH*WW, H'*W').
    columns = F.unfold(x, (hh, ww), padding=padding, stride=stride)
    out = weight.reshape(filters, -1) @ columns + bias.reshape(1, filters, 1)
    return out.reshape(n, filters, out_h, out_w)
    # END SOLUTION


def build_model():
    """A fresh, untrained ``nn.Module`` mapping images (N, 1, 28, 28) to class
    scores (N, 10)."""
    # BEGIN SOLUTION: a few Conv-BN-ReLU-MaxPool blocks, then a linear classifier
    def block(c_in, c_out):
        # Pooling before batch norm and ReLU: the same kind of block, with a quarter of the
        # normalisation's work (max-pooling commutes with ReLU, and nearly with batch norm).
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(c_out), nn.ReLU()]

    return nn.Sequential(*block(1, 32), *block(32, 64), *block(64, 128),  # 28 -> 14 -> 7 -> 3
                         nn.Flatten(), nn.Linear(128 * 3 * 3, 10))
    # END SOLUTION


def train(model, images, labels, device, epochs=None):
    """Train ``model`` (from ``build_model``) in place.

    Args:
        model: the module to train.
        images: training images, a float32 tensor (N, 1, 28, 28) with values in
            [0, 1], on the CPU.
        labels: their classes, an int64 tensor (N,) of values 0..9, on the CPU.
        device: where to train, ``"cuda"`` (a GPU is present) or ``"cpu"``.
        epochs: how many passes over the data; None means your own choice (the
            grader also calls ``train`` with ``epochs=1`` to measure throughput).

    Returns:
        The training loss of each step, a list of floats (shown to you as a
        training curve; not graded).
    """
    # BEGIN SOLUTION: the whole data set on the device, large shuffled batches, Adam with a one-cycle schedule
    gpu = device == "cuda"
    epochs = epochs or (2 if gpu else 3)
    batch_size = min(512 if gpu else 64, len(images))  # small batches learn more per second on a CPU
    steps_per_epoch = len(images) // batch_size  # full batches only: every step has the same shapes
    # channels_last: the memory layout of cuDNN's fastest convolutions. (cudnn.benchmark would try every
    # kernel first: about 2 s, more than the whole training.)
    layout = torch.channels_last if gpu else torch.contiguous_format
    model.to(device, memory_format=layout).train()
    # MNIST's mean and spread: inputs centred near 0 with unit variance (computed on the device, which is faster).
    images = ((images.to(device) - 0.1307) / 0.3081).contiguous(memory_format=layout)
    labels = labels.to(device)
    # One-cycle: the learning rate ramps up for the first quarter of the steps, then down to almost 0.
    total = epochs * steps_per_epoch
    warmup = max(1, total // 4)
    peak = 2e-2 if gpu else 1e-2
    schedule = torch.cat([torch.linspace(peak / 25, peak, warmup), torch.linspace(peak, 1e-5, total - warmup)]).to(device)
    # The learning rate is a tensor on the device so that a captured CUDA graph reads its current value.
    lr = schedule[:1].clone().squeeze()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, capturable=gpu)
    batch_x = torch.empty((batch_size, *images.shape[1:]), device=device).contiguous(memory_format=layout)
    batch_y = torch.empty(batch_size, dtype=torch.long, device=device)

    def step():
        # bfloat16 on the GPU (tensor cores); float32 on the CPU, where bfloat16 is often slower.
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=gpu, cache_enabled=False):
            loss = F.cross_entropy(model(batch_x), batch_y, label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def captured(step):
        """``step`` recorded once as a CUDA graph; the function returned replays it
        (same tensors each time: the batch is written into them in place)."""
        graph = torch.cuda.CUDAGraph()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            step()  # capture must follow a warm-up run on a side stream
        torch.cuda.current_stream().wait_stream(side)
        with torch.cuda.graph(graph):
            loss = step()

        def replay():
            graph.replay()
            return loss

        return replay

    losses = torch.empty(total, device=device)
    batches = torch.cat([torch.randperm(len(images), device=device)[:steps_per_epoch * batch_size]
                         for _ in range(epochs)]).view(total, batch_size)
    run_step = step
    for i, batch in enumerate(batches):
        torch.index_select(images, 0, batch, out=batch_x)
        torch.index_select(labels, 0, batch, out=batch_y)
        lr.copy_(schedule[i])
        losses[i] = run_step()
        if gpu and i == 2:
            # After a few ordinary steps (which let autograd and cuDNN set themselves up), record
            # one step as a CUDA graph and replay it: one launch per step instead of about a hundred.
            run_step = captured(step)
    # One transfer at the end: .item() every step would make the CPU wait for the GPU each time.
    return losses.tolist()
    # END SOLUTION


def predict(model, images, device):
    """The predicted class of each image.

    Args:
        model: a trained module.
        images: a float32 tensor (N, 1, 28, 28) with values in [0, 1], on the CPU.
        device: ``"cuda"`` or ``"cpu"``, as in ``train``.

    Returns:
        An int64 tensor (N,) of classes 0..9 (on any device).
    """
    # BEGIN SOLUTION: evaluation mode, no gradients, normalise as in train, the most likely class per image
    model.eval()
    images = (images.to(device) - 0.1307) / 0.3081  # as in train
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
        return torch.cat([model(batch).argmax(1) for batch in images.split(2048)])
    # END SOLUTION
