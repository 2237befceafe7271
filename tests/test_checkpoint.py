"""The checkpoint assignment: resuming runs in a fresh process that sees only the
files the first one wrote, which the grader opens only with ``weights_only``;
a program in parts crosses the boundary one part at a time; and the early
stopping curves tell every catalogued mistake from the rule, whatever the seed.
(The solution, the stub, the examples and every injected bug are graded by
test_curriculum.py; the notebook by test_notebooks.py.)"""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np
import pytest

from grader.child.protocol import Request, encode_request
from grader.course import Course, Secret
from grader.engine import grade_submission
from grader.render.text import feedback
from grader.suites import SUITES
from grader.suites.checkpoint import EARLY_STOPPING, FIT, RESUME, RESUME_PROGRAM, stopping

COURSE = Course.locate()
RESUME_ONLY = dataclasses.replace(SUITES["checkpoint"], functions=(RESUME,))


def _resume_feedback(tmp_path, code: str) -> str:
    path = tmp_path / "checkpoint.py"
    path.write_text(textwrap.dedent(code))
    (result,) = grade_submission(RESUME_ONLY, path, Secret("checkpoint-tests"), COURSE).functions
    assert result.score == 0
    return feedback(result)


def test_the_resuming_process_never_saw_the_one_that_saved(tmp_path):
    """State kept in memory by save_checkpoint (a module global) is gone when
    load_checkpoint runs: a fresh child, not the saving one, resumes."""
    said = _resume_feedback(tmp_path, '''
        import copy

        import torch

        SAVED = []


        def save_checkpoint(path, model, optimizer, scheduler, epoch):
            SAVED.append(copy.deepcopy((model.state_dict(), optimizer.state_dict(), scheduler.state_dict(), epoch)))
            torch.save({"epoch": epoch}, path)


        def load_checkpoint(path, model, optimizer, scheduler):
            model_state, optimizer_state, scheduler_state, epoch = SAVED[-1]
            model.load_state_dict(model_state)
            optimizer.load_state_dict(optimizer_state)
            scheduler.load_state_dict(scheduler_state)
            return epoch
    ''')
    assert "load_checkpoint raised IndexError: list index out of range" in said


def test_a_checkpoint_that_needs_unpickling_fails_saying_so(tmp_path):
    said = _resume_feedback(tmp_path, '''
        import torch


        def save_checkpoint(path, model, optimizer, scheduler, epoch):
            torch.save({"model": model, "optimizer": optimizer, "scheduler": scheduler, "epoch": epoch}, path)


        def load_checkpoint(path, model, optimizer, scheduler):
            return torch.load(path, weights_only=False)["epoch"]
    ''')
    assert "checkpoint/last.pt cannot be loaded with torch.load(path, weights_only=True)" in said
    assert "load_checkpoint raised" not in said  # the saving child failed: nothing was resumed from the file


def test_a_program_in_parts_crosses_the_boundary_one_part_at_a_time():
    first, second = RESUME_PROGRAM.parts
    assert first.then is None and second.then is None and second == RESUME_PROGRAM.then
    assert RESUME_PROGRAM.functions == ("save_checkpoint", "load_checkpoint")
    assert (first.graded_function, second.graded_function) == ("save_checkpoint", "load_checkpoint")
    with pytest.raises(ValueError, match="one part at a time"):
        encode_request(Request(RESUME_PROGRAM))


def _answers(inputs, **mistake) -> tuple[int, int]:
    return stopping(inputs["val_losses"], inputs["patience"], inputs["min_delta"], **mistake)


MISTAKES = {
    "patience-from-first-epoch": {"from_start": True},
    "min-delta-ignored": {"improves": lambda loss, best, delta: loss < best},
    "min-delta-wrong-sign": {"improves": lambda loss, best, delta: loss < best + delta},
}


def test_every_draw_of_the_curves_tells_each_mistake_from_the_rule_and_from_the_others():
    """On every draw, each mistake answers differently from the rule on some
    case, the two min_delta mistakes differ from each other on the case made
    for each (so that its hint names one of them only), and fit's plateau
    keeps a best epoch whose weights are not the last ones."""
    assert {b.name for b in EARLY_STOPPING.bugs} == set(MISTAKES)
    plateau = "stops on a plateau: the best epoch is well before the last"
    for seed in range(30):
        cases = {c.name: c.inputs for c in EARLY_STOPPING.cases(Secret(str(seed)).rng("curves"))}
        for name, mistake in MISTAKES.items():
            assert any(_answers(c, **mistake) != _answers(c) for c in cases.values()), (seed, name)
        for case in ("improvements smaller than min_delta", "losses worse than the best by less than min_delta"):
            ignored, wrong_sign = (_answers(cases[case], **MISTAKES[m]) for m in ("min-delta-ignored",
                                                                                    "min-delta-wrong-sign"))
            assert ignored != wrong_sign, (seed, case)
        assert _answers(cases["improving to the end: never stops"])[0] == -1
        fit_case = next(c.inputs for c in FIT.cases(Secret(str(seed)).rng("fit")) if c.name == plateau)
        stop, best = _answers(fit_case)
        assert stop > best >= 0 and not np.array_equal(fit_case["weights"][stop], fit_case["weights"][best])
