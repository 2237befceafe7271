"""Markdown, JUnit XML and HTML reports: what they show, that they are well
formed whatever a student's exception message holds, and that no expected
value reaches them."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from grader.compare import error_map
from grader.course import Course, Secret
from grader.engine import grade_submission, submission_cases, submission_digest
from grader.render import render, unavailable
from grader.render.figures import FIGURES, FIGURES_PER_FUNCTION, MAX_CURVE_POINTS
from grader.render.gradescope import to_gradescope
from grader.render.html import to_html
from grader.render.junit import to_junit
from grader.render.markdown import code_block, to_markdown
from grader.render.text import to_text
from grader.results import CaseResult, FunctionResult, GradeResult
from grader.spec import Expected, Tolerance
from tests.toy import SUITE, make_course

COURSE = Course.locate()
HOSTILE = "bad \x00\x1b ``` <script>alert(1)</script> ]]> &amp;"
TRIPLED = f'''
def scale_forward(x):
    return 3 * x, None


def shift_forward(x):
    raise ValueError({HOSTILE!r})
'''
ZEROS = '''
import numpy as np


def scale_forward(x):
    return np.zeros_like(x), None


def shift_forward(x):
    return np.zeros_like(x), None
'''
PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The toy suite graded for two submissions: one with a catalogued bug and a
    hostile exception message, one that returns zeros (its error is the
    expected value itself)."""
    root = tmp_path_factory.mktemp("formats")
    course = Course(root / "course")
    make_course(course.root)
    results = {}
    for name, source in (("tripled", TRIPLED), ("zeros", ZEROS)):
        path = root / name / "toy.py"
        path.parent.mkdir()
        path.write_text(source)
        results[name] = grade_submission(SUITE, path, Secret("formats"), course)
    return results


def expected_values(result: GradeResult) -> list[np.ndarray]:
    """The expected outputs of the cases that graded ``result``'s submission."""
    digest = submission_digest(Path(result.submission))
    return [np.asarray(v) for fn in SUITE.functions for case in submission_cases(SUITE, fn, Secret("formats"), digest)
            for v in fn.reference(case.inputs).values()]


def test_markdown_has_score_table_and_failed_cases(graded):
    result = graded["tripled"]
    text = to_markdown(result)
    assert text.startswith(f"## ❌ toy: 0 / {result.max_score:g} (0.0%)")
    assert "| ❌ | `scale_forward` | 0 / 2 |" in text and "| ❌ | `shift_forward` | 0 / 2 |" in text
    assert "you multiply by three [tripled]" in text  # the recognised bug's hint
    assert "out is wrong at 12 of 12 elements" in text
    # The hostile message sits in a fence longer than its own backtick run.
    fence = re.search(r"^\s*(`{4,})text\n.*?ValueError: bad", text, re.S | re.M)
    assert fence and text.count(fence.group(1)) == 2


def test_code_block_fence_outgrows_backticks_inside():
    assert code_block("a ````` b").startswith("``````text\n")
    assert code_block("plain") == "```text\nplain\n```"


def test_junit_is_valid_xml_with_one_testcase_per_case(graded):
    result = graded["tripled"]
    root = ET.fromstring(to_junit(result).encode())
    suite = root.find("testsuite")
    assert suite.get("name") == "toy"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == \
        [(f.name, c.name) for f in result.functions for c in f.cases]
    assert int(suite.get("tests")) == len(cases) == 4 and int(suite.get("failures")) == 4
    failure = cases[-1].find("failure")
    assert "ValueError: bad" in failure.get("message") and "<script>" in failure.text  # as text, escaped
    assert "\x00" not in failure.text and "\ufffd" in failure.text  # XML 1.0 cannot carry NUL
    assert "hint: you multiply by three [tripled]" in cases[0].find("failure").text
    assert {p.get("name"): p.get("value") for p in suite.find("properties")}["score"] == "0"


def test_junit_reports_a_grader_error_as_an_error():
    result = GradeResult("toy", "x.py", [], status="error", message="the grader failed on this submission: boom")
    suite = ET.fromstring(to_junit(result).encode()).find("testsuite")
    assert suite.get("errors") == "1" and suite.find("testcase/error").get("message").endswith("boom")


