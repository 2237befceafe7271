"""A Gradescope autograder for one assignment, and what runs inside it.

Gradescope's format (gradescope-autograders.readthedocs.io/en/latest/specs/):
a zip with ``setup.sh`` (run once, as root, when the image is built) and
``run_autograder`` (run for every submission, as root, in ``/autograder``)
at its root; the zip is unpacked into ``/autograder/source``, the student's
files are in ``/autograder/submission``, and ``/autograder/results/results.json``
is what Gradescope reads.

The zip holds the ``grader`` package (run from ``source/``, so the bundle is
exactly what grades), the assignment's reference solution (catalogued bugs are
recognised and speed is timed against it), ``secret/seed.txt`` and
``requirements.txt`` with the versions the course was tested with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from grader.course import Course, Secret
from grader.render.gradescope import to_gradescope
from grader.render.templates import template_environment
from grader.render.text import to_text
from grader.results import GradeResult, Status, write_text_atomically
from grader.spec import Suite

ROOT_VARIABLE = "DLGRADE_AUTOGRADER_ROOT"  # tests run the autograder in a folder laid out like /autograder
VENV = "/opt/dlgrade/venv"  # readable by every user (see setup.sh)
SEED_FILE = Path("secret") / "seed.txt"


def build_autograder(suite: Suite, course: Course, secret: Secret, out: Path,
                     details_visibility: str = "after_due_date") -> Path:
    """Write ``out/autograder-<assignment>.zip``."""
    import grader

    env = template_environment()
    package = Path(grader.__file__).parent
    solution = course.solution_file(suite)
    assert solution is not None  # export checked that this machine has it
    names = {"suite": suite, "venv": VENV, "seed_file": SEED_FILE.as_posix(),
             "seed_folder": SEED_FILE.parent.as_posix(), "details_visibility": details_visibility}
    files: dict[str, tuple[str | bytes, int]] = {
        "setup.sh": (env.get_template("gradescope_setup.sh.j2").render(**names), 0o755),
        "run_autograder": (env.get_template("gradescope_run_autograder.j2").render(**names), 0o755),
        "requirements.txt": (_requirements_text(suite), 0o644),
        SEED_FILE.as_posix(): (secret.value + "\n", 0o600),
        f"solutions/{suite.folder}/{solution.name}": (solution.read_bytes(), 0o644),
    }
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[f"grader/{path.relative_to(package).as_posix()}"] = (path.read_bytes(), 0o644)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"autograder-{suite.assignment}.zip"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, (content, mode) in files.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same zip for the same inputs
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return target


def _requirements_text(suite: Suite) -> str:
    from importlib import metadata

    from grader.export.common import pinned_requirements

    return (f"# dlgrade {metadata.version('dlgrade')} itself is bundled as source (grader/);\n"
            f"# these are its dependencies at the versions it was exported with.\n"
            + "\n".join(pinned_requirements(suite.limits.packages)) + "\n")


def find_submission(folder: Path, suite: Suite) -> Path:
    """What the student uploaded: ``<module>.py`` (the shallowest), else the one
    notebook, zip or ``.py`` file anywhere in it; else the folder itself, which
    grades as invalid with a message naming the file expected."""
    if (folder / f"{suite.module}.py").is_file():
        return folder
    wanted = sorted(folder.rglob(f"{suite.module}.py"), key=lambda p: len(p.parts))
    if wanted:
        return wanted[0]
    for suffix in (".ipynb", ".zip", ".py"):
        found = [p for p in folder.rglob(f"*{suffix}") if p.is_file() and ".ipynb_checkpoints" not in p.parts]
        if len(found) == 1:
            return found[0]
    return folder


def run(root: Path, suite: Suite, secret: Secret, details_visibility: str) -> GradeResult:
    """Grade ``root/submission`` and write ``root/results/results.json``."""
    from grader.engine import grade_submission

    submission = find_submission(root / "submission", suite)
    # The seed and the results folder are hidden from the student's code,
    # along with the solutions and suites that every grading hides.
    result = grade_submission(suite, submission, secret, Course(root / "source"),
                              hide=(root / "source" / SEED_FILE.parent, root / "results"))
    write_text_atomically(root / "results" / "results.json",
                          json.dumps(to_gradescope(result, details_visibility), indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    """What ``run_autograder`` runs; writes a results.json whatever happens, so
    that Gradescope shows a message rather than a failed autograder."""
    from grader.exits import EXIT_INTERNAL, EXIT_OK
    from grader.export.common import VISIBILITIES
    from grader.suites import get_suite

    parser = argparse.ArgumentParser(prog="python -m grader.export.gradescope")
    parser.add_argument("-a", "--assignment", required=True)
    parser.add_argument("--details-visibility", choices=VISIBILITIES, default="after_due_date")
    args = parser.parse_args(argv)
    root = Path(os.environ.get(ROOT_VARIABLE, "/autograder"))
    suite = get_suite(args.assignment)
    try:
        result = run(root, suite, Secret.resolve(), args.details_visibility)
    except Exception as e:  # noqa: BLE001 - the student must see a result, the instructor the trace (stdout)
        import traceback

        traceback.print_exc()
        result = GradeResult(suite.assignment, str(root / "submission"), [], status=Status.ERROR,
                             message=f"the autograder failed ({type(e).__name__}: {e}); please tell the instructors")
        write_text_atomically(root / "results" / "results.json", json.dumps(to_gradescope(result), indent=2))
        return EXIT_INTERNAL
    print(to_text(result))  # Gradescope shows run_autograder's output to instructors only
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
