"""The student notebook of an assignment, ``assignments/<NN>_<name>/<module>.ipynb``.

``dlgrade generate`` renders it from the same source as the stub module, with
the cell templates of ``templates/notebook/``:

* a title and introduction (the module's docstring), then a setup cell: the
  module's imports and ``%load_ext dlgrade_student`` (the student helper
  beside the notebook, ``grader/student/dlgrade_student.py``, defines ``%check``);
* for each function: a Markdown cell (the lecture context, and the arguments
  and results listed in its docstring), the function exactly as in the stub
  module, and ``%check <module>.<function>`` when the public tests test it;
* ``%check <module>`` (every public check) and how to submit.

Cells are the functions themselves, so a notebook is a submission: grading
keeps only its imports and definitions (``grader/submissions.py``); ``%check``
lines, pictures and experiments at a cell's top level do not run then.

**The narrative**, ``solutions/<NN>_<name>/notebook.md``, is Markdown that a
course author edits (optional: without it, each function is introduced by its
docstring's first paragraph). A heading that is a function's name in
backticks, e.g. ``### `sigmoid_forward` ``, starts that function's section. The
function's code and check cells follow the text right under that heading,
before the section's first ```` ```python ```` block or next heading; the
rest of the section comes after the check. Fenced ```` ```python ```` blocks
become code cells, the rest Markdown cells (a heading opens a new one). Text before the first heading replaces
the docstring as the introduction; what follows it up to the first function
heading comes after the setup cell. Functions without a section come after
the narrative's, in the module's order.

The notebook holds no outputs and every cell has a fixed id, so the file is
the same on every run (``dlgrade generate --check`` compares it). Code cells
carry a Jupyter tag saying what they are: ``setup``, ``function``, ``check``
or ``narrative`` (a picture or an experiment of the narrative).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import Course
from grader.markers import MarkerError
from grader.spec import Suite
from grader.student.dlgrade_student import PUBLIC_TESTS, function_of

NARRATIVE = "notebook.md"
TEMPLATES = "notebook"  # under templates/
FUNCTION_HEADING = re.compile(r"^#{2,6}\s+`(?P<name>\w+)`\s*$")
HEADING = re.compile(r"^#{1,6}\s")
FENCE = re.compile(r"^\s*```\s*(?P<info>\S*)")
# Google-style docstring sections: "Args:" then "    name: text" and deeper-indented continuation lines.
DOC_SECTION = re.compile(r"^(?P<title>Args|Arguments|Returns):\s*$")
DOC_ENTRY = re.compile(r"^    (?P<name>[^\s:][^:]*?):\s*(?P<text>.*)$")


class NarrativeError(MarkerError):
    """A narrative file that cannot be turned into a notebook; says where."""


def notebook_path(course: Course, suite: Suite) -> Path:
    return course.assignment_dir(suite) / f"{suite.module}.ipynb"


@dataclass
class Section:
    """The narrative of one function (``function`` None: the introduction)."""

    function: str | None
    lead: list[str] = field(default_factory=list)  # the Markdown lines right under the heading
    rest: list[tuple[str, str]] = field(default_factory=list)  # ("markdown" | "code", source), in order
    lead_closed: bool = False

    def add_line(self, line: str, starts_cell: bool = False) -> None:
        if self.lead_closed:
            if starts_cell or not self.rest or self.rest[-1][0] != "markdown":
                self.rest.append(("markdown", ""))
            self.rest[-1] = ("markdown", self.rest[-1][1] + line + "\n")
        else:
            self.lead.append(line)

    def add_code(self, source: str) -> None:
        self.lead_closed = True
        self.rest.append(("code", source))

    def cells(self) -> list[tuple[str, str]]:
        return [(kind, text.strip("\n")) for kind, text in self.rest if text.strip()]

    @property
    def lead_text(self) -> str:
        return "\n".join(self.lead).strip("\n")


def parse_narrative(text: str, functions: list[str], filename: str) -> list[Section]:
    """The introduction, then one section per function heading, in the file's order."""
    sections = [Section(None)]
    code: list[str] | None = None
    code_start, other_fence = 0, False
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if code is not None:
            if fence and not fence["info"]:
                sections[-1].add_code("\n".join(code))
                code = None
            else:
                code.append(line)
            continue
        if fence and not other_fence and fence["info"] == "python":
            code, code_start = [], number
            continue
        if fence:
            other_fence = not other_fence
        elif not other_fence and (heading := FUNCTION_HEADING.match(line)):
            name = heading["name"]
            if name not in functions:
                raise NarrativeError(f"{filename}:{number}: the heading `{name}` names no function of the module "
                                     f"({', '.join(functions)})")
            if any(s.function == name for s in sections):
                raise NarrativeError(f"{filename}:{number}: a second section for `{name}`")
            sections.append(Section(name))
        elif not other_fence and HEADING.match(line):
            sections[-1].lead_closed = True
            sections[-1].add_line(line, starts_cell=True)  # a heading opens a Markdown cell of its own
            continue
        sections[-1].add_line(line)
    if code is not None:
        raise NarrativeError(f"{filename}:{code_start}: the ```python block is never closed")
    return sections