def test_junit_marks_a_check_that_could_not_run_skipped():
    functions = [FunctionResult("train_cnn", [CaseResult("test accuracy", 1.0, 1.0), CaseResult(
        "speed on the GPU", 0.0, 0.0, skipped="GPU-only check: no CUDA GPU here")])]
    suite = ET.fromstring(to_junit(GradeResult("cnn", "cnn.py", functions)).encode()).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "1")
    assert suite.find("testcase/skipped").get("message") == "GPU-only check: no CUDA GPU here"


def test_error_map_is_attached_to_failed_array_outputs_only(graded):
    scale, shift = graded["tripled"].functions
    maps = [m for c in scale.cases for m in c.details["error_maps"]]
    assert [m["shape"] for m in maps] == [(3, 4), (1, 4)] and all(m["output"] == "out" for m in maps)
    assert all(not c.details for c in shift.cases)  # an exception: nothing to draw
    # Not in the Gradescope JSON, the text or the markdown; the per-test bugs are.
    data = to_gradescope(graded["tripled"])
    assert "error_maps" not in json.dumps(data) and "map" not in to_text(graded["tripled"])
    assert data["tests"][0]["extra_data"] == {"bugs": ["tripled"]}
    assert data["tests"][1]["extra_data"] == {"bugs": []}


def test_error_map_tells_magnitudes_never_values(graded):
    """An all-zero output's error is |expected|: the map keeps its decade only."""
    case = graded["zeros"].functions[0].cases[0]
    expected = expected_values(graded["zeros"])[0]
    assert expected.shape == (3, 4)
    (m,) = case.details["error_maps"]
    assert m["map"].shape == (3, 4)
    np.testing.assert_array_equal(m["map"], 10.0 ** np.round(np.log10(np.abs(expected))))
    assert not np.allclose(m["map"], np.abs(expected))


def test_error_map_crops_to_the_worst_plane_and_downsamples_by_block_maxima():
    ref = np.zeros((2, 3, 130, 70))
    got = ref.copy()
    got[1, 2, 129, 0] = 5.0  # the worst element
    got[0, 0, 0, 0] = 0.01
    m = error_map("out", got, Expected(ref), Tolerance())
    assert m["plane"] == "out[1, 2, :, :]" and m["block"] == 3 and m["map"].shape == (44, 24)
    assert m["map"][43, 0] == 10.0 and np.count_nonzero(m["map"]) == 1  # 5 -> its decade; the block survives
    nan = got.copy()
    nan[0, 1, 3, 4] = np.nan
    assert np.isinf(error_map("out", nan, Expected(ref), Tolerance())["map"]).sum() == 1
    assert error_map("out", ref, Expected(ref), Tolerance()) is None  # right
    assert error_map("out", got[0], Expected(ref), Tolerance()) is None  # another shape
    assert error_map("out", np.ones(4), Expected(np.zeros(4)), Tolerance()) is None  # 1-d


def test_html_shows_score_messages_hints_and_embedded_pngs(graded):
    html = to_html(graded["tripled"])
    assert 'id="score"' in html and f"0 / {graded['tripled'].max_score:g} points" in html
    assert "you multiply by three [tripled]" in html and "out is wrong at 12 of 12 elements" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # autoescaped
    images = [base64.b64decode(uri) for uri in PNG.findall(html)]
    assert len(images) == min(2, FIGURES_PER_FUNCTION)  # scale_forward's two cases, shift_forward raised
    assert images and all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images)
    assert "http" not in html.replace("http-equiv", "")  # self-contained: nothing fetched


def test_neither_the_page_nor_the_text_holds_an_expected_value(graded):
    """An all-zero output's error is |expected| itself: errors are told as
    powers of ten, so no expected value reaches the text report or the page,
    at any usual precision."""
    page = PNG.sub("", to_html(graded["zeros"]))
    feedback = to_text(graded["zeros"])
    assert "max abs error ~1e" in feedback
    values = np.concatenate([v.ravel() for v in expected_values(graded["zeros"])])
    assert values.size == 2 * (12 + 4)  # both functions' cases: what this submission was graded on
    for value in values:
        for shown in (f"{value:.3g}", f"{abs(value):.3g}", f"{value:.4f}", f"{abs(value):.4f}"):
            if len(shown.lstrip("-0.")) >= 3:  # short strings like "1.5" occur in CSS by chance
                assert shown not in page and shown not in feedback, shown


