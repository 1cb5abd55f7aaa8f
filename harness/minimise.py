"""Minimising a disagreement past Hypothesis' shrinking: delta debugging
(ddmin) against the target.  The parts of a case -- files, argv and envp
entries, binfmt_misc writes and reads -- are dropped in ever smaller
groups as long as the target still disagrees with the model in the same
way (same differing fields, same outcome kinds).  Used by `harness repro`,
`harness bug-report` and the suites' failure path (suites/conformance.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import model
from contract.case import Case, CaseError, case_from_json, case_to_json, diff_fields, diff_outcomes, outcome_kind

Part = tuple[str, int]


def disagreement(case: Case, target, profile) -> str | None:
    """How `target` disagrees with the model on `case` (differing fields and
    outcome kinds), or None when it agrees, skips or the case is invalid."""
    try:
        case = case_from_json(case_to_json(case))
        if target.skip_reason(case):
            return None
        expected = model.predict(case, profile)
        if expected["outcome"] == "unmodelled":
            return None
        observed = target.run(case)
    except (CaseError, model.InvalidCase):
        return None
    if observed.get("outcome") in ("skip", "target-error"):
        return None
    diff = diff_outcomes(expected, observed, target.observable)
    if not diff:
        return None
    return f"{', '.join(diff_fields(diff))} | model {outcome_kind(expected)} -> target {outcome_kind(observed)}"


def parts(case: Case) -> list[Part]:
    e = case.exec
    return ([("file", i) for i in range(len(case.files))] + [("arg", i) for i in range(len(e.argv or ()))]
            + [("env", i) for i in range(len(e.envp or ()))] + [("misc", i) for i in range(len(case.binfmt_misc))]
            + [("read", i) for i in range(len(case.binfmt_misc_read))])


def keep(case: Case, kept: list[Part]) -> Case:
    """`case` with only the `kept` parts."""
    k = set(kept)
    e = case.exec
    return replace(case, files=tuple(f for i, f in enumerate(case.files) if ("file", i) in k),
                   binfmt_misc=tuple(r for i, r in enumerate(case.binfmt_misc) if ("misc", i) in k),
                   binfmt_misc_read=tuple(r for i, r in enumerate(case.binfmt_misc_read) if ("read", i) in k),
                   exec=replace(e, argv=None if e.argv is None else tuple(a for i, a in enumerate(e.argv)
                                                                         if ("arg", i) in k),
                                envp=None if e.envp is None else tuple(a for i, a in enumerate(e.envp)
                                                                      if ("env", i) in k)))


def ddmin(items: list, test: Callable[[list], bool], budget: int = 200) -> list:
    """Zeller's ddmin (complements only): a 1-minimal sublist for which
    `test` holds, within `budget` tests."""
    n, tries = 2, 0
    while len(items) >= 2 and tries < budget:
        chunk = -(-len(items) // n)
        for i in range(0, len(items), chunk):
            cand = items[:i] + items[i + chunk:]
            tries += 1
            if test(cand):
                items, n = cand, max(n - 1, 2)
                break
            if tries >= budget:
                return items
        else:
            if n >= len(items):
                break
            n = min(len(items), 2 * n)
    if len(items) == 1 and tries < budget and test([]):
        return []
    return items


def minimise(case: Case, target, profile, budget: int = 200) -> Case:
    """The smallest case (by ddmin over its parts) on which `target`
    disagrees with the model as it does on `case`; `case` itself when it agrees."""
    want = disagreement(case, target, profile)
    if want is None:
        return case
    kept = ddmin(parts(case), lambda ps: disagreement(keep(case, ps), target, profile) == want, budget)
    return keep(case, kept)
