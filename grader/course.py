"""Where things are: the course folders, the submission's module, the secret seed."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.spec import Suite

DEVELOPMENT_SEED = "development"


@dataclass(frozen=True)
class Course:
    """The course repository: solutions/, assignments/, templates/, examples/."""

    root: Path

    @classmethod
    def locate(cls) -> "Course":
        """``$DLGRADE_COURSE``, else the checkout this package was installed from
        (an editable install), else the current directory."""
        if "DLGRADE_COURSE" in os.environ:
            return cls(Path(os.environ["DLGRADE_COURSE"]).resolve())
        checkout = Path(__file__).resolve().parent.parent
        return cls(checkout if (checkout / "solutions").is_dir() else Path.cwd())

    def solution_dir(self, suite: Suite) -> Path:
        return self.root / "solutions" / suite.folder

    def solution_file(self, suite: Suite) -> Path | None:
        """The reference solution, where this machine has it (instructors do)."""
        path = self.solution_dir(suite) / f"{suite.module}.py"
        return path if path.is_file() else None

    def assignment_dir(self, suite: Suite) -> Path:
        return self.root / "assignments" / suite.folder


class SecretError(ValueError):
    pass


@dataclass(frozen=True)
class Secret:
    value: str
    source: str = "given"  # where it came from

    @property
    def is_development(self) -> bool:
        return self.value == DEVELOPMENT_SEED

    @classmethod
    def resolve(cls, cli_value: str | None = None) -> "Secret":
        """``--seed``, else ``$DLGRADE_SEED``, else the first line of the file
        ``$DLGRADE_SEED_FILE``, else the development seed."""
        if cli_value:
            return cls(cli_value, "--seed")
        if os.environ.get("DLGRADE_SEED"):
            return cls(os.environ["DLGRADE_SEED"], "DLGRADE_SEED")
        if os.environ.get("DLGRADE_SEED_FILE"):
            path = Path(os.environ["DLGRADE_SEED_FILE"])
            try:
                return cls(path.read_text().splitlines()[0].strip(), str(path))
            except (OSError, IndexError) as e:
                raise SecretError(f"DLGRADE_SEED_FILE={path}: cannot read a seed from it ({e})") from None
        return cls(DEVELOPMENT_SEED, "default")

    def rng(self, *labels: str) -> np.random.Generator:
        """An independent generator per label path (assignment, function): adding
        a function or a case to one suite changes no other function's inputs."""
        digest = hashlib.sha256("\0".join((self.value, *labels)).encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def infer_assignment(path: Path, suites: dict[str, Suite]) -> Suite | None:
    """From a folder or file name: ``01_neuron/``, ``neuron/buggy.py``, ``neuron.py``."""
    path = path.resolve()
    names = [path.name, path.stem, path.parent.name] if path.is_file() else [path.name]
    for name in names:
        for suite in suites.values():
            if name in (suite.assignment, suite.folder, suite.module):
                return suite
    return None
