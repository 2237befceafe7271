"""What programs of torch assignments need in the process running student code:
tensors made from the grader's arrays, gradients by autograd, the builtins of
the training task, and the guard against forbidden torch functions. What one
kind of task alone needs is in ``tasks/`` (``builtin:<task>.<name>``).

Loaded by ``program.py`` only when a program asks for torch, so that the child
of a numpy assignment never imports it. Like the rest of this folder it never
imports the rest of ``grader``.
"""

from __future__ import annotations

import contextlib
import random
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode


def to_tensor(array: np.ndarray, device: str, requires_grad: bool = False) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(device).requires_grad_(requires_grad)


def is_tensor(value) -> bool:
    """Exactly a tensor or parameter: a subclass could override what it reports."""
    return type(value) in (torch.Tensor, torch.nn.Parameter)


def to_numpy(value) -> np.ndarray:
    # Through the base class's own methods: nothing the tensor carries runs.
    t = torch.Tensor.detach(value).cpu()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()  # numpy has no bfloat16; half precision is compared as float32
    return t.numpy()


def gradient(of, wrt: torch.Tensor, cotangent: np.ndarray) -> torch.Tensor:
    """d sum(of * cotangent) / d wrt: zeros where ``of`` does not depend on
    ``wrt`` (a forgotten bias then reads as a wrong gradient, which the
    catalogue can recognise, like the reference's ``grader.reference.gradients``)."""
    weights = torch.as_tensor(cotangent, dtype=of.dtype, device=of.device)
    # retain_graph: a program takes several gradients of one output.
    (grad,) = torch.autograd.grad(of, [wrt], grad_outputs=weights, allow_unused=True, retain_graph=True)
    return torch.zeros_like(wrt) if grad is None else grad


# -- builtins of torch programs ----------------------------------------------


def images(pixels: np.ndarray) -> torch.Tensor:
    """uint8 images, (N, H, W) grey or (N, H, W, C) in colour, as the float32
    tensor (N, C, H, W) in [0, 1] that ``train`` and ``predict`` receive."""
    channels_first = torch.from_numpy(pixels).unsqueeze(1) if pixels.ndim == 3 else \
        torch.from_numpy(pixels).permute(0, 3, 1, 2)
    return channels_first.float().div_(255)


