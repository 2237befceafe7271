"""The student helper, ``dlgrade_student.py``: the one module of this package
that students receive. ``dlgrade generate`` copies it verbatim into every
assignment folder, where ``test_public.py`` and the notebook import it.

It sits in a folder of its own so that ``dlgrade check`` can put this folder on
the path of tests that run outside an assignment folder (``solutions/``, a copy
of a file checked from elsewhere) without making the grader's own modules
importable under bare names such as ``report`` or ``timing``.
"""

from pathlib import Path

HELPER = "dlgrade_student"  # its module name in an assignment folder
FOLDER = Path(__file__).resolve().parent
SOURCE = FOLDER / f"{HELPER}.py"
