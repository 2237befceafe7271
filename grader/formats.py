"""Renderings of a ``GradeResult`` besides text and Gradescope's JSON (which
are in ``grader.report``): markdown for a CI job summary, JUnit XML for CI test
reporters, and a self-contained HTML page with figures.

None of them shows an expected value: a ``GradeResult`` holds none. The HTML
page draws the figure data the grader attached to each case
(``CaseResult.details``); ``FIGURES`` maps each known key to its drawing, and
is the place to add one.

Extension point (figure data a grader attaches to ``CaseResult.details``):

- ``"error_maps"``: a list of ``grader.compare.error_map`` dicts, attached by
  ``grade.py`` to every failed array output of 2+ dimensions.
- ``"training_curve"``: the losses recorded while training, one float per
  step, or ``{series name: [floats]}`` (e.g. also ``"test accuracy"``); one
  panel per series.
- ``"confusion_matrix"``: counts (rows: true class, columns: predicted), or
  ``{"matrix": counts, "labels": [class names]}``.

Other keys (``"accuracy"``, say) are data for the grader, not figures.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import io
import json
import re
import xml.etree.ElementTree as ET
from typing import Any, Callable

from grader.report import FunctionResult, GradeResult

FORMATS = ("text", "json", "markdown", "junit", "html")
PASSED, FAILED = "✅", "❌"


def render(result: GradeResult, fmt: str) -> str:
    renderers: dict[str, Callable[[GradeResult], str]] = {
        "text": GradeResult.to_text,
        "json": lambda r: json.dumps(r.to_gradescope(), indent=2),
        "markdown": to_markdown,
        "junit": to_junit,
        "html": to_html,
    }
    return renderers[fmt](result)


def unavailable(fmt: str) -> str | None:
    """Why ``fmt`` cannot be rendered here (a package is missing), else None."""
    if fmt != "html":
        return None
    for package in ("jinja2", "matplotlib"):  # found, not imported: a batch's main process draws nothing
        if importlib.util.find_spec(package) is None:
            return f"the HTML report needs {package}: pip install 'dlgrade[feedback]'"
    return None


# --- markdown -----------------------------------------------------------------

def markdown_table(header: list[str], rows: list[list[Any]], align: str = "") -> str:
    """A GitHub markdown table; ``align`` has one of l/c/r per column (default l)."""
    marks = {"l": "---", "c": ":-:", "r": "--:"}
    line = lambda cells: "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"  # noqa: E731
    return "\n".join([line(header), line(marks[a] for a in align.ljust(len(header), "l")), *map(line, rows)])


def code_block(text: str) -> str:
    """``text`` verbatim in a fence longer than any backtick run inside it (a
    student's exception message can hold anything)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}" if longest else f"`{text}`"


def _points(f: FunctionResult | GradeResult) -> str:
    return f"{round(f.score, 2):g} / {f.max_score:g}"


def to_markdown(result: GradeResult) -> str:
    """For a job summary (``>> $GITHUB_STEP_SUMMARY``) or a pull request comment."""
    mark = PASSED if result.status == "graded" and result.score >= result.max_score else FAILED
    lines = [f"## {mark} {result.assignment}: {_points(result)} ({result.percent:.1f}%)", "",
             f"Submission {code_span(result.submission)}"]
    if result.warnings or result.notices:
        # two spaces: a line break between notes
        lines += ["", *(f"> **warning**: {w}  " for w in result.warnings), *(f"> note: {n}  " for n in result.notices)]
    if result.status != "graded":
        lines += ["", f"**{result.status}**:", code_block(result.message)]
    rows = [[PASSED if f.score >= f.max_score else FAILED, f"`{f.name}`", _points(f)] for f in result.functions]
    rows.append(["", "**total**", f"**{_points(result)}**"])
    lines += ["", markdown_table(["", "function", "points"], rows, "clr")]
    for f in result.functions:
        if f.score >= f.max_score and not f.notes:
            continue
        lines += ["", f"### {PASSED if f.score >= f.max_score else FAILED} `{f.name}`: {f.summary}", ""]
        for which, lost, messages, _ in f.failure_groups():
            fenced = code_block("\n".join(messages)).splitlines()
            lines += [f"- {which}{f' (-{lost:g})' if lost else ''}:", "", *(f"  {line}" for line in fenced), ""]
        lines += [f"- 💡 {h}" for h in f.hints]
        lines += [f"- {n}" for n in f.notes]
    return "\n".join(lines) + "\n"


# --- JUnit XML ----------------------------------------------------------------

# XML 1.0 cannot carry most control characters, which a student's exception
# message may hold; ElementTree would write them and produce invalid XML.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def to_junit(result: GradeResult) -> str:
    """One testsuite for the assignment, one testcase per case (classname: the
    graded function): failed cases with their messages and hints, skipped ones
    (a GPU-only check without a GPU) with the reason."""
    suite = ET.Element("testsuite", name=result.assignment, time=f"{result.seconds:.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("submission", result.submission), ("status", result.status),
                        ("score", f"{result.score:g}"), ("max_score", f"{result.max_score:g}"),
                        ("percent", f"{result.percent:.2f}"),
                        ("development_seed", "true" if result.development_seed else "false"),
                        ("confinement", result.confinement), *(("warning", w) for w in result.warnings),
                        *(("notice", n) for n in result.notices)):
        ET.SubElement(properties, "property", name=name, value=_xml_text(value))
    for f in result.functions:
        for c in f.cases:
            case = ET.SubElement(suite, "testcase", classname=f.name, name=_xml_text(c.name), time="0")
            if c.skipped:
                ET.SubElement(case, "skipped", message=_xml_text(c.skipped))
            elif not c.passed:
                first = c.messages[0].splitlines()[0] if c.messages else "wrong"
                failure = ET.SubElement(case, "failure", type="speed" if c.speed else "wrong result",
                                        message=_xml_text(f"-{c.max_score - c.score:g} points: {first}"))
                failure.text = _xml_text("\n".join([*c.messages, *(f"hint: {h}" for h in c.hints)]))
    if result.status != "graded":
        case = ET.SubElement(suite, "testcase", classname="submission", name=result.status, time="0")
        kind = "error" if result.status == "error" else "failure"
        message = _xml_text(result.message)
        ET.SubElement(case, kind, type=result.status, message=message).text = message
    counts = {"tests": len(suite.findall("testcase")), "failures": len(suite.findall("testcase/failure")),
              "errors": len(suite.findall("testcase/error")), "skipped": len(suite.findall("testcase/skipped"))}
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    root = ET.Element("testsuites", name="dlgrade", time=suite.get("time"),
                      **{k: str(v) for k, v in counts.items() if k != "skipped"})
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --- HTML ---------------------------------------------------------------------

def _png_data_uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)  # no bbox_inches="tight": it draws everything twice
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _draw_error_maps(maps: list[dict]):
    import matplotlib
    import numpy as np
    from matplotlib import colors, ticker
    from matplotlib.figure import Figure  # no pyplot: no global backend state, PNG through Agg

    figure = Figure(figsize=(3.8 * len(maps), 3.4))  # no layout engine: it doubles the drawing time
    # Masked (0: within tolerance) white; above the top (NaN or infinite) black.
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="white", over="black")
    for ax, m in zip(figure.subplots(1, len(maps), squeeze=False)[0], maps):
        values = np.asarray(m["map"], dtype=float)
        finite = values[np.isfinite(values) & (values > 0)]
        low, high = (finite.min(), finite.max()) if finite.size else (1.0, 1.0)
        image = ax.imshow(np.ma.masked_equal(values, 0.0), cmap=cmap, interpolation="nearest",
                          norm=colors.LogNorm(low, max(high, 10 * low)))
        block = f", {m['block']}x{m['block']} blocks" if m["block"] > 1 else ""
        ax.set_title(f"{m['plane']}{block}", fontsize=9)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        for axis in (ax.xaxis, ax.yaxis):  # few integer ticks: tick labels are most of the drawing time
            axis.set_major_locator(ticker.MaxNLocator(5, integer=True))
        bar = figure.colorbar(image, ax=ax, shrink=0.8, extend="max")
        bar.ax.minorticks_off()
        bar.set_label("|error|, order of magnitude", fontsize=8)
    return figure