def labels(classes: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(classes).long()


def floats(values) -> np.ndarray:
    """A list or tensor of real numbers (a training curve) as a float64 array."""
    if is_tensor(values):
        values = to_numpy(values)
    array = np.asarray(values if isinstance(values, (list, tuple, np.ndarray)) else [], dtype=object)
    if array.ndim != 1 or not all(isinstance(v, (int, float, np.integer, np.floating)) for v in array):
        return np.zeros(0)
    return array.astype(np.float64)


def warm_up(device: str, images: torch.Tensor, classes: int) -> np.ndarray:
    """Initialise CUDA, cuBLAS and cuDNN before anything is timed: they cost
    the first caller hundreds of milliseconds that are not the student's. The
    convolution and the read-out work on images of the task's own shape
    (``images``: its training images) and its number of classes."""
    if device.startswith("cuda"):
        channels, height, width = images.shape[1:]
        x = torch.randn(64, channels, height, width, device=device, requires_grad=True)
        w = torch.randn(8, channels, 3, 3, device=device, requires_grad=True)
        y = F.conv2d(x, w, padding=1).flatten(1) @ torch.randn(8 * height * width, int(classes), device=device)
        y.sum().backward()
        torch.cuda.synchronize(device)
    return np.zeros(0)


def placement(model) -> np.ndarray:
    """[tensors on a CUDA device, tensors] over the model's parameters and buffers."""
    if not isinstance(model, torch.nn.Module):
        return np.array([0, -1])
    tensors = [*model.parameters(), *model.buffers()]
    return np.array([sum(t.is_cuda for t in tensors), len(tensors)])


def conv2d(x, weight, bias, stride=1, padding=0):
    """torch's own convolution in exact float32 (cuDNN would use TF32 otherwise:
    about 3e-4 relative error, and an unfair speed baseline)."""
    with _exact_float32():
        return F.conv2d(x, weight, bias, stride=stride, padding=padding)


def softmax(x):
    """torch's own softmax over each row: the baseline of a softmax kernel."""
    return torch.softmax(x, dim=1)


def matmul(a, b):
    """torch's own matrix product in exact float32 (cuBLAS would use TF32 otherwise, as for conv2d)."""
    with _exact_float32():
        return torch.matmul(a, b)


@contextlib.contextmanager
def _exact_float32():
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def seed_everything(seed) -> None:
    """Python's ``random``, numpy's global generator and torch's (CPU and every
    CUDA device) from one seed: the student's initialisation, shuffling and
    dropout draw the same numbers on every regrade."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # every CUDA device's generator as well


BUILTINS = {"images": images, "labels": labels, "floats": floats, "warm_up": warm_up, "placement": placement,
            "conv2d": conv2d, "softmax": softmax, "matmul": matmul, "seed_everything": seed_everything}


# -- forbidden functions ---------------------------------------------------------

ATEN = "torch.ops.aten."  # the prefix of a forbidden ATen operator's name


class ForbiddenCall(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _resolve(dotted: str):
    """The object a dotted name such as ``torch.nn.functional.conv2d`` names, or None."""
    parts = dotted.split(".")
    if parts[0] != "torch":
        return None
    value: object = torch
    for part in parts[1:]:
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


@contextlib.contextmanager
def forbidding(names: list[str], enforce: bool = True):
    """Refuse the torch functions ``names`` while the student's code runs.

    Two layers: a TorchFunctionMode sees calls of Python-level torch functions
    (``F.conv2d``, ``torch.conv2d``, ``nn.Conv2d``'s forward); a
    TorchDispatchMode sees the ATen operators underneath (``torch.ops.aten.
    convolution`` called directly, or reached by any other path). Code that
    pops the modes off torch's stack can get past them; the autograd graph of
    what it returns (``forbidden_node``) and the static scan of the source
    (``grader/forbidden.py``) are the other halves.

    ``enforce=False`` intercepts the same calls and lets them through: a
    trusted baseline timed against the student's code pays the same overhead."""
    if not names:
        yield
        return
    objects = {id(obj): name for name in names if (obj := _resolve(name)) is not None and callable(obj)}
    packets = {name[len(ATEN):] for name in names if name.startswith(ATEN)}

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if enforce and id(func) in objects:
                raise ForbiddenCall(objects[id(func)])
            return func(*args, **(kwargs or {}))

    class Operators(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if enforce and func.overloadpacket.__name__ in packets:
                raise ForbiddenCall(f"torch.ops.aten.{func.overloadpacket.__name__}")
            return func(*args, **(kwargs or {}))

    with Functions(), (Operators() if packets else contextlib.nullcontext()):
        yield


def forbidden_node(value, names: list[str]) -> str | None:
    """The name of a node of the autograd graph behind ``value`` (a tensor, or
    tensors in tuples, lists and dicts) that one of the forbidden ATen
    operators ``torch.ops.aten.<op>`` among ``names`` recorded, or None.

    A node is named after its operator, whatever path led there:
    ``ConvolutionBackward0`` (``aten.convolution``: ``F.conv2d``,
    ``nn.Conv2d``, ``torch.ops.aten.convolution``), ``MkldnnConvolutionBackward0``,
    ``SlowConv2DBackward0`` (``aten._slow_conv2d_forward``); names are compared
    in lower case without underscores and without the ``forward`` and
    ``backward0`` endings. Nodes of the student's own
    ``torch.autograd.Function`` classes carry names the student chose, so
    they are passed through (their ``forward`` ran under ``forbidding``)."""
    operators = {_stem(name[len(ATEN):], "forward") for name in names if name.startswith(ATEN)}
    pending, seen = [t.grad_fn for t in _tensors(value)], set()
    while pending:
        node = pending.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if not isinstance(node, torch.autograd.function.BackwardCFunction) and \
                _stem(re.sub(r"\d+$", "", node.name()), "backward") in operators:
            return node.name()
        pending.extend(parent for parent, _ in node.next_functions)
    return None



def _stem(name: str, ending: str) -> str:
    return name.replace("_", "").lower().removesuffix(ending)


def _tensors(value, depth: int = 0) -> list[torch.Tensor]:
    """The tensors in a returned value, a few containers deep."""
    if is_tensor(value):
        return [value]
    if depth >= 4:
        return []
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else ()
    return [t for item in items for t in _tensors(item, depth + 1)]
