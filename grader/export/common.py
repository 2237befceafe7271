"""What the export targets share: their names, the secret an export carries,
pinned requirements (their templates come from ``grader.render.templates``)."""

from __future__ import annotations

import secrets
from importlib import metadata

from grader.course import NoSecretError, Secret, SecretError

EXPORT_TARGETS = ("gradescope", "otter", "github")
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")  # Gradescope's, for a test's output
# What the platform gives pip to install dlgrade, which is not on PyPI: the
# course's repository (--dlgrade-url). The placeholder fails loudly until set.
DLGRADE_URL_PLACEHOLDER = "git+https://github.com/YOUR-ORG/YOUR-COURSE-REPOSITORY"


def export_secret(cli_value: str | None) -> tuple[Secret, str]:
    """The course's secret when one is configured (``--seed``, ``DLGRADE_SEED``,
    ``DLGRADE_SEED_FILE``), else a fresh random one; and a line saying which.
    Never the development seed: an export is for grading."""
    try:
        secret = Secret.resolve(cli_value)
    except NoSecretError:
        return fresh_secret(), "a fresh random secret seed (no --seed, DLGRADE_SEED or DLGRADE_SEED_FILE was set)"
    if secret.is_development:
        raise SecretError(f"the secret from {secret.source} is the public development seed: choose another")
    return secret, f"secret seed from {secret.source}"


def fresh_secret() -> Secret:
    return Secret(secrets.token_hex(16), "generated")


def pinned_requirements(packages: tuple[str, ...] = ()) -> list[str]:
    """dlgrade's own dependencies, and the ``packages`` an assignment's graded code may import (its
    ``Limits.packages``: 11_kernels' triton, an extra of dlgrade's), pinned to the versions installed here: the
    platform grades with what the course was tested with. A local version label (torch's ``+cpu``) is left out: it
    names a build, which the platform's installer picks (see setup.sh)."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    pins = {}
    for text in metadata.requires("dlgrade") or []:
        requirement = Requirement(text)
        if requirement.marker is None and requirement.name != "dlgrade":
            pins[requirement.name] = Version(metadata.version(requirement.name)).public
    for name in packages:
        pins.setdefault(name, Version(metadata.version(name)).public)
    return [f"{name}=={version}" for name, version in pins.items()]

