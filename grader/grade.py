"""``dlgrade grade``: run a submission through an assignment's hidden suite.

The trusted side makes every input and reference and does every comparison;
the student's functions run in a ``Sandbox`` that only ever sees inputs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from grader.compare import as_expected, compare, matches
from grader.course import Course, Secret, SubmissionError, infer_assignment, module_file
from grader.mutants import mutant_outputs
from grader.report import CaseResult, FunctionResult, GradeResult, write_json_atomically
from grader.sandbox import Outcome, Sandbox
from grader.spec import Bug, Case, GradedFunction, Suite

EXIT_OK, EXIT_BELOW_THRESHOLD, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def grade_submission(suite: Suite, path: Path, secret: Secret, course: Course | None = None) -> GradeResult:
    course = course or Course.locate()
    started = time.perf_counter()
    notices = []
    if secret.is_development:
        notices.append("graded with the development seed: set DLGRADE_SEED for real grading")
    solution = course.solution_file(suite)
    try:
        student_file = module_file(path, suite)
    except SubmissionError as e:
        functions = _grade_all(suite, secret, solution, lambda program, inputs: Outcome(error="import", message=str(e)))
    else:
        with Sandbox(student_file, suite.module) as sandbox:
            functions = _grade_all(
                suite, secret, solution, lambda program, inputs: sandbox.run(program, inputs, suite.case_time_limit)
            )
    return GradeResult(suite.assignment, str(path), functions, notices, time.perf_counter() - started)


def _grade_all(suite, secret, solution, run) -> list[FunctionResult]:
    results = []
    for fn in suite.functions:
        program = fn.program.to_json()
        cases = fn.cases(secret.rng(suite.assignment, fn.name))
        results.append(FunctionResult(fn.name, [_grade_case(fn, program, case, run(program, dict(case.inputs)), solution)
                                                for case in cases]))
    return results


def _grade_case(fn: GradedFunction, program: dict, case: Case, outcome: Outcome, solution: Path | None) -> CaseResult:
    if not outcome.ok:
        return CaseResult(case.name, 0.0, case.points, [outcome.message])
    expected = {name: as_expected(v) for name, v in fn.reference(case.inputs).items()}
    share = case.points / len(expected)
    score, messages, failed = 0.0, [], []
    for name, exp in expected.items():
        actual = outcome.outputs.get(name)
        if actual is None:
            messages.append(f"{name} was not returned")
            continue
        verdict = compare(name, actual, exp, fn.tolerance)
        if verdict.ok:
            score += share
        else:
            messages.append(verdict.message)
            failed.append(name)
    bugs = _recognised_bugs(fn, program, case.inputs, {n: outcome.outputs[n] for n in failed}, solution)
    return CaseResult(case.name, score, case.points, messages, [f"{b.hint} [{b.name}]" for b in bugs],
                      [b.name for b in bugs])


def _recognised_bugs(fn: GradedFunction, program: dict, inputs: Mapping, failed: dict[str, np.ndarray],
                     solution: Path | None) -> list[Bug]:
    """The catalogued bugs whose output one of the student's failed outputs matches."""
    if not failed or solution is None:
        return []
    found = []
    for bug in fn.bugs:
        buggy = mutant_outputs(solution, bug, program, dict(inputs))
        if buggy and any(name in buggy and matches(actual, buggy[name], fn.tolerance) for name, actual in failed.items()):
            found.append(bug)
    return found


def main(args) -> int:
    from grader.suites import SUITES, UnknownAssignment, get_suite

    path = Path(args.path)
    try:
        suite = get_suite(args.assignment) if args.assignment else infer_assignment(path, SUITES)
    except UnknownAssignment as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    if suite is None:
        print(f"dlgrade grade: cannot tell the assignment from '{path}'; name it with -a "
              f"({', '.join(SUITES)})", file=sys.stderr)
        return EXIT_USAGE
    try:
        secret = Secret.resolve(args.seed)
    except SubmissionError as e:
        print(f"dlgrade grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    result = grade_submission(suite, path, secret)
    if args.json:
        write_json_atomically(Path(args.json), result.to_gradescope())
    if args.format == "json":
        print(json.dumps(result.to_gradescope(), indent=2))
    else:
        print(result.to_text())
    if args.fail_under is not None and result.percent < args.fail_under:
        print(f"score {result.percent:.1f}% is below --fail-under {args.fail_under:g}%", file=sys.stderr)
        return EXIT_BELOW_THRESHOLD
    return EXIT_OK
