"""Folders, files, zips and notebooks become one module; malformed ones get a
clear message, never a traceback."""

from __future__ import annotations

import json
import zipfile

import pytest

from grader.submissions import SubmissionError, materialize, notebook_source
from tests.toy import SUITE

GOOD = "def scale_forward(x):\n    return 2 * x, None\n"


def notebook(*cells):
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": kind, "source": src, "metadata": {}, **({"outputs": [],
                                  "execution_count": None} if kind == "code" else {})} for kind, src in cells]})


def test_zip_member_is_found_at_any_depth_and_written_under_our_name(tmp_path):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../evil/toy.py", "x = 1\n")
        z.writestr("toy.py", GOOD)
    path = materialize(archive, SUITE, tmp_path)
    assert path == tmp_path / "toy.py" and path.read_text() == GOOD
    assert not (tmp_path.parent / "evil").exists()


def test_notebook_keeps_definitions_and_drops_code_that_runs(tmp_path):
    source = notebook(
        ("markdown", "# my work"),
        ("code", ["%matplotlib inline\n", "import numpy as np\n", "EPS = 1e-8\n"]),
        ("code", "def helper(x):\n    return x\n\n@staticmethod\ndef scale_forward(x):\n    return 2 * x, None\n"),
        ("code", "for _ in range(10**9):\n    pass\nprint('training')"),
        ("code", "def broken(:\n"),
    )
    text = notebook_source_from(tmp_path, source)
    assert "import numpy as np" in text and "EPS = 1e-8" in text and "@staticmethod" in text
    assert "range(10**9)" not in text and "print" not in text and "%matplotlib" not in text
    assert "cell 5 skipped: syntax error" in text
    compile(text, "toy.py", "exec")


def notebook_source_from(tmp_path, text):
    path = tmp_path / "work.ipynb"
    path.write_text(text)
    return notebook_source(path)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.py", b"", "is empty"),
        ("bad.zip", b"PK\x03\x04 not really", "not a readable zip archive"),
        ("other.zip", None, "holds no toy.py"),
        ("broken.ipynb", b"{\"cells\": [", "not a valid notebook"),
        ("junk.bin", b"\x00\x01", "expected a folder, a .py file, a .zip or a .ipynb"),
    ],
)
def test_malformed_submissions_get_clear_messages(tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("readme.txt", "hi")
    else:
        path.write_bytes(content)
    with pytest.raises(SubmissionError, match=message):
        materialize(path, SUITE, tmp_path)
