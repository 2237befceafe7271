"""Public checks for assignment 7. Run them with ``pytest test_public.py`` in this folder.

They compare conv2d with PyTorch's own convolution on small inputs (here, in
the tests, F.conv2d is the reference; in cnn.py it is off limits), check its
gradients with ``torch.autograd.gradcheck``, and train your model for a few
steps on random data to see that the loss goes down. The grader trains on the
real MNIST, on the GPU when there is one, and keeps the test labels to itself.
"""

import pytest
import torch
import torch.nn.functional as F

from cnn import build_model, conv2d, predict, train

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 2)])
def test_conv2d_matches_torch(stride, padding):
    torch.manual_seed(0)
    x, weight, bias = torch.randn(2, 3, 9, 7), torch.randn(4, 3, 3, 2), torch.randn(4)
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    got = conv2d(x, weight, bias, stride=stride, padding=padding)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_gradients_by_autograd():
    torch.manual_seed(1)
    inputs = (torch.randn(2, 2, 6, 5, dtype=torch.float64, requires_grad=True),
              torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True),
              torch.randn(3, dtype=torch.float64, requires_grad=True))
    assert torch.autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=2, padding=1), inputs)


def test_model_maps_images_to_ten_scores():
    model = build_model()
    assert isinstance(model, torch.nn.Module)
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)


def test_training_lowers_the_loss_and_predict_gives_classes():
    torch.manual_seed(2)
    # Two easy classes: bright images are 1, dark ones 0.
    labels = torch.randint(0, 2, (256,))
    images = (torch.rand(256, 1, 28, 28) * 0.5 + 0.5 * labels.view(-1, 1, 1, 1)).float()
    model = build_model()
    losses = train(model, images, labels, DEVICE, epochs=2)
    assert len(losses) >= 2 and losses[-1] < losses[0]
    predicted = predict(model, images[:100], DEVICE)
    assert predicted.shape == (100,) and predicted.dtype == torch.int64
    assert (predicted.cpu() == labels[:100]).float().mean() > 0.9
