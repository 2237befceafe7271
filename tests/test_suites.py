"""The suites' declarations hold: every graded function declares the points
its cases carry, and the cases of any seed add up to them (listing a suite
runs none of its generators)."""

from __future__ import annotations

import importlib

import pytest

from grader.course import Secret
from grader.spec import BugCatalogue, DeclarationError, Suite
from grader.suites import SUITES

SEEDS = ("0", "1", "regrade", "another term")


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_generated_points_add_up_to_the_declared_points(suite):
    for fn in suite.functions:
        for seed in SEEDS:
            cases = fn.cases(Secret(seed).rng(suite.assignment, fn.name))
            assert sum(c.points for c in cases) == fn.points, (fn.name, seed)
        assert fn.max_points == fn.points + (fn.speed.points if fn.speed else 0), fn.name


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_every_hint_in_a_suites_file_is_a_catalogued_bugs(suite):
    module = importlib.import_module(f"grader.suites.{suite.assignment}")
    shown = {b.hint for fn in suite.functions for b in fn.bugs}
    assert set(module.bug.hints.values()) == shown, f"{module.bug.path} has hints no bug of the suite shows"


def test_a_bug_without_a_hint_or_an_unreadable_hints_file_names_the_file(tmp_path):
    (tmp_path / "hints").mkdir()
    (tmp_path / "hints" / "toy.toml").write_text('known = """\nA hint \\\nover two lines."""\n')
    catalogue = BugCatalogue(str(tmp_path / "toy.py"))
    assert catalogue("known", dict).hint == "A hint over two lines."
    assert catalogue("renamed", dict, hint_key="known").name == "renamed"
    with pytest.raises(DeclarationError, match=r"toy\.toml: no hint for the catalogued bug 'unknown'"):
        catalogue("unknown", dict)
    (tmp_path / "hints" / "toy.toml").write_text("known = \n")
    with pytest.raises(DeclarationError, match=r"toy\.toml: the suite's hints cannot be read"):
        BugCatalogue(str(tmp_path / "toy.py"))
    with pytest.raises(DeclarationError, match=r"other\.toml: the suite's hints cannot be read"):
        BugCatalogue(str(tmp_path / "other.py"))


def test_a_suites_folder_names_its_assignment_and_module():
    suite = Suite(folder="12_attention", title="Attention", functions=())
    assert (suite.assignment, suite.module) == ("attention", "attention")
    with pytest.raises(DeclarationError, match="NN_<assignment>.*'attention'"):
        Suite(folder="attention", title="Attention", functions=())
