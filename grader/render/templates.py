"""The one jinja2 set-up that every rendering from ``templates/`` uses: the
HTML report, the exports and ``dlgrade generate``."""

from __future__ import annotations

import functools
from pathlib import Path


def template_folder() -> Path:
    """The templates shipped in the package (an installed wheel has them in
    ``grader/templates/``), else those of the source checkout it runs from
    (an editable install, ``python -m grader`` in the checkout). Never the
    current folder's."""
    package = Path(__file__).resolve().parent.parent
    return package / "templates" if (package / "templates").is_dir() else package.parent / "templates"


# One environment per folder and process: jinja2 compiles a template once per environment (14 ms for the HTML
# report, which then renders in 0.6 ms), and a batch renders a page per student. Templates edited meanwhile are
# still seen: the loader checks their modification times.
@functools.cache
def template_environment(folder: Path | None = None):
    """Templates of ``folder`` (default: ``template_folder()``): a name left
    undefined is an error, not an empty string; the trailing newline of a
    file stays; ``*.html.j2`` are HTML-escaped."""
    import jinja2  # optional (the feedback, export and authoring extras): graders need numpy and torch alone

    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder or template_folder()), keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined,
                              autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                                                  default_for_string=False))
