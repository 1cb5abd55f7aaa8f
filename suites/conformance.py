"""The one property every suite checks: target.run(case) == model.predict(case).

On a mismatch the case is saved as JSON under failures/ (overwritten per
test, so after Hypothesis has shrunk it the file holds the minimal case) and
the assertion message carries the case, a field-by-field diff and the one
command that replays it.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import assume

import model
from contract.case import Case, case_from_json, case_to_json, diff_outcomes, dumps_outcome
from harness.minimise import minimise
from harness.targets import Target
from harness.targets.base import case_unsupported

FAILURES = Path(os.environ.get("EXECSPEC_FAILURES", Path(__file__).resolve().parent.parent / "failures"))


class Checker:
    def __init__(self, target: Target, profile: model.Profile, target_name: str, image: str | None = None):
        self.target = target
        self.profile = profile
        self.target_name = target_name
        self.image = image  # qemu: the kernel image the replay must boot
        self.count = 0
        self.saved: Path | None = None  # the case file of the last mismatch (conftest names it in the report)

    def __call__(self, case: Case, *, pinned: bool = False) -> dict:
        # What runs is what a saved file replays: generated cases go through
        # the case format's own validation.
        case = case_from_json(case_to_json(case))
        reason = self.target.skip_reason(case) or case_unsupported(self.target, case)
        if reason:
            if pinned:
                pytest.skip(reason)
            assume(False)
        try:
            expected = model.predict(case, self.profile)
        except model.InvalidCase as e:  # the target must refuse it too (two case-errors compare equal)
            expected = {"outcome": "case-error", "field": "?", "error": str(e)}
        if expected["outcome"] == "unmodelled":
            if pinned:
                pytest.skip(expected["reason"])
            assume(False)
        try:
            observed = self.target.run(case)
        except Exception as e:  # a guest that hangs or dies: the case is still the reproducer
            raise AssertionError(self.report(case, expected, {"outcome": "target-error"},
                                             [f"  the target failed: {e}"])) from None
        self.count += 1
        if observed.get("outcome") == "skip":
            if pinned:
                pytest.skip(observed["reason"])
            assume(False)
        diff = diff_outcomes(expected, observed, self.target.observable)
        if diff:
            raise AssertionError(self.report(case, expected, observed, diff))
        return observed

    def report(self, case: Case, expected: dict, observed: dict, diff: list[str]) -> str:
        test = os.environ.get("PYTEST_CURRENT_TEST", "case").split(" ")[0]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", test.split("::")[-1])[:80]
        FAILURES.mkdir(parents=True, exist_ok=True)
        path = FAILURES / f"{slug}.json"
        if _final_example():  # Hypothesis has shrunk it: minimise further against the target
            small = minimise(case, self.target, self.profile, budget=100)
            if small != case:
                case, expected = small, model.predict(small, self.profile)
                observed = self.target.run(small)
                diff = diff_outcomes(expected, observed, self.target.observable) or diff
        text = json.dumps(case_to_json(case), ensure_ascii=False, indent=1)
        path.write_text(text + "\n")
        self.saved = path
        image = f" --kernel {self.image}" if self.image else ""
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        return "\n".join([
            f"target {self.target.describe()} disagrees with model profile {self.profile.name}",
            *diff,
            f"model:  {dumps_outcome(expected)}",
            f"target: {dumps_outcome(observed)}",
            "case:", text,
            f"replay: python -m harness run {shown} --target {self.target_name}{image}",
            f"model:  python -m harness run {shown} --target model --kernel {self.profile.name}",
            f"report: python -m harness bug-report {shown} --target {self.target_name}{image}",
        ])


def _final_example() -> bool:
    """The last run of a failing example (Hypothesis' shrunk one), or a pinned
    case: minimising every example Hypothesis tries while shrinking would
    multiply the target runs."""
    try:
        from hypothesis.control import current_build_context
        return current_build_context().is_final
    except Exception:  # not inside a Hypothesis test: a pinned case
        return True