MAX_CURVE_POINTS = 5000  # a curve of a million steps is drawn from every n-th: the picture is the same, in a blink


def _draw_training_curve(curves):
    import numpy as np
    from matplotlib.figure import Figure

    curves = curves if isinstance(curves, dict) else {"training loss": curves}
    figure = Figure(figsize=(3.8 * len(curves), 3.2))
    figure.subplots_adjust(bottom=0.17)
    for ax, (name, values) in zip(figure.subplots(1, len(curves), squeeze=False)[0], curves.items()):
        values = np.asarray(values, dtype=float)
        every = max(1, len(values) // MAX_CURVE_POINTS)
        steps = np.arange(1, len(values) + 1)
        ax.plot(steps[::every], values[::every], marker="o" if len(values) <= 50 else None, markersize=3)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    return figure


def _draw_confusion_matrix(data):
    import numpy as np
    from matplotlib.figure import Figure

    data = data if isinstance(data, dict) else {"matrix": data}
    matrix = np.asarray(data["matrix"])
    labels = data.get("labels") or list(range(len(matrix)))
    figure = Figure(figsize=(4.4, 3.8))
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if matrix.size <= 144:  # counts stay legible up to 12 classes
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, f"{count:g}", ha="center", va="center", fontsize=7,
                    color="white" if count > matrix.max() / 2 else "black")
    figure.colorbar(image, ax=ax, shrink=0.8)
    return figure


