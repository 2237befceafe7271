"""Generate a class of submissions for one assignment: correct ones written
three ways, buggy ones, untouched stubs, malformed files and hostile code.

    python benchmarks/make_class.py losses 200 /tmp/class [--kinds correct,buggy]

Used by `make bench` (throughput, and a mixed class graded into a complete
gradebook); handy for trying `dlgrade grade-batch` by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.suites import get_suite  # noqa: E402

HOSTILE = {
    "exit_at_import": "import sys\nsys.exit(0)\n",
    "os_exit_in_function": "import os\n\ndef {fn}(*args, **kwargs):\n    os._exit(0)\n",
    "infinite_loop": "def {fn}(*args, **kwargs):\n    while True:\n        pass\n",
    "memory_bomb": "def {fn}(*args, **kwargs):\n    return bytearray(1 << 40)\n",
    "fork": "import os\n\ndef {fn}(*args, **kwargs):\n    os.fork()\n",
    "forbidden_import": "import torch\n",
    "print_flood": "import sys\nsys.stdout.write('x' * (100 << 20))\n",
}


def make(assignment: str, count: int, folder: Path, kinds: list[str]) -> dict[str, int]:
    suite = get_suite(assignment)
    examples = ROOT / "solutions" / "examples" / suite.assignment
    solution = (ROOT / "solutions" / suite.folder / f"{suite.module}.py").read_text()
    first = suite.student_functions[0]
    makers = {
        "correct": lambda p: p.with_suffix(".py").write_text(solution),
        "correct_loops": lambda p: p.with_suffix(".py").write_text((examples / "correct_loops.py").read_text()),
        "correct_float32": lambda p: p.with_suffix(".py").write_text((examples / "correct_float32.py").read_text()),
        "buggy": lambda p: p.with_suffix(".py").write_text((examples / "buggy.py").read_text()),
        "stub": lambda p: p.with_suffix(".py").write_text((ROOT / "assignments" / suite.folder
                                                            / f"{suite.module}.py").read_text()),
        "zip": lambda p: _zip(p.with_suffix(".zip"), f"work/{suite.module}.py", solution),
        "notebook": lambda p: p.with_suffix(".ipynb").write_text(
            json.dumps({"cells": [{"cell_type": "code", "source": solution}]})),
        "empty": lambda p: p.with_suffix(".py").write_text(""),
        "junk": lambda p: p.with_suffix(".py").write_bytes(bytes(range(256)) * 4),
        "bad_zip": lambda p: p.with_suffix(".zip").write_bytes(b"PK\x03\x04 broken"),
        "broken_notebook": lambda p: p.with_suffix(".ipynb").write_text('{"cells": ['),
        # The hostile code comes after the solution, so that its definition of the first function wins.
        **{f"hostile_{name}": (lambda code: lambda p: p.with_suffix(".py").write_text(
            solution + "\n\n" + code.format(fn=first)))(code) for name, code in HOSTILE.items()},
    }
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for i in range(count):
        kind = kinds[i % len(kinds)]
        makers[kind](folder / f"student{i:04d}_{kind}")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _zip(path: Path, name: str, text: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, text)


ALL_KINDS = ["correct", "correct_loops", "correct_float32", "buggy", "stub", "zip", "notebook", "empty", "junk",
             "bad_zip", "broken_notebook", *[f"hostile_{name}" for name in HOSTILE]]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--kinds", default=",".join(ALL_KINDS), help="comma-separated, cycled through")
    args = parser.parse_args()
    print(make(args.assignment, args.count, args.folder, args.kinds.split(",")))
