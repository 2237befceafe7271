import importlib.util
from pathlib import Path

import pytest

# `make test-fast` (pytest -m "not slow") runs in under a minute on two cores; `make test` runs everything.
# These modules are slow throughout: they grade whole assignments or a class, attack the sandbox with real
# payloads, or run the CLI, notebooks, exports, a Dask cluster or a pip install in subprocesses. A slow test in
# another module is marked @pytest.mark.slow where it is defined.
SLOW_MODULES = {
    "test_attacks", "test_batch", "test_class_report", "test_cluster", "test_cnn", "test_corpus", "test_curriculum",
    "test_dependent_cases", "test_export", "test_interrupts", "test_isolation", "test_mistakes", "test_notebooks",
    "test_oracle", "test_packaging", "test_student_folder", "test_zygote",
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects: the slow marker must be on the items by then
def pytest_collection_modifyitems(config, items):
    """Tests of SLOW_MODULES are marked ``slow``. Tests of a suite whose child
    packages are not installed (triton, an optional extra, for 11_kernels) and
    tests marked ``gpu`` where CUDA is not available are skipped, saying why."""
    from grader.spec import Suite
    from grader.suites import SUITES

    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        params = item.callspec.params if hasattr(item, "callspec") else {}
        # A suite's own parameter, or an example submission's, in solutions/examples/<assignment>/.
        example = params.get("path")
        suite = params.get("suite") or (SUITES[example.parent.name] if isinstance(example, Path)
                                        and example.parent.name in SUITES else None)
        absent = [p for p in suite.limits.packages if importlib.util.find_spec(p) is None] \
            if isinstance(suite, Suite) else []
        if absent:
            item.add_marker(pytest.mark.skip(reason=f"{suite.folder} needs {', '.join(absent)}, not installed here "
                                                    f"(pip install -e '.[dev]')"))

    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.is_available() is False on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
