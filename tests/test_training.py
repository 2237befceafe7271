"""Training tasks are data: a second task, with colour images of another size
and another number of classes than the CNN's, is graded end to end by the same
child runtime, and its result names the cases the training module declares."""

from __future__ import annotations

import numpy as np
import pytest

from grader.course import Secret
from grader.engine import grade_submission
from grader.render.text import to_text
from grader.spec import Limits, Mode, Suite, Training
from grader.training import ReferenceThroughput, training_cases

CLASSES = 3
SIDE = 6


def _colours(mode: Mode, rng: np.random.Generator) -> tuple:
    """Images (N, SIDE, SIDE, 3) whose class is the colour channel that is brightest."""
    def split(n: int):
        labels = rng.integers(CLASSES, size=n)
        images = rng.integers(0, 90, size=(n, SIDE, SIDE, 3))
        images[np.arange(n), :, :, labels] += 160
        return images.astype(np.uint8), labels.astype(np.int64)

    return (*split(mode.train_size or 300), *split(mode.test_size or 200), "brightest-channel colours")


MODE = Mode("cpu", train_size=300, test_size=200, time_limit=60.0, time_budget=30.0, full_accuracy=0.9,
            zero_accuracy=0.5)
SUITE = Suite(
    folder="00_colours", title="Colours", functions=(),
    training=Training(name="colour_classifier", data=_colours, gpu=MODE, cpu=MODE, classes=CLASSES),
    limits=Limits(memory_bytes=None, forbidden_modules=(), preload=("numpy", "torch"), packages=("numpy", "torch")),
)

STUDENT = f'''
import torch


def build_model():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * {SIDE} * {SIDE}, {CLASSES}))


def train(model, images, labels, device, epochs=20):
    assert images.shape[1:] == (3, {SIDE}, {SIDE}), images.shape  # channels first, as every training task's
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(epochs):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def predict(model, images, device):
    with torch.no_grad():
        return model(images).argmax(1)
'''


@pytest.fixture
def course(tmp_path):
    from grader.course import Course

    (tmp_path / "solutions" / SUITE.folder).mkdir(parents=True)
    return Course(tmp_path)


def test_a_second_training_task_runs_on_the_same_child_runtime(tmp_path, course, monkeypatch):
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    submission = tmp_path / "colours.py"
    submission.write_text(STUDENT)
    result = grade_submission(SUITE, submission, Secret("training-tests"), course, throughput=ReferenceThroughput())
    (task,) = result.functions
    assert [c.name for c in task.cases] == [name for name, _ in training_cases(SUITE.training)]
    accuracy = task.cases[0]
    assert accuracy.passed and accuracy.details["accuracy"] >= 0.9, to_text(result)
    assert accuracy.details["confusion_matrix"].shape == (CLASSES, CLASSES)
    assert result.score == result.max_score > 0, to_text(result)


def test_labels_out_of_the_tasks_classes_are_not_counted(tmp_path, course, monkeypatch):
    monkeypatch.setenv("DLGRADE_DEVICE", "cpu")
    submission = tmp_path / "colours.py"
    submission.write_text(STUDENT.replace("return model(images).argmax(1)", "return model(images).argmax(1) + 7"))
    result = grade_submission(SUITE, submission, Secret("training-tests"), course)
    accuracy = result.functions[0].cases[0]
    assert accuracy.score == 0 and accuracy.details["confusion_matrix"].sum() == 0, to_text(result)
