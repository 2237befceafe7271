"""What programs of torch assignments need in the process running student code:
tensors made from the grader's arrays, gradients by autograd, the builtins of
the training task, and the guard against forbidden torch functions.

Loaded by ``program.py`` only when a program asks for torch, so that the child
of a numpy assignment never imports it. Like the rest of this folder it never
imports the rest of ``grader``.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import os
import random
import re
import shutil
import zipfile

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


# -- transfer learning ------------------------------------------------------------
# A pretrained extractor reaches the student's build_model as a module built here from its architecture (torch.nn
# layers by name, with their arguments: data, as the weights file's metadata holds them) and its tensors, both sent
# by the grader: no course file needs to be in the child's view, and nothing of it is code.


def sequential(layers, state=None) -> torch.nn.Module:
    """``nn.Sequential`` of the torch.nn layers ``layers`` ([class name, keyword arguments] each) holding the
    tensors of ``state`` (a dict by state-dict name); without ``state``, torch's own initialisation, drawn from
    the caller's seed (the from-scratch comparison's extractor)."""
    module = torch.nn.Sequential(*(getattr(torch.nn, name)(**kwargs) for name, kwargs in layers))
    if state is not None:
        module.load_state_dict(state)
    return module


def _digest(t: torch.Tensor) -> str:
    t = torch.Tensor.detach(t).cpu().contiguous()
    return hashlib.sha256(f"{t.dtype}{tuple(t.shape)}".encode() + t.reshape(-1).view(torch.uint8).numpy().tobytes()
                          ).hexdigest()


def inventory(model, part, before=None, images=None) -> dict:
    """What the frozen-feature checks read of ``model`` and of the pretrained ``part`` it was built around: the
    SHA-256 of each of the part's parameters and buffers and of the model's other tensors, how many parameters of
    each require gradients, whether ``part`` is inside ``model`` at all; given an earlier inventory ``before``, how
    many of each changed since (a tensor of the others that is new counts as changed); given ``images``, how many
    scores the model gives each (in evaluation mode, without gradients, every module's mode restored after).
    Computed in the student's process, as every check of a model there is: a deterrent against code that edits
    the interpreter's state, not a guarantee."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"build_model must return a torch.nn.Module, not {type(model).__name__}")
    own = {id(t) for t in (*part.parameters(), *part.buffers())}
    others = [t for t in (*model.parameters(), *model.buffers()) if id(t) not in own]
    found = {"parameters": [_digest(t) for t in part.parameters()], "buffers": [_digest(t) for t in part.buffers()],
             "others": [_digest(t) for t in others],
             "part_trainable": sum(p.requires_grad for p in part.parameters()),
             "others_trainable": sum(p.requires_grad for p in model.parameters() if id(p) not in own),
             "inside": int(any(m is part for m in model.modules()))}
    if before is not None:
        for kind in ("parameters", "buffers"):
            found[f"{kind}_changed"] = sum(a != b for a, b in zip(found[kind], before[kind]))
        found["others_changed"] = len(set(found["others"]) - set(before["others"]))
    if images is not None:
        modes = [(m, m.training) for m in model.modules()]
        with torch.no_grad():
            found["classes"] = model.eval()(images).shape[-1]
        for m, training in modes:
            m.training = training
    return found


def unfrozen(module) -> None:
    """Every parameter of ``module`` trainable: the from-scratch comparison trains the whole network."""
    module.requires_grad_(True)


TRANSFER_BUILTINS = {"sequential": sequential, "inventory": inventory, "unfrozen": unfrozen}


# -- checkpoints and early stopping -----------------------------------------------
# The model, optimiser and scheduler a checkpoint holds are the grader's, built from a case's seed and
# hyper-parameters by this same code in the child that saves, in the fresh child that loads, and in the grader
# (grader/suites/checkpoint.py's reference): on the CPU a resumed run and an uninterrupted one then agree bit for bit.


class OptimizerKind(str, enum.Enum):
    SGD = "sgd"  # with momentum: its buffers are state that a checkpoint must hold
    ADAM = "adam"
    ADAMW = "adamw"
    RMSPROP = "rmsprop"


class SchedulerKind(str, enum.Enum):
    STEP = "step"
    COSINE = "cosine"
    ONE_CYCLE = "one_cycle"


OPTIMIZERS = {
    OptimizerKind.SGD: lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    OptimizerKind.ADAM: lambda params, lr: torch.optim.Adam(params, lr=lr),
    OptimizerKind.ADAMW: lambda params, lr: torch.optim.AdamW(params, lr=lr, weight_decay=0.05),
    OptimizerKind.RMSPROP: lambda params, lr: torch.optim.RMSprop(params, lr=lr, momentum=0.5),
}
# Schedulers that count epochs themselves, so that one restarted from scratch shows (an ExponentialLR would carry on
# from the optimiser's learning rate alone). One-cycle sets the momentum too; stepped once per epoch, it is given one
# step more than the epochs, as the last epoch's step computes the rate of an epoch that never runs.
STEP_SIZE = 3  # StepLR's epochs between decays
SCHEDULERS = {
    SchedulerKind.STEP: lambda opt, epochs: torch.optim.lr_scheduler.StepLR(opt, step_size=STEP_SIZE, gamma=0.5),
    SchedulerKind.COSINE: lambda opt, epochs: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs),
    SchedulerKind.ONE_CYCLE: lambda opt, epochs: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=opt.param_groups[0]["lr"], total_steps=epochs + 1),
}
CHECKPOINT_BYTES = 16 << 20  # what one checkpoint's files may take: state dicts of a small model take kilobytes


