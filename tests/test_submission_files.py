"""Only regular files, within caps, that compile: anything else a student hands
in is `invalid` with a message naming the file, never graded as if it were
the module (a symbolic link to the solution would score full marks), never a
hang (a FIFO), never a grader that runs out of memory or stack."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.gradescope import to_gradescope
from grader.render.text import to_text
from grader.submissions import (
    MAX_FOLDER_BYTES,
    MAX_FOLDER_FILES,
    MAX_NOTEBOOK_BYTES,
    MAX_SOURCE_BYTES,
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_MEMBERS,
    SubmissionError,
    materialize,
)
from tests.toy import SOLUTION, SUITE, make_course


@pytest.fixture
def course(tmp_path):
    make_course(tmp_path / "course")
    return Course(tmp_path / "course")


@pytest.fixture
def scratch(tmp_path):
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def folder_with(folder: Path, **files: str) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def refused(path, scratch, message):
    with pytest.raises(SubmissionError, match=message) as caught:
        materialize(path, SUITE, scratch)
    assert not list(scratch.iterdir()), "nothing is written for a refused submission"
    return str(caught.value)


def test_a_symlink_to_the_solution_is_not_graded_as_the_submission(tmp_path, course):
    """Inside a folder, as the module or as a helper, or as the submission itself."""
    solution = course.solution_file(SUITE)
    as_module = folder_with(tmp_path / "alice")
    (as_module / "toy.py").symlink_to(solution)
    as_helper = folder_with(tmp_path / "bob", **{"toy.py": "from helper import *\n"})
    (as_helper / "helper.py").symlink_to(solution)
    as_file = tmp_path / "carol.py"
    as_file.symlink_to(solution)
    as_folder = tmp_path / "dave"
    as_folder.symlink_to(solution.parent, target_is_directory=True)
    for path, shown in ((as_module, "alice/toy.py"), (as_helper, "bob/helper.py"), (as_file, "carol.py"),
                        (as_folder, "dave")):
        result = grade_submission(SUITE, path, Secret("files"), course)
        assert result.status == "invalid" and result.score == 0, to_text(result)
        assert result.message == f"{shown} is a symbolic link: only regular files are taken"


def test_a_fifo_in_the_folder_is_refused_without_blocking(tmp_path, scratch):
    folder = folder_with(tmp_path / "alice", **{"toy.py": SOLUTION})
    os.mkfifo(folder / "helper.py")  # opening it for reading would wait for a writer forever
    refused(folder, scratch, "alice/helper.py is a FIFO: only regular files are taken")
    os.unlink(folder / "helper.py")
    os.mkfifo(tmp_path / "toy.py")
    refused(tmp_path / "toy.py", scratch, "toy.py is a FIFO")


def test_a_device_is_refused(tmp_path, scratch):
    refused(Path("/dev/zero"), scratch, "zero is a character device: only regular files are taken")
    folder = folder_with(tmp_path / "alice", **{"toy.py": SOLUTION})
    (folder / "zero.py").symlink_to("/dev/zero")  # reading it would never end
    refused(folder, scratch, "alice/zero.py is a symbolic link")


def test_a_zip_holding_a_symlink_entry_is_refused(tmp_path, scratch):
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as z:
        link = zipfile.ZipInfo("work/toy.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "../../course/solutions/00_toy/toy.py")  # a symlink's content is its target
    refused(archive, scratch, "alice.zip: work/toy.py is a symbolic link")
    with zipfile.ZipFile(archive, "w") as z:  # anywhere in the zip, not only the module
        z.writestr("toy.py", SOLUTION)
        fifo = zipfile.ZipInfo("pipe")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        z.writestr(fifo, "")
    refused(archive, scratch, "alice.zip: pipe is a FIFO")


def test_zip_caps_are_checked_before_anything_is_extracted(tmp_path, scratch):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        z.writestr("toy.py", SOLUTION)
        for i in range(MAX_ZIP_MEMBERS):
            z.writestr(f"junk/{i}.txt", "")
    refused(many, scratch, f"holds {MAX_ZIP_MEMBERS + 1} entries: at most {MAX_ZIP_MEMBERS}")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("toy.py", SOLUTION)
        z.writestr("zeros.bin", bytes(MAX_UNZIPPED_BYTES))  # deflates to about 20 KiB
    assert bomb.stat().st_size < 1 << 20
    refused(bomb, scratch, "bomb.zip unpacks to more than 20 MiB")
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("toy.py", SOLUTION + "#" * MAX_SOURCE_BYTES)
    refused(big, scratch, "big.zip: toy.py is too large")


def test_folder_caps(tmp_path, scratch):
    folder = folder_with(tmp_path / "alice", **{"toy.py": SOLUTION},
                         **{f"h{i}.py": "" for i in range(MAX_FOLDER_FILES)})
    refused(folder, scratch, f"holds {MAX_FOLDER_FILES + 1} .py files: at most {MAX_FOLDER_FILES} are taken")
    for i in range(MAX_FOLDER_FILES):
        (folder / f"h{i}.py").unlink()
    for i in range(MAX_FOLDER_BYTES // MAX_SOURCE_BYTES + 1):
        (folder / f"big{i}.py").write_text("#" * (MAX_SOURCE_BYTES - 1))
    refused(folder, scratch, "its .py files hold more than 5 MiB")


def test_source_and_notebook_sizes_are_capped(tmp_path, scratch):
    source = tmp_path / "toy.py"
    source.write_text(SOLUTION + "#" * MAX_SOURCE_BYTES)
    refused(source, scratch, "toy.py is too large")
    notebook = tmp_path / "toy.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {"padding": "x" * MAX_NOTEBOOK_BYTES}}))
    refused(notebook, scratch, "toy.ipynb is too large")
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "#" * (MAX_SOURCE_BYTES + 1)}]}))
    refused(notebook, scratch, "its code cells hold more than 1 MiB")


def test_a_deeply_nested_notebook_is_invalid(tmp_path, scratch):
    notebook = tmp_path / "toy.ipynb"
    notebook.write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused(notebook, scratch, "toy.ipynb is not a valid notebook \\(its JSON is nested too deeply\\)")


@pytest.mark.parametrize("expression", ["-" * 1_000_000 + "1", "1+" * 500_000 + "1", "x" + ".a" * 500_000,
                                        "f" + "()" * 500_000], ids=["unary", "binary", "attribute", "call"])
def test_a_deep_expression_is_invalid_not_a_crash(tmp_path, scratch, expression):
    """As deep as the size cap allows (a million levels of "-x"; two bytes a
    level halve the rest), far beyond the compiler's recursion limit."""
    source = tmp_path / "toy.py"
    source.write_text(f"{SOLUTION}\nX = {expression}\n")
    refused(source, scratch, "toy.py is nested too deeply to compile")
    source.write_text(f"{SOLUTION}\nX = {'1+' * 1_000_000}1\n")
    refused(source, scratch, "toy.py is too large")


