"""The README's Layout lists every module and folder of the grader package
and every top-level folder of the repository, one line each (issue 14)."""

from __future__ import annotations

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
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
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