@dataclass(frozen=True)
class ModuleParts:
    docstring: str
    preamble: str  # every top-level statement but the docstring and the functions, in order
    functions: dict[str, str]  # name -> source, with its decorators and the comments right above it
    docstrings: dict[str, str]  # name -> the function's docstring


def split_module(source: str, filename: str) -> ModuleParts:
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    functions, docstrings, preamble = {}, {}, []
    for i, node in enumerate(tree.body):
        if i == 0 and docstring:
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if isinstance(node, ast.FunctionDef):
            while start > 1 and lines[start - 2].lstrip().startswith("#"):
                start -= 1
            functions[node.name] = "\n".join(lines[start - 1:node.end_lineno])
            docstrings[node.name] = ast.get_docstring(node) or ""
        else:
            preamble.append("\n".join(lines[start - 1:node.end_lineno]))
    return ModuleParts(docstring, "\n".join(preamble), functions, docstrings)


def docstring_entries(docstring: str) -> dict[str, list[tuple[str, str]]]:
    """``{"Args": [(name, text)], "Returns": [...]}`` from a Google-style
    docstring (a few lines of parsing: a docstring library would be a
    dependency for this alone)."""
    entries: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in docstring.splitlines():
        if title := DOC_SECTION.match(line):
            current = entries.setdefault("Args" if title["title"] == "Arguments" else title["title"], [])
        elif current is not None and (entry := DOC_ENTRY.match(line)):
            current.append((entry["name"], entry["text"]))
        elif current is not None and line.startswith("        ") and current:
            name, text = current[-1]
            current[-1] = (name, f"{text} {line.strip()}")
        elif line.strip():
            current = None
    return entries


def markdown_of_docstring(text: str) -> str:
    """reStructuredText's ``code`` as Markdown's `code`."""
    return text.replace("``", "`")


def tested_functions(tests: Path, functions: list[str]) -> set[str]:
    """The functions some public test is about (by the test's name, as the checks' summary groups them)."""
    if not tests.is_file():
        return set()
    tree = ast.parse(tests.read_text(), str(tests))
    return {function_of(node.name, functions) for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")} & set(functions)


def render_notebook(env, course: Course, suite: Suite, module_source: str) -> str:
    """The notebook as JSON text, its code cells taken from ``module_source`` (the
    stub module; the tests render the solution's the same way)."""
    import nbformat  # only instructors generate notebooks

    solution_dir = course.solution_dir(suite)
    origin = f"{suite.folder}/{suite.module}.py"
    parts = split_module(module_source, origin)
    names = list(parts.functions)
    narrative_file = solution_dir / NARRATIVE
    sections = (parse_narrative(narrative_file.read_text(), names, f"{suite.folder}/{NARRATIVE}")
                if narrative_file.is_file() else [Section(None)])
    introduced = {s.function for s in sections}
    sections += [Section(name) for name in names if name not in introduced]
    tested = tested_functions(solution_dir / PUBLIC_TESTS, names)

    def template(name: str, **context) -> str:
        return env.get_template(f"{TEMPLATES}/{name}").render(suite=suite, **context).strip("\n")

    cells = []

    def add(kind: str, source: str, cell_id: str, tag: str | None = None) -> None:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cells.append(make(source, id=cell_id, metadata={"tags": [tag]} if tag else {}))

    intro, *functions = sections
    add("markdown", template("intro.md.j2", intro=intro.lead_text or markdown_of_docstring(parts.docstring),
                             checked=bool(tested)), "intro")
    add("code", template("setup.py.j2", preamble=parts.preamble), "setup", "setup")
    for i, (kind, source) in enumerate(intro.cells()):
        add(kind, source, f"intro-{i + 1}", "narrative" if kind == "code" else None)
    for section in functions:
        name = section.function
        assert name is not None  # only the intro is no function's section
        doc = parts.docstrings[name]
        entries = {title: [(entry, markdown_of_docstring(text)) for entry, text in listed]
                   for title, listed in docstring_entries(doc).items()}
        add("markdown", template("function.md.j2", function=name, lead=section.lead_text,
                                 summary=markdown_of_docstring(doc.split("\n\n")[0]),
                                 arguments=entries.get("Args", []), returns=entries.get("Returns", [])),
            f"{name}-text")
        add("code", parts.functions[name], f"{name}-code", "function")
        if name in tested:
            add("code", template("check.py.j2", target=f"{suite.module}.{name}"), f"{name}-check", "check")
        for i, (kind, source) in enumerate(section.cells()):
            add(kind, source, f"{name}-{i + 1}", "narrative" if kind == "code" else None)
    if tested:
        add("code", template("check.py.j2", target=suite.module), "all-checks", "check")
    add("markdown", template("submit.md.j2", checked=bool(tested)), "submit")

    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"
