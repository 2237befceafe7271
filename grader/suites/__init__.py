"""The hidden suites: every module of this package that exports ``SUITE``
(adding an assignment needs no registration), ordered by folder."""

from __future__ import annotations

import importlib
import pkgutil

from grader.spec import Suite


def _discover() -> dict[str, Suite]:
    suites = [getattr(importlib.import_module(f"{__name__}.{info.name}"), "SUITE", None)
              for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return {s.assignment: s for s in sorted((s for s in suites if isinstance(s, Suite)), key=lambda s: s.folder)}


SUITES: dict[str, Suite] = _discover()


class UnknownAssignment(LookupError):
    pass


def get_suite(name: str) -> Suite:
    """By short name (``neuron``) or folder (``01_neuron``)."""
    for suite in SUITES.values():
        if name in (suite.assignment, suite.folder):
            return suite
    known = ", ".join(SUITES)
    raise UnknownAssignment(f"unknown assignment {name!r}; known assignments: {known}")
