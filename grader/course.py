"""Where things are: the course folders, the submission's module, the secret seed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.spec import Suite

DEVELOPMENT_SEED = "development"


@dataclass(frozen=True)
class Course:
    """The course repository: solutions/ (with examples/), assignments/, templates/."""

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


class NoSecretError(SecretError):
    """No secret was given, and the development seed was not asked for."""


SECRET_HOWTO = ("put it in a file and set DLGRADE_SEED_FILE=path (or set DLGRADE_SEED, or pass --seed), or pass "
                "--development to grade with the public development seed (every result is then marked)")


@dataclass(frozen=True)
class Secret:
    value: str
    source: str = "given"  # where it came from

    @property
    def is_development(self) -> bool:
        return self.value == DEVELOPMENT_SEED

    @classmethod
    def resolve(cls, cli_value: str | None = None, development: bool = False) -> "Secret":
        """``--seed``, else ``$DLGRADE_SEED``, else the first line of the file
        ``$DLGRADE_SEED_FILE``; else the development seed where ``development``
        allows it (``--development``, ``dlgrade demo``), else ``NoSecretError``:
        hidden inputs from a public seed are no grade, so they are never made
        by default. An empty ``--seed`` or seed file is a mistake, not a wish
        for the development seed. (An empty ``DLGRADE_SEED`` counts as unset:
        it is what a CI job passes for a secret it does not have.)"""
        if cli_value is not None:
            if not cli_value.strip():
                raise SecretError(f"--seed is empty: {SECRET_HOWTO}")
            return cls(cli_value, "--seed")
        if os.environ.get("DLGRADE_SEED", "").strip():
            return cls(os.environ["DLGRADE_SEED"], "DLGRADE_SEED")
        if os.environ.get("DLGRADE_SEED_FILE"):
            path = Path(os.environ["DLGRADE_SEED_FILE"])
            try:
                lines = path.read_text().splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise SecretError(f"DLGRADE_SEED_FILE={path}: cannot read a seed from it "
                                  f"({getattr(e, 'strerror', None) or e})") from None
            if not (lines and lines[0].strip()):
                raise SecretError(f"DLGRADE_SEED_FILE={path}: its first line is empty: the secret goes there")
            return cls(lines[0].strip(), str(path))
        if development:
            return cls(DEVELOPMENT_SEED, "--development")
        raise NoSecretError(f"no secret seed for the hidden inputs: {SECRET_HOWTO}")

    def rng(self, *labels: str) -> np.random.Generator:
        """An independent generator per label path (assignment, function): adding
        a function or a case to one suite changes no other function's inputs."""
        digest = hashlib.sha256("\0".join((self.value, *labels)).encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def infer_assignment(path: Path, suites: Mapping[str, Suite]) -> Suite | None:
    """From a folder or file name: ``01_neuron/``, ``neuron/buggy.py``, ``neuron.py``."""
    path = path.resolve()
    names = [path.name, path.stem, path.parent.name] if path.is_file() else [path.name]
    for name in names:
        for suite in suites.values():
            if name in (suite.assignment, suite.folder, suite.module):
                return suite
    return None
