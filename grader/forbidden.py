"""The static half of forbidden APIs: a scan of the submission's source.

A graded function may declare dotted names it must not use
(``GradedFunction.forbidden``, e.g. ``torch.nn.functional.conv2d`` where
convolution is the thing to implement). The scan resolves the module's imports
and simple aliases (``import torch.nn.functional as F``, ``from torch import
nn``, ``conv = F.conv2d``) and reports each use of a forbidden name, or of
anything under it, inside the function or any function of the module it calls.
Names built at run time (``getattr(F, "conv" + "2d")``) escape a scan: torch
functions are also refused at run time (``grader/child/torch_support.py``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    name: str  # the forbidden name used
    function: str  # where: the graded function, or a function or class of the module it uses
    line: int

    def message(self, graded: str) -> str:
        via = "" if self.function == graded else f", which {graded} uses"
        return f"{graded} must not use {self.name} (line {self.line}, in {self.function}{via}): implement it yourself"


def scan(source: str, graded: str, forbidden: tuple[str, ...]) -> list[Violation]:
    """Uses of ``forbidden`` names by the top-level function ``graded`` and the
    module's functions and classes it uses (transitively)."""
    if not forbidden:
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # reported when the submission is imported
    aliases = _aliases(tree)
    # Classes too: a graded function that instantiates a helper class of the module reaches its methods.
    functions = {node.name: node for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    reached, todo = set(), [graded]
    while todo:
        name = todo.pop()
        if name in reached or name not in functions:
            continue
        reached.add(name)
        todo += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)]
    # Top-level code outside definitions is not scanned: an alias made there (conv = F.conv2d) is
    # resolved where the function uses it, and other top-level code runs at import, not when graded.
    places = [(name, functions[name]) for name in sorted(reached)]
    found = []
    for where, node in places:
        for sub in ast.walk(node):
            if not isinstance(sub, ast.expr):  # _dotted names only names and attributes
                continue
            dotted = _dotted(sub, aliases)
            if dotted and (hit := _match(dotted, forbidden)):
                found.append(Violation(hit, where, sub.lineno))
    return sorted(set(found), key=lambda v: (v.line, v.name))


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from imports anywhere and
    simple top-level assignments (``conv = F.conv2d``)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    top = a.name.partition(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if value := _dotted(node.value, aliases):
                aliases[node.targets[0].id] = value
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``F.conv2d`` -> "torch.nn.functional.conv2d" where F is so imported; None
    for anything that is not a chain of names rooted in an import."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _match(dotted: str, forbidden: tuple[str, ...]) -> str | None:
    for name in forbidden:
        if dotted == name or dotted.startswith(name + "."):
            return name
    return None
