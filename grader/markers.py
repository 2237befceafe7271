"""The solution markers: every block between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` of a solution module, and the stub it becomes (a TODO
that raises ``NotImplementedError``). Read by ``generate``, the notebooks and
the otter export alike."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?::\s*(?P<todo>.*))?\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
DEF = re.compile(r"^\s*def (?P<name>\w+)\s*\(")


class MarkerError(ValueError):
    pass


@dataclass(frozen=True)
class Block:
    function: str
    start: int  # line index of BEGIN
    end: int  # line index of END


def solution_blocks(source: str, filename: str) -> list[Block]:
    blocks: list[Block] = []
    current_def: str | None = None  # the function the line is in
    begin: int | None = None  # the line of the open block's BEGIN
    block_def = ""  # the function of the open block
    for i, line in enumerate(source.splitlines()):
        if m := DEF.match(line):
            current_def = m["name"]
        if BEGIN.match(line):
            if begin is not None:
                raise MarkerError(f"{filename}:{i + 1}: BEGIN SOLUTION inside another block "
                                  f"(opened at line {begin + 1})")
            if current_def is None:
                raise MarkerError(f"{filename}:{i + 1}: BEGIN SOLUTION outside any function")
            # The block belongs to the function it opens in, even if it defines a helper function.
            begin, block_def = i, current_def
        elif END.match(line):
            if begin is None:
                raise MarkerError(f"{filename}:{i + 1}: END SOLUTION without BEGIN SOLUTION")
            blocks.append(Block(block_def, begin, i))
            begin = None
    if begin is not None:
        raise MarkerError(f"{filename}:{begin + 1}: BEGIN SOLUTION is never closed")
    return blocks


def stub_source(source: str, filename: str) -> str:
    lines = source.splitlines()
    out, last = [], 0
    for block in solution_blocks(source, filename):
        m = BEGIN.match(lines[block.start])
        assert m is not None  # solution_blocks found BEGIN there
        indent, todo = m["indent"], m["todo"] or f"implement {block.function}"
        out += lines[last:block.start]
        out += [f"{indent}# TODO: {todo}",
                f'{indent}raise NotImplementedError("{block.function} is not implemented yet")']
        last = block.end + 1
    out += lines[last:]
    stub = "\n".join(out) + "\n"
    try:
        ast.parse(stub, filename)
    except SyntaxError as e:
        raise MarkerError(f"{filename}: the generated stub does not parse (line {e.lineno}: {e.msg})") from None
    return stub
