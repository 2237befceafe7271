import pytest


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` run only where CUDA is available, and say why not."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.is_available() is False on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