def mlp(seed, inputs, hidden, classes) -> torch.nn.Module:
    """Linear, tanh, linear, initialised from ``seed`` (the caller's own torch generator left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return torch.nn.Sequential(torch.nn.Linear(int(inputs), int(hidden)), torch.nn.Tanh(),
                                   torch.nn.Linear(int(hidden), int(classes)))


def training_objects(seed, x, classes, hidden, optimizer, lr, scheduler, epochs) -> tuple:
    """(model, optimizer, scheduler) of a case: an MLP for the rows of ``x``, the optimiser and scheduler named."""
    model = mlp(seed, x.shape[1], hidden, classes)
    opt = OPTIMIZERS[OptimizerKind(optimizer)](model.parameters(), float(lr))
    return model, opt, SCHEDULERS[SchedulerKind(scheduler)](opt, int(epochs))


def train_epochs(model, optimizer, scheduler, x, y, batch, stop, start=0) -> np.ndarray:
    """Epochs ``start`` to ``stop - 1`` over ``x`` and its classes ``y``, in batches of ``batch`` rows in order: a
    step of cross-entropy per batch, a step of the scheduler per epoch. Returns each epoch's learning rate.
    ``start`` is the epoch ``load_checkpoint`` returned: an int (or a tensor holding one)."""
    if is_tensor(start) and start.numel() == 1 and not start.is_floating_point():
        start = start.item()
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
        raise TypeError(f"load_checkpoint must return the epoch to resume from, an int; it returned "
                        f"{type(start).__name__}")
    inputs, labels, batch = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y).long(), int(batch)
    rates = []
    for _ in range(int(start), int(stop)):
        rates.append(optimizer.param_groups[0]["lr"])
        for i in range(0, len(inputs), batch):
            optimizer.zero_grad()
            F.cross_entropy(model(inputs[i:i + batch]), labels[i:i + batch]).backward()
            optimizer.step()
        scheduler.step()
    return np.array(rates, dtype=np.float64)


def parameters(model) -> np.ndarray:
    """Every parameter of ``model``, flattened and concatenated."""
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()


def checkpoint_folder(path, carried=None) -> None:
    """Empty the folder of ``path`` (made where missing): a checkpoint left by an earlier case must not count.
    In the fresh child that resumes, write back into it the files that ``checkpoint_files`` carried."""
    folder = os.path.dirname(path)
    assert folder, "a checkpoint's path names a folder of its own"
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    if carried is not None:
        with zipfile.ZipFile(io.BytesIO(carried.tobytes())) as archive:
            for name in archive.namelist():
                with open(os.path.join(folder, os.path.basename(name)), "wb") as file:
                    file.write(archive.read(name))


def checkpoint_files(path) -> np.ndarray:
    """The files ``save_checkpoint`` wrote in the folder of ``path`` (one, or several side by side), as the bytes of
    one zip archive, each checked first to load with ``torch.load(..., weights_only=True)``: the only way the
    grader ever opens a checkpoint, here in the student's own process."""
    folder = os.path.dirname(path)
    names = sorted(os.listdir(folder))
    if not names:
        raise ValueError(f"save_checkpoint wrote no file: nothing in {folder}/ after it returned")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            file = os.path.join(folder, name)
            if os.path.islink(file) or not os.path.isfile(file):
                raise ValueError(f"{folder}/{name} is not a regular file: a checkpoint is files beside its path")
            try:
                torch.load(file, map_location="cpu", weights_only=True)
            except Exception as e:  # noqa: BLE001 - whatever the file holds, it cannot be loaded safely
                raise ValueError(f"{folder}/{name} cannot be loaded with torch.load(path, weights_only=True) "
                                 f"({type(e).__name__}): save state dicts and plain numbers "
                                 f"(model.state_dict(), not the model itself)") from None
            archive.write(file, name)
            if buffer.tell() > CHECKPOINT_BYTES:
                raise ValueError(f"the checkpoint takes more than {CHECKPOINT_BYTES >> 20} MiB: save the state "
                                 f"dicts, not the data")
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy()


