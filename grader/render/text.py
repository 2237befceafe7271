"""The text report (``dlgrade grade``'s default, ``report.txt`` in a batch)
and the pieces of it that the other renderings share: a function's summary,
its failed cases grouped by feedback, its feedback, the warnings of a result
that is no grade."""

from __future__ import annotations

from grader.results import CaseResult, FunctionResult, GradeResult, Status

DEVELOPMENT_SEED_WARNING = ("graded with the public development seed, not a secret one: this is no grade "
                            "(give the secret with DLGRADE_SEED_FILE, DLGRADE_SEED or --seed)")


def warnings(result: GradeResult) -> list[str]:
    """What every rendering shows above the notices: the marks of a result
    that is no grade."""
    return [DEVELOPMENT_SEED_WARNING] if result.development_seed else []


def points(scored: FunctionResult | GradeResult) -> str:
    return f"{round(scored.score, 2):g} / {scored.max_score:g}"


def summary(f: FunctionResult) -> str:
    return f"{sum(c.passed for c in f.cases)} of {len(f.cases)} cases passed"


def failure_groups(f: FunctionResult) -> list[tuple[str, float, list[str], list[CaseResult]]]:
    """Failed cases grouped by identical feedback (one missing function reads
    as one line, not one per case): (which cases, points lost, messages, cases)."""
    groups: dict[tuple, list[CaseResult]] = {}
    for c in f.cases:
        if not c.passed:
            groups.setdefault(tuple(c.messages), []).append(c)
    found = []
    for messages, cases in groups.items():
        if len(cases) == len(f.cases) > 1:
            which = f"all {len(cases)} cases"
        else:
            which = ("case " if len(cases) == 1 else "cases ") + ", ".join(f"'{c.name}'" for c in cases)
        found.append((which, sum(c.max_score - c.score for c in cases), list(messages), cases))
    return found


def feedback(f: FunctionResult) -> str:
    """A function's summary, its failed cases' messages, hints and notes."""
    lines = [summary(f)]
    for which, lost, messages, _ in failure_groups(f):
        lines.append(f"- {which} (-{lost:g}):")
        lines += [f"    {line}" for m in messages for line in m.splitlines()]
    lines += [f"hint: {h}" for h in f.hints]
    lines += f.notes
    return "\n".join(lines)


def to_text(result: GradeResult) -> str:
    width = max([len(f.name) for f in result.functions] + [8])
    lines = [f"{result.assignment} — {result.submission}",
             *([f"confinement: {result.confinement}"] if result.confinement else []),
             *[f"WARNING: {w}" for w in warnings(result)], *[f"note: {n}" for n in result.notices]]
    if result.status is not Status.GRADED:
        lines.append(f"{result.status}: {result.message}")
    lines.append("")
    for f in result.functions:
        mark = "ok  " if f.score >= f.max_score else "FAIL"
        lines.append(f"  {mark} {f.name:<{width}} {f.score:6.2f} / {f.max_score:g}")
    lines.append(f"  {'':4} {'total':<{width}} {result.score:6.2f} / {result.max_score:g}  ({result.percent:.1f}%)")
    details = [(f.name, feedback(f)) for f in result.functions if f.score < f.max_score or f.notes]
    if details:
        lines.append("")
        for name, text in details:
            lines.append(f"{name}: {text}")
    return "\n".join(lines)
