"""The HTML report's figures, drawn from the data the grader attached to each
case (``CaseResult.details``); ``FIGURES`` maps each known key to its drawing,
and is the place to add one.

Figures are drawn without a plotting library: an error map is a small PNG
written directly (a pixel per element, scaled up by whole pixels), curves
and confusion matrices are inline SVG. A page costs a batch milliseconds,
not the second a plotting library took per buggy submission. A drawing
returns None when its figure would say nothing that the text does not.

Extension point (figure data a grader attaches to ``CaseResult.details``):

- ``"error_maps"``: a list of ``grader.compare.error_map`` dicts, attached by
  the engine to every failed array output of 2+ dimensions.
- ``"training_curve"``: the losses recorded while training, one float per
  step, or ``{series name: [floats]}`` (e.g. also ``"test accuracy"``); one
  panel per series.
- ``"confusion_matrix"``: counts (rows: true class, columns: predicted), or
  ``{"matrix": counts, "labels": [class names]}``.

Other keys (``"accuracy"``, say) are data for the grader, not figures.
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from grader.results import FunctionResult


@dataclass
class Figure:
    caption: str
    pngs: list[tuple[str, str]] = field(default_factory=list)  # (data URI, what it shows)
    svg: str = ""  # inline SVG, every text in it escaped here
    legend: list[tuple[str, str]] = field(default_factory=list)  # (CSS colour, label)


def png_data_uri(rgb: np.ndarray) -> str:
    """An RGB image (height x width x 3, uint8) as a PNG data URI: 8-bit
    truecolour, one zlib stream, no filter (PNG's own format, nothing else
    needed)."""
    height, width, _ = rgb.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)  # filter 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _palette(anchors: list[str], count: int) -> list[tuple[int, int, int]]:
    """``count`` colours evenly along the piecewise-linear ramp through ``anchors`` (#rrggbb)."""
    points = np.array([[int(a[i:i + 2], 16) for i in (1, 3, 5)] for a in anchors], dtype=float)
    where = np.linspace(0, len(anchors) - 1, count) if count > 1 else np.array([(len(anchors) - 1) / 2])
    low = np.minimum(where.astype(int), len(anchors) - 2)
    mixed = points[low] + (where - low)[:, None] * (points[low + 1] - points[low])
    return [(int(round(r)), int(round(g)), int(round(b))) for r, g, b in mixed]


def _css(colour: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % colour


ERROR_COLOURS = ["#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"]  # small to large
RIGHT, NOT_FINITE = (255, 255, 255), (0, 0, 0)
ERROR_MAP_PIXELS = 192  # the longer side of a map's picture, at least (each element a square of whole pixels)


def _draw_error_maps(maps: list[dict]) -> Figure | None:
    """One picture per map: each element coloured by the decade of its error
    (white: right; black: NaN or infinite). None when every map is one colour:
    "wrong everywhere by about the same" is what the messages say already."""
    images, decades = [], set()
    for m in maps:
        values = np.asarray(m["map"], dtype=float)
        if np.all(values == values.flat[0]):
            continue
        finite = values[np.isfinite(values) & (values > 0)]
        decades.update(np.round(np.log10(finite)).astype(int).tolist())
        images.append((m, values))
    if not images:
        return None
    order = sorted(decades)
    colours = dict(zip(order, _palette(ERROR_COLOURS, len(order))))
    pictures, right, not_finite = [], False, False
    for m, values in images:
        rgb = np.empty((*values.shape, 3), np.uint8)
        rgb[:] = RIGHT
        right |= bool((values == 0).any())
        infinite = ~np.isfinite(values)
        rgb[infinite] = NOT_FINITE
        not_finite |= bool(infinite.any())
        with np.errstate(divide="ignore", invalid="ignore"):
            exponents = np.round(np.log10(values))
        for decade, colour in colours.items():
            rgb[exponents == decade] = colour
        scale = max(1, -(-ERROR_MAP_PIXELS // max(values.shape)))
        rgb = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
        block = f", a square per {m['block']}x{m['block']} block (its worst)" if m["block"] > 1 else ""
        pictures.append((png_data_uri(rgb), f"{m['plane']}: {values.shape[0]} rows x {values.shape[1]} columns"
                                             f"{block}; {m['wrong']} of {m['size']} elements wrong"))
    legend = [(_css(RIGHT), "right")] * right + [(_css(colours[d]), f"~1e{d}") for d in order] \
        + [(_css(NOT_FINITE), "NaN or infinite")] * not_finite
    return Figure("where the output is wrong, each element coloured by the power of ten of its error: "
                  + "; ".join(text for _, text in pictures), pngs=pictures, legend=legend)


SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN = 360, 200, 36
MAX_CURVE_POINTS = 400  # more than the picture has pixels across


def _escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _svg(body: str, width: float = SVG_WIDTH, height: float = SVG_HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
            f'viewBox="0 0 {width:g} {height:g}" font-family="sans-serif" font-size="10">{body}</svg>')


def _draw_training_curve(curves) -> Figure | None:
    """One panel per series (the losses per step, or ``{series: values}``);
    None when no series has two points."""
    curves = curves if isinstance(curves, dict) else {"training loss": curves}
    panels = []
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        if values.size < 2:
            continue
        every = -(-values.size // MAX_CURVE_POINTS)
        steps = np.arange(values.size)[::every]
        low, high = float(values.min()), float(values.max())
        span = high - low or 1.0
        x = SVG_MARGIN + steps / max(values.size - 1, 1) * (SVG_WIDTH - 1.5 * SVG_MARGIN)
        y = SVG_HEIGHT - SVG_MARGIN + (low - values[::every]) / span * (SVG_HEIGHT - 1.7 * SVG_MARGIN)
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
        bottom, right = SVG_HEIGHT - SVG_MARGIN, SVG_WIDTH - SVG_MARGIN / 2
        m, top, below, mid = SVG_MARGIN, 0.7 * SVG_MARGIN, bottom + 14, SVG_WIDTH / 2
        panels.append(_svg(
            f'<text x="{mid:g}" y="14" text-anchor="middle" font-size="11">{_escape(name)}</text>'
            f'<polyline points="{m},{top:g} {m},{bottom} {right:g},{bottom}" fill="none" stroke="#8c959f"/>'
            f'<polyline points="{points}" fill="none" stroke="#0969da" stroke-width="1.5"/>'
            f'<text x="{m - 3}" y="{top + 4:g}" text-anchor="end">{high:.3g}</text>'
            f'<text x="{m - 3}" y="{bottom}" text-anchor="end">{low:.3g}</text>'
            f'<text x="{m}" y="{below}" text-anchor="middle">1</text>'
            f'<text x="{right:g}" y="{below}" text-anchor="end">{values.size}</text>'
            f'<text x="{mid:g}" y="{below}" text-anchor="middle">step</text>'))
    return Figure("training curve", svg="".join(panels)) if panels else None


CONFUSION_COLOURS = ["#f7fbff", "#6baed6", "#08306b"]
MAX_COUNTED_CLASSES = 12  # counts written in the cells up to this many classes


def _draw_confusion_matrix(data) -> Figure | None:
    """Counts (rows: true class, columns: predicted), or ``{"matrix",
    "labels"}``; None when nothing was confused (the accuracy says it all)."""
    data = data if isinstance(data, dict) else {"matrix": data}
    matrix = np.asarray(data["matrix"], dtype=float)
    if not (matrix - np.diag(np.diag(matrix))).any():
        return None
    labels = [str(label) for label in data.get("labels") or range(len(matrix))]
    n = len(matrix)
    cell, left, top = max(12, min(28, 300 // n)), 44, 30
    shades = _palette(CONFUSION_COLOURS, 64)
    peak = matrix.max() or 1.0
    parts = []
    labels = [_escape(label) for label in labels]
    for (i, j), count in np.ndenumerate(matrix):
        shade = int(round(count / peak * 63))
        x, y = left + j * cell, top + i * cell
        parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{_css(shades[shade])}">'
                     f'<title>true {labels[i]}, predicted {labels[j]}: {count:g}</title></rect>')
        if n <= MAX_COUNTED_CLASSES:
            parts.append(f'<text x="{x + cell / 2:g}" y="{y + cell / 2 + 3:g}" text-anchor="middle" font-size="9" '
                         f'fill="{"white" if shade > 40 else "black"}">{count:g}</text>')
    for k, label in enumerate(labels):
        parts.append(f'<text x="{left + (k + 0.5) * cell:g}" y="{top - 4}" text-anchor="middle">{label}</text>'
                     f'<text x="{left - 4}" y="{top + (k + 0.5) * cell + 3:g}" text-anchor="end">{label}</text>')
    side = n * cell
    middle = top + side / 2
    parts.append(f'<text x="{left + side / 2:g}" y="12" text-anchor="middle">predicted class</text>'
                 f'<text x="10" y="{middle:g}" text-anchor="middle" transform="rotate(-90 10 {middle:g})">'
                 f'true class</text>')
    return Figure("confusion matrix", svg=_svg("".join(parts), left + side + 8, top + side + 8))


# key in CaseResult.details -> its drawing; see the module's docstring.
FIGURES: dict[str, Callable[[Any], Figure | None]] = {
    "error_maps": _draw_error_maps,
    "training_curve": _draw_training_curve,
    "confusion_matrix": _draw_confusion_matrix,
}
FIGURES_PER_FUNCTION = 1  # cases drawn: the first that has something to show tells the story


def figures_of(f: FunctionResult) -> dict[int, list[Figure]]:
    """id(case) -> its figures, for the first FIGURES_PER_FUNCTION cases
    that have something to show."""
    drawn: dict[int, list[Figure]] = {}
    for case in f.cases:
        if len(drawn) == FIGURES_PER_FUNCTION:
            break
        figures = [figure for key, draw in FIGURES.items()
                   if case.details.get(key) is not None and (figure := draw(case.details[key])) is not None]
        if figures:
            drawn[id(case)] = figures
    return drawn
