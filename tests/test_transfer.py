"""The transfer assignment: its backbone file (checksum, both copies, a clear error when changed), the child's
inventory of a model (what the frozen checks read), the few-shot data with and without MNIST, the margin over
training from scratch, and on a GPU the full flow (marked ``gpu``). The curriculum tests grade its solution,
stub, examples and every catalogued bug."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from grader import datasets
from grader.child.tasks.backbone import inventory, sequential
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.text import to_text
from grader.suites import SUITES
from grader.suites import transfer as suite_module

COURSE = Course.locate()
SUITE = SUITES["transfer"]
pytestmark = pytest.mark.slow  # gradings through the sandbox, as tests/test_cnn.py's


def test_both_copies_of_the_backbone_are_the_recorded_file():
    student_copy = COURSE.assignment_dir(SUITE) / "backbone.safetensors"
    for path in (suite_module.BACKBONE_FILE, student_copy):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == suite_module.BACKBONE_SHA256, path
    loader = (COURSE.solution_dir(SUITE) / "backbone.py").read_text()
    assert f'BACKBONE_SHA256 = "{suite_module.BACKBONE_SHA256}"' in loader
    backbone = suite_module.backbone()
    module = sequential(backbone.layers, {k: torch.from_numpy(v) for k, v in backbone.tensors.items()})
    assert module.eval()(torch.zeros(2, 1, 28, 28)).shape == (2, suite_module.FEATURES)
    assert 10_000 < sum(p.numel() for p in module.parameters()) < 100_000


def test_a_changed_backbone_file_is_a_one_line_error(tmp_path, monkeypatch):
    changed = tmp_path / "backbone.safetensors"
    data = bytearray(suite_module.BACKBONE_FILE.read_bytes())
    data[-1] ^= 1
    changed.write_bytes(bytes(data))
    monkeypatch.setattr(suite_module, "BACKBONE_FILE", changed)
    suite_module.backbone.cache_clear()
    try:
        with pytest.raises(datasets.DatasetError, match=r"SHA-256 .* \(regenerate it with") as raised:
            suite_module.backbone()
        assert "\n" not in str(raised.value)
    finally:
        suite_module.backbone.cache_clear()


def test_inventory_sees_batchnorm_statistics_change_and_what_is_frozen():
    backbone = suite_module._module()
    model = torch.nn.Sequential(backbone.requires_grad_(False), torch.nn.Linear(suite_module.FEATURES, 5))
    before = inventory(model, backbone, images=torch.rand(3, 1, 28, 28))
    assert (before["classes"], before["part_trainable"], before["others_trainable"], before["inside"]) == (5, 0, 2, 1)
    assert model.training, "the inventory restores every module's mode"
    with torch.no_grad():
        model(torch.rand(4, 1, 28, 28))  # training mode: every BatchNorm updates its statistics
    after = inventory(model, backbone, before)
    assert (after["parameters_changed"], after["buffers_changed"], after["others_changed"]) == (0, 9, 0)


def test_few_shot_data_is_balanced_and_falls_back_to_synthetic_digits(monkeypatch):
    mode = SUITE.training.cpu
    train_x, train_y, test_x, test_y, what = suite_module.few_shot(mode, np.random.default_rng(0))
    assert np.array_equal(np.bincount(train_y), [mode.train_size // 5] * 5) and set(test_y) == set(range(5))
    assert train_x.shape == (mode.train_size, 28, 28) and len(test_x) == mode.test_size

    def missing():
        raise datasets.DatasetError("not here")

    monkeypatch.setattr(suite_module, "_mnist", missing)
    train_x, train_y, test_x, test_y, what = suite_module.few_shot(mode, np.random.default_rng(0))
    assert "synthetic" in what and np.array_equal(np.bincount(train_y), [mode.train_size // 5] * 5)
    assert len(test_x) == mode.test_size and set(test_y) == set(range(5))
    with pytest.raises(datasets.DatasetError):
        suite_module.few_shot(SUITE.training.gpu, np.random.default_rng(0))  # a GPU grade needs the real data


IGNORES_THE_WEIGHTS = '''
import torch
from torch import nn


def build_model(backbone):
    for module in backbone.modules():  # "a fresh start": the pretrained weights thrown away
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    for parameter in backbone.parameters():
        parameter.requires_grad = False
    return nn.Sequential(backbone, nn.Linear(576, 5))


def train(model, images, labels, device, epochs=None):
    backbone, head = model.to(device)
    backbone.train(any(p.requires_grad for p in backbone.parameters()))  # trainable only in the scratch run
    head.train()
    optimiser = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-2)
    for _ in range(epochs or 40):
        loss = nn.functional.cross_entropy(model(images.to(device)), labels.to(device))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return []


def predict(model, images, device):
    with torch.no_grad():
        return model.eval()(images.to(device)).argmax(1)
'''


def _mnist_present() -> bool:
    try:
        suite_module._mnist()
    except datasets.DatasetError:
        return False
    return True


def test_without_mnist_the_stand_in_digits_train_but_accuracy_is_not_judged(monkeypatch):
    """Synthetic digits are too unlike MNIST's for pretrained features to help: the solution trains on them, and
    accuracy and margin are skipped with the reason, neither awarded nor lost."""
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")

    def missing():
        raise datasets.DatasetError("not here")

    monkeypatch.setattr(suite_module, "_mnist", missing)
    result = grade_submission(SUITE, COURSE.solution_dir(SUITE), Secret("transfer-tests"), COURSE)
    cases = {c.name: c for c in {f.name: f for f in result.functions}[SUITE.training.name].cases}
    for name in ("test accuracy", "margin over training from scratch"):
        assert cases[name].skipped and "synthetic seven-segment digits" in cases[name].skipped, to_text(result)
    assert cases["training time"].score == cases["training time"].max_score, to_text(result)
    assert all(f.score == f.max_score for f in result.functions if f.name != SUITE.training.name), to_text(result)


@pytest.mark.skipif(not _mnist_present(), reason="needs the MNIST files (../shared/datasets/mnist or $DLGRADE_DATA): "
                    "on the synthetic stand-in the margin is not judged")
def test_a_backbone_whose_weights_are_thrown_away_loses_the_margin(tmp_path, monkeypatch):
    """Frozen and untouched by training, yet not pretrained any more: every check of build_model and train
    passes, and only the comparison with training from scratch shows what was lost."""
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    path = tmp_path / "transfer.py"
    path.write_text(IGNORES_THE_WEIGHTS)
    result = grade_submission(SUITE, path, Secret("transfer-tests"), COURSE)
    functions = {f.name: f for f in result.functions}
    assert all(functions[name].score == functions[name].max_score for name in ("build_model", "train")), \
        to_text(result)
    margin = {c.name: c for c in functions[SUITE.training.name].cases}["margin over training from scratch"]
    assert margin.score < margin.max_score and margin.details["margin"] < 0, to_text(result)
    assert "trained from scratch" in to_text(result)


@pytest.mark.gpu
def test_gpu_mode_gives_the_solution_every_point():
    result = grade_submission(SUITE, COURSE.solution_dir(SUITE), Secret("transfer-tests"), COURSE)
    assert result.score == result.max_score == SUITE.max_points, to_text(result)
    assert not any(c.skipped for f in result.functions for c in f.cases)
