"""Builds the pinned regression corpus: for every model feature (a kernel
commit, model/profiles.py), the smallest cases whose predicted outcome
changes with that commit alone, found among the pinned cases
(generators/pinned/, which the suites run too) and a derandomized sample of
the generators.

    python corpus/build.py        # rewrites corpus/*.json

Each file is one case in the case format, named after the commit and the
source it came from, tagged "linux-git:<commit>".  The model decides which
cases pin a feature; whether a kernel has it is then a question for the
kernel (suites/test_corpus.py, python -m harness features).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

import harness  # noqa: E402,F401  (registers the probe images with the model)
import model  # noqa: E402
from contract.case import Case, case_to_json, outcome_to_json  # noqa: E402
from model.profiles import FEATURES, Profile  # noqa: E402

# Bases the features are toggled on: a feature must change the outcome
# against at least one of them (older behaviour sometimes hides a newer one).
BASES = ["newest", "6.12.107", "6.1", "5.10", "5.4"]  # kernels as shipped (6.12.0 lacked a revert)
PER_FEATURE = 2
MAX_BYTES = 300_000  # argument-space cases are large; keep the corpus readable


def pinned_cases() -> list[tuple[str, Case]]:
    from generators.pinned import all_pinned
    return [(label, p.case) for label, p in all_pinned()]


def generated_cases(n: int) -> list[tuple[str, Case]]:
    from generators import registry
    # the corpus's own selection of the registry (the writers one is the
    # text-busy pins' business; selftest shapes are pinned cases already)
    names = ("shebang", "shebang-chain", "argv-envp", "argv-envp-limits", "paths", "execveat", "elf-interp",
             "elf-mutated", "binfmt_misc-flags", "binfmt_misc-registration")
    reg = registry()
    strategies = {n: reg[n] for n in names}
    out: list[tuple[str, Case]] = []
    for label, strat in strategies.items():
        _collector(label, strat, n, out)()
    return out


def _collector(label: str, strat, n: int, out: list[tuple[str, Case]]):
    """A derandomized @given run appending (label, case): a function of its
    own so each one binds its label (@given refuses default arguments)."""
    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strat)
    def collect(case: Case) -> None:
        out.append((label, case))
    return collect


def _predict(case: Case, prof: Profile) -> str:
    o = outcome_to_json(model.predict(case, prof))
    o.pop("alternatives", None)
    return json.dumps(o, sort_keys=True)


def toggled(base: str, commit: str) -> tuple[Profile, Profile]:
    return model.profile(f"{base}+{commit}"), model.profile(f"{base}-{commit}")


def build(n: int = 300) -> dict[str, list[tuple[int, str, dict]]]:
    found: dict[str, list[tuple[int, str, dict]]] = {c: [] for c in FEATURES}
    for label, case in pinned_cases() + generated_cases(n):
        text = json.dumps(case_to_json(case), ensure_ascii=False)
        if len(text) > MAX_BYTES:
            continue
        try:
            for commit in FEATURES:
                for base in BASES:
                    with_it, without = toggled(base, commit)
                    if _predict(case, with_it) != _predict(case, without):
                        found[commit].append((len(text), label, case_to_json(case)))
                        break
        except model.InvalidCase:
            continue
    return found


def write(found: dict[str, list[tuple[int, str, dict]]], out_dir: Path) -> None:
    for old in out_dir.glob("*.json"):
        old.unlink()
    for commit, cands in found.items():
        seen: set[str] = set()
        kept = 0
        for _, label, d in sorted(cands, key=lambda c: (c[0], c[1])):
            if label in seen:  # one case per source, for variety
                continue
            seen.add(label)
            d = {"name": f"{commit} {FEATURES[commit].title} ({label})",
                 "tags": [f"linux-git:{commit}", f"source:{label}"], **d}
            path = out_dir / f"{commit}-{kept + 1}.json"
            path.write_text(json.dumps(d, ensure_ascii=False, indent=1) + "\n")
            kept += 1
            if kept == PER_FEATURE:
                break
        print(f"{commit}  {kept} case(s)  {FEATURES[commit].title}")


if __name__ == "__main__":
    write(build(int(os.environ.get("EXECSPEC_CORPUS_EXAMPLES", "300"))), ROOT / "corpus")
