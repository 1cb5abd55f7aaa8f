"""The pinned regression corpus (corpus/*.json, built by corpus/build.py):
one or two cases per behaviour change of exec, each tagged with the kernel
commit that made it ("linux-git:<commit>", as LTP tags its tests).  Every
target runs them against the model profile of its kernel; a failure names
the commit, so a regression reads as "this kernel lost (or gained) X"."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract.case import case_from_json
from model.profiles import FEATURES

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FILES = sorted(CORPUS.glob("*.json"))


def commits(d: dict) -> list[str]:
    return [t.split(":", 1)[1] for t in d.get("tags", []) if t.startswith("linux-git:")]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_case(conform, profile, record_property, path):
    d = json.loads(path.read_text())
    tags = commits(d)
    for c in tags:
        record_property("linux-git", c)
    case = case_from_json(d, where=path.name)
    try:
        conform(case, pinned=True)
    except AssertionError as e:
        head = "; ".join(f"linux-git: {c} {FEATURES[c].title} "
                         f"({'in' if profile.has(c) else 'not in'} profile {profile.name})" for c in tags)
        raise AssertionError(f"{head}\n{e}") from None
