"""Public checks for assignment 9. Run them with ``pytest test_public.py`` in this folder.

They build your model around the course's backbone (``backbone.safetensors``,
beside this file), check that it gives five scores per image with the backbone
frozen, that a short training leaves every tensor of the backbone exactly as it
was while the head changes, and that training on a few easy examples works.
The grader trains on five real images of each of the digits 5-9 and keeps the
test labels to itself.
"""

import torch
from backbone import load_backbone
from transfer import build_model, predict, train

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def snapshot(module):
    return {name: t.detach().cpu().clone() for name, t in module.state_dict().items()}


def test_build_model_gives_five_scores_with_the_backbone_frozen():
    backbone = load_backbone()
    model = build_model(backbone)
    assert backbone.eval()(torch.rand(3, 1, 28, 28)).shape == (3, 576)  # the features the head gets
    assert isinstance(model, torch.nn.Module)
    assert any(m is backbone for m in model.modules()), "the model must hold the backbone it was given"
    assert not any(p.requires_grad for p in backbone.parameters())
    assert any(p.requires_grad for p in model.parameters())
    assert model.eval()(torch.rand(4, 1, 28, 28)).shape == (4, 5)


def test_train_changes_the_head_and_nothing_of_the_backbone():
    torch.manual_seed(0)
    backbone = load_backbone()
    model = build_model(backbone)
    before, whole = snapshot(backbone), snapshot(model)
    train(model, torch.rand(20, 1, 28, 28), torch.arange(20) % 5, DEVICE, epochs=1)
    after = snapshot(backbone)
    for name, tensor in before.items():
        assert torch.equal(tensor, after[name]), f"training changed the backbone's {name}"
    changed = [name for name, t in snapshot(model).items() if not torch.equal(t, whole[name])]
    assert changed, "training changed nothing of the model"


def test_predict_gives_the_classes_learnt_in_training():
    torch.manual_seed(1)
    # Five easy classes: the brightness of the whole image.
    labels = torch.arange(50) % 5
    images = (0.1 + 0.2 * labels.view(-1, 1, 1, 1) + 0.05 * torch.rand(50, 1, 28, 28)).float()
    model = build_model(load_backbone())
    losses = train(model, images, labels, DEVICE)
    assert len(losses) >= 2 and losses[-1] < losses[0]
    predicted = predict(model, images, DEVICE)
    assert predicted.shape == (50,) and predicted.dtype == torch.int64
    assert (predicted.cpu() == labels).float().mean() > 0.6