def test_a_deep_cell_of_a_notebook_is_skipped_like_one_that_does_not_parse(tmp_path, scratch):
    notebook = tmp_path / "toy.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "X = " + "-" * 1_000_000 + "1"},
                                              {"cell_type": "code", "source": SOLUTION}]}))
    module = materialize(notebook, SUITE, scratch)
    assert "# cell 1 skipped: nested too deeply" in module.read_text() and "def scale_forward" in module.read_text()


@pytest.mark.parametrize("content, message", [
    (b"def scale_forward(x)\n    return 2 * x, None\n", "toy.py has a syntax error at line 1: expected ':'"),
    (b"def scale_forward(x):\n        out = 2 * x\n    return out, None\n",
     "toy.py has a syntax error at line 3: unindent does not match any outer indentation level"),
    (b"return 1\n", "toy.py has a syntax error at line 1: 'return' outside function"),  # only the compiler sees it
    (bytes(range(256)) * 4, "toy.py "),  # binary junk: null bytes or undecodable text, whichever Python meets first
], ids=["syntax", "indentation", "compile-time", "binary"])
def test_a_module_that_does_not_compile_is_invalid_with_file_and_line(tmp_path, course, content, message):
    source = tmp_path / "toy.py"
    source.write_bytes(content)
    result = grade_submission(SUITE, source, Secret("files"), course)
    assert result.status == "invalid" and result.score == 0
    assert result.message.startswith(message), result.message
    assert "toy.py" in to_text(result) and result.message in to_gradescope(result)["extra_data"]["message"]


def test_the_sandbox_gets_the_checked_copies_only(tmp_path, scratch):
    """The module and its helpers are copied into the scratch folder when
    checked; the public tests beside them, never imported, are not taken."""
    folder = folder_with(tmp_path / "alice", **{"toy.py": SOLUTION, "helper.py": "Y = 1\n",
                                                "test_public.py": "import pytest\n"})
    module = materialize(folder, SUITE, scratch)
    assert module == scratch / "toy.py" and sorted(p.name for p in scratch.iterdir()) == ["helper.py", "toy.py"]
    (folder / "helper.py").write_text("def broken(:\n")  # changed after the check: not what is graded
    assert (scratch / "helper.py").read_text() == "Y = 1\n"