# key in CaseResult.details -> (caption, drawing); see the module's docstring.
FIGURES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "error_maps": ("where the output is wrong: each wrong element's |error| to the nearest power of ten "
                   "(white: right; black: NaN or infinite)", _draw_error_maps),
    "training_curve": ("training curve", _draw_training_curve),
    "confusion_matrix": ("confusion matrix", _draw_confusion_matrix),
}
FIGURES_PER_FUNCTION = 1  # cases drawn: the first tells the story; each figure costs a batch ~0.1-0.3 s


def _figures(f: FunctionResult) -> dict[int, list[tuple[str, str]]]:
    """id(case) -> [(caption, data URI)], for the first FIGURES_PER_FUNCTION
    cases that carry figure data."""
    drawn: dict[int, list[tuple[str, str]]] = {}
    for case in f.cases:
        if len(drawn) == FIGURES_PER_FUNCTION:
            break
        figures = [(caption, _png_data_uri(draw(case.details[key])))
                   for key, (caption, draw) in FIGURES.items() if case.details.get(key) is not None]
        if figures:
            drawn[id(case)] = figures
    return drawn


@functools.lru_cache(maxsize=None)
def _template(folder: str):
    import jinja2  # optional: only the HTML report needs it

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2")


def to_html(result: GradeResult) -> str:
    """A self-contained page (inline CSS, figures as PNG data URIs) from
    ``templates/report.html.j2``."""
    from grader.course import Course

    functions = []
    for f in result.functions:
        figures = _figures(f)
        named = lambda cases: [(f"case '{c.name}': {caption}", uri)  # noqa: E731
                               for c in cases for caption, uri in figures.pop(id(c), [])]
        groups = [{"which": which, "lost": lost, "messages": messages,
                   "figures": named(cases) if len(cases) > 1 else figures.pop(id(cases[0]), [])}
                  for which, lost, messages, cases in f.failure_groups()]
        # What is left belongs to passed cases (a training curve, say): shown with the function.
        passed_figures = named(f.cases)
        functions.append({"name": f.name, "points": _points(f), "passed": f.score >= f.max_score,
                          "summary": f.summary, "groups": groups, "figures": passed_figures,
                          "hints": f.hints, "notes": f.notes})
    return _template(str(Course.locate().root / "templates")).render(
        result=result, points=_points(result), functions=functions)
