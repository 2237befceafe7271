"""The README's Layout lists every module and folder of the grader package
and every top-level folder of the repository, one line each (issue 14)."""

from __future__ import annotations

import ast
import re
import subprocess

from grader.course import Course

ROOT = Course.locate().root


def _layout() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"^## Layout\n.*?```\n(.*?)```", text, re.S | re.M).group(1)


def _listed(layout: str) -> set[str]:
    """The name each line of the Layout starts with (a module, or a folder with its slash)."""
    names = set()
    for line in layout.splitlines():
        names |= set(re.findall(r"^\s*([\w./-]+)", line))
    return names


def test_every_module_and_folder_is_in_the_layout():
    layout = _layout()
    names = _listed(layout)
    # The tree as it is: tracked files still there, and new ones git does not ignore.
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    tracked = [p for p in listed if (ROOT / p).is_file()]
    missing = []
    for path in sorted({p for p in tracked if p.startswith("grader/")}):
        parts = path.split("/")
        if len(parts) == 2 and path.endswith(".py") and parts[1] != "__init__.py":
            missing += [] if parts[1] in names else [path]
        elif len(parts) > 2 and f"{parts[1]}/" not in names:
            missing.append(f"grader/{parts[1]}/")
        elif parts[1] == "child" and len(parts) == 3 and parts[2] not in names:
            missing.append(path)
    tops = {p.split("/")[0] + "/" for p in tracked if "/" in p and not p.startswith(".")}
    missing += sorted(t for t in tops if t not in names)
    assert not missing, f"not in the README's Layout: {sorted(set(missing))}"


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """grader's modules -> the grader modules each imports, anywhere in it
    (a function's imports too: they run as surely, only later). ``from a
    import b`` is an import of ``a.b`` when that is a module, else of ``a``."""
    modules = {_module_name(p): p for p in (ROOT / "grader").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, one level up per further dot
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                          for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan's
    algorithm), each as the modules along it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            groups.append([node, *group])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [sorted(g) for g in groups if len(g) > 1]


def test_grader_has_no_import_cycle():
    graph = import_graph()
    assert {"grader.cli", "grader.results", "grader.render.text", "grader.commands.grade"} <= set(graph)
    assert "grader.results" in graph["grader.render.text"]  # function-level and package imports are seen
    assert not cycles(graph), f"modules importing one another, directly or not: {cycles(graph)}"


def test_everything_the_layout_lists_exists():
    """Each entry (a line indented by 0, 2 or 4 spaces, under the folder
    above it) names a file or folder of the tree: a module removed or
    renamed leaves no line behind."""
    folders: list[str] = []
    stale = []
    for line in _layout().splitlines():
        found = re.match(r"^((?:  ){0,2})(\S+)", line)
        if not found:
            continue
        depth, name = len(found.group(1)) // 2, found.group(2)
        folders[depth:] = []
        path = "".join(folders) + name
        if not (ROOT / path).exists():
            stale.append(path)
        if name.endswith("/"):
            folders.append(name)
    assert not stale, f"in the README's Layout, not in the tree: {stale}"