SVG = re.compile(r"<svg .*?</svg>", re.S)


@pytest.mark.parametrize("details, panels, classes", [
    ({"training_curve": np.linspace(2.3, 0.1, 20000), "confusion_matrix": np.eye(10, dtype=np.int64) * 9 + 1,
      "accuracy": 0.9}, 1, 10),
    ({"training_curve": {"training loss": [2.3, 1.1, 0.6], "test accuracy": [0.4, 0.8, 0.9]},
      "confusion_matrix": {"matrix": [[5, 1], [0, 6]], "labels": ["cat", "<dog>"]}}, 2, 2),
], ids=["arrays", "named"])
def test_html_draws_the_cnn_figures_as_inline_svg(details, panels, classes):
    """A panel per series and a cell per class pair, each a well-formed SVG
    (parsed as XML), a long curve thinned to what the picture can show, a
    label escaped."""
    case = CaseResult("test accuracy", 1.0, 1.0, details=details)
    html = to_html(GradeResult("cnn", "cnn.py", [FunctionResult("train_cnn", [case])]))
    assert set(FIGURES) >= {"error_maps", "training_curve", "confusion_matrix"}
    svgs = [ET.fromstring(svg) for svg in SVG.findall(html)]
    assert len(svgs) == panels + 1 and not PNG.findall(html)
    curves = [line for svg in svgs[:panels] for line in svg.iter("{http://www.w3.org/2000/svg}polyline")
              if line.get("stroke") == "#0969da"]
    assert len(curves) == panels and all(2 < len(c.get("points").split()) <= MAX_CURVE_POINTS for c in curves)
    cells = list(svgs[-1].iter("{http://www.w3.org/2000/svg}rect"))
    assert len(cells) == classes ** 2
    assert "case &#39;test accuracy&#39;: training curve" in html and "confusion matrix" in html
    assert "<dog>" not in html and ("&lt;dog&gt;" in html) == (classes == 2)


@pytest.mark.parametrize("key, data", [
    ("confusion_matrix", np.diag([50, 48, 51])),  # nothing confused: the accuracy says it all
    ("training_curve", [0.7]),  # one point is no curve
    ("error_maps", [{"output": "out", "plane": "out", "shape": (2, 3), "block": 1, "wrong": 6, "size": 6,
                     "map": np.full((2, 3), 10.0)}]),  # wrong everywhere by the same: the message says it
], ids=["diagonal-matrix", "one-point", "uniform-map"])
def test_a_figure_that_would_say_nothing_is_not_drawn(key, data):
    html = to_html(GradeResult("cnn", "cnn.py", [FunctionResult("f", [CaseResult("a", 0.0, 1.0, ["wrong"],
                                                                                  details={key: data})])]))
    assert "<figure>" not in html and "<svg" not in html and not PNG.findall(html)


