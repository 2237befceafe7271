"""The export builders (``dlgrade export {gradescope,otter,github} -a NAME -o
OUT``, ``grader/commands/export.py``): an assignment's grading packaged for
another platform.

* ``gradescope``: ``OUT/autograder-NAME.zip``, an autograder in Gradescope's
  format (``setup.sh``, ``run_autograder``, the grader, the reference solution
  and the secret seed), see ``grader.export.gradescope``;
* ``otter``: ``OUT/NAME.ipynb``, an otter-grader master notebook whose tests
  grade through dlgrade, on a seed of its own (never the course's secret: otter
  runs them in the student's kernel), see ``grader.export.otter``;
* ``github``: ``OUT/.github/workflows/dlgrade-NAME.yml``, a GitHub Actions
  workflow (GitHub Classroom or any repository) that grades the student's
  module on every push and fails below a threshold.

Every route grades with the same suite, so a submission gets the same feedback
whichever platform runs it.
"""
