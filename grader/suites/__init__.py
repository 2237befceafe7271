"""The hidden suites: every module of this package that defines ``SUITE``
(adding an assignment needs no registration), named after its assignment
(``losses.py`` holds the suite of ``losses``), ordered by folder.

A suite is imported when it is first asked for: ``SUITES["losses"]`` and
``get_suite("losses")`` load that module alone (every suite imports torch for
its references, cnn's the MNIST tools too). Iterating ``SUITES`` imports them
all, to order them by folder.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import pkgutil
import re
from collections.abc import Iterator, Mapping
from importlib.abc import InspectLoader

from grader.spec import DeclarationError, Suite

# Read from a module's source, so that finding the suites imports none of them.
DEFINES_SUITE = re.compile(r"^SUITE\s*[:=]", re.M)


def _defines_suite(name: str) -> bool:
    spec = importlib.util.find_spec(f"{__name__}.{name}")
    # A source file's loader (or zipimport's) can give the source: importlib.abc.InspectLoader.
    source = spec.loader.get_source(spec.name) if spec and isinstance(spec.loader, InspectLoader) else None
    return bool(source and DEFINES_SUITE.search(source))


class _Suites(Mapping[str, Suite]):
    def __init__(self) -> None:
        self._names = tuple(info.name for info in pkgutil.iter_modules(__path__)
                            if not info.name.startswith("_") and _defines_suite(info.name))
        self._loaded: dict[str, Suite] = {}

    def __getitem__(self, name: str) -> Suite:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._loaded:
            suite = importlib.import_module(f"{__name__}.{name}").SUITE
            if suite.assignment != name:
                raise DeclarationError(f"{__name__}.{name} defines the suite of {suite.assignment!r}: a suite's "
                                       f"module is named after its assignment")
            self._loaded[name] = suite
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names, key=lambda name: self[name].folder))

    def __len__(self) -> int:
        return len(self._names)


SUITES: Mapping[str, Suite] = _Suites()


class UnknownAssignment(LookupError):
    pass


def get_suite(name: str) -> Suite:
    """By short name (``neuron``) or folder (``01_neuron``). A folder named
    ``NN_<assignment>`` loads that suite alone; any other name looks at all."""
    likely = (SUITES[n] for n in (name, name.partition("_")[2]) if n in SUITES)
    for suite in itertools.chain(likely, SUITES.values()):
        if name in (suite.assignment, suite.folder):
            return suite
    known = ", ".join(SUITES)
    raise UnknownAssignment(f"unknown assignment {name!r}; known assignments: {known}")