def test_an_error_map_is_a_png_of_its_decades(tmp_path):
    """Decoded by Pillow (another PNG reader than the writer): each element a
    square of whole pixels, white where right, black where NaN, the larger
    error the darker, and a legend of the decades shown."""
    image = pytest.importorskip("PIL.Image")
    decades = np.array([[0.0, 1e-3, 1e-3], [1.0, 0.0, np.inf]])
    m = {"output": "out", "plane": "out[0, :, :]", "shape": (1, 2, 3), "block": 1, "wrong": 4, "size": 6,
         "map": decades}
    html = to_html(GradeResult("toy", "toy.py", [FunctionResult("f", [CaseResult("a", 0.0, 1.0, ["wrong"],
                                                                                 details={"error_maps": [m]})])]))
    (uri,) = PNG.findall(html)
    picture = np.asarray(image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB"))
    side = picture.shape[1] // 3
    assert picture.shape == (2 * side, 3 * side, 3) and side * 3 >= 192
    colour = {(i, j): tuple(int(c) for c in picture[i * side + side // 2, j * side + side // 2])
              for i in range(2) for j in range(3)}
    assert colour[0, 0] == colour[1, 1] == (255, 255, 255) and colour[1, 2] == (0, 0, 0)
    assert colour[0, 1] == colour[0, 2] and sum(colour[1, 0]) < sum(colour[0, 1]) < 3 * 255
    assert np.all(picture[:side, side:2 * side] == colour[0, 1])  # a whole square, one colour
    for label in ("right", "~1e-3", "~1e0", "NaN or infinite"):
        assert f"</i>{label}</span>" in html


def test_unavailable_names_the_missing_package(monkeypatch):
    assert unavailable("markdown") is None and unavailable("html") is None
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # no longer needed: figures are drawn without it
    assert unavailable("html") is None
    monkeypatch.setitem(sys.modules, "jinja2", None)
    assert "jinja2" in unavailable("html") and "dlgrade[feedback]" in unavailable("html")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_renders_in_headless_chromium(graded, tmp_path):
    """A real browser shows the score and decodes every embedded PNG (a test-only
    script reports the images' widths once the page has loaded)."""
    probe = ("<script>addEventListener('load', () => document.body.dataset.widths = "
             "[...document.images].map(i => i.naturalWidth).join(','))</script></body>")
    page = tmp_path / "report.html"
    page.write_text(to_html(graded["tripled"]).replace("</body>", probe))
    run = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert re.search(r'id="score">\s*0 / 4 points \(0\.0%\)', run.stdout)
    widths = re.search(r'data-widths="([^"]*)"', run.stdout).group(1).split(",")
    assert len(widths) == min(2, FIGURES_PER_FUNCTION) and all(int(w) > 100 for w in widths)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    run = subprocess.run([sys.executable, "-m", "grader", "grade", "solutions/examples/losses/buggy.py",
                          "--format", "junit", "--json", str(out / "results.json"),
                          "--markdown", str(out / "summary.md"), "--html", str(out / "report.html"),
                          "--junit", str(out / "junit.xml")],
                         capture_output=True, text=True, cwd=COURSE.root, env={**os.environ, "DLGRADE_SEED": "formats"})
    return run, out


def test_grade_writes_every_format_alongside(cli_run):
    run, out = cli_run
    assert run.returncode == 0, run.stderr
    assert ET.fromstring(run.stdout.encode()).find("testsuite").get("name") == "losses"
    assert (out / "junit.xml").read_text().strip() == run.stdout.strip()
    data = json.loads((out / "results.json").read_text())
    assert 0 < data["score"] < data["max_score"]
    summary = (out / "summary.md").read_text()
    assert summary.startswith(f"## ❌ losses: {data['score']:g} / {data['max_score']:g}")
    html = (out / "report.html").read_text()
    assert f"{data['score']:g} / {data['max_score']:g} points" in html and PNG.search(html)


def test_render_covers_every_format(graded):
    for fmt in ("text", "json", "result", "markdown", "junit", "html"):
        assert "toy" in render(graded["tripled"], fmt)


@pytest.mark.parametrize("development", [True, False])
def test_every_rendering_marks_a_development_seed_result_and_names_the_confinement(development):
    result = GradeResult("toy", "toy.py", [FunctionResult("scale_forward", [CaseResult("a", 1.0, 1.0)])],
                         development_seed=development, confinement="uid-only")
    shown = {fmt: render(result, fmt) for fmt in ("text", "json", "markdown", "junit")}
    if importlib.util.find_spec("jinja2"):
        shown["html"] = to_html(result)
    for fmt, text in shown.items():
        assert ("public development seed" in text) == development, fmt
    assert shown["text"].splitlines()[1] == "confinement: uid-only"
    extra = json.loads(shown["json"])["extra_data"]
    assert extra["development_seed"] is development and extra["confinement"] == "uid-only"
    properties = {p.get("name"): p.get("value") for p in ET.fromstring(shown["junit"].encode()).iter("property")}
    assert properties["development_seed"] == str(development).lower() and properties["confinement"] == "uid-only"