class _ScriptedEpochs:
    """The grader's side of ``fit``: ``train_epoch(model)`` sets the model's parameters to the next epoch's
    scripted weights, in place as an optimiser's step does (so a state dict kept without a copy changes with
    them), and ``validate(model)`` gives that epoch's scripted loss."""

    def __init__(self, weights: np.ndarray, losses: np.ndarray):
        self.weights, self.losses, self.trained = weights, losses, 0

    def train_epoch(self, model) -> None:
        if self.trained == len(self.weights):
            raise ValueError(f"train_epoch was called more than max_epochs = {len(self.weights)} times")
        flat = torch.from_numpy(self.weights[self.trained])
        sizes = [p.numel() for p in model.parameters()] if isinstance(model, torch.nn.Module) else []
        if sum(sizes) != flat.numel():
            raise TypeError("train_epoch must be given the model that fit was given")
        with torch.no_grad():  # not vector_to_parameters, which replaces each parameter's data instead
            for p, w in zip(model.parameters(), flat.split(sizes)):
                p.copy_(w.view_as(p))
        self.trained += 1

    def validate(self, model) -> float:
        if not self.trained:
            raise ValueError("validate was called before the first train_epoch: each epoch trains, then validates")
        return float(self.losses[self.trained - 1])


def scripted_training(seed, inputs, hidden, classes, weights, losses) -> tuple:
    """(model, train_epoch, validate) for ``fit``: the MLP, and epochs whose weights and losses are the case's."""
    script = _ScriptedEpochs(weights, losses)
    return mlp(seed, inputs, hidden, classes), script.train_epoch, script.validate


CHECKPOINT_BUILTINS = {"training_objects": training_objects, "train_epochs": train_epochs, "parameters": parameters,
                       "checkpoint_folder": checkpoint_folder, "checkpoint_files": checkpoint_files,
                       "scripted_training": scripted_training}

BUILTINS = {"images": images, "labels": labels, "floats": floats, "warm_up": warm_up, "placement": placement,
            "conv2d": conv2d, "softmax": softmax, "matmul": matmul, "seed_everything": seed_everything,
            **CHECKPOINT_BUILTINS, **TRANSFER_BUILTINS}


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
