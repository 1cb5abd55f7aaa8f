"""The corpus still pins what it says: each case's predicted outcome
changes when its tagged commit alone is toggled on one of the builder's
base profiles (a model change that made a corpus case pointless fails here),
and every file is a valid case."""
from __future__ import annotations

import json

import pytest

import model
from contract.case import case_from_json
from corpus.build import BASES, _predict, toggled
from suites.test_corpus import FILES, commits


def test_corpus_is_not_empty():
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_case_pins_its_commit(path):
    d = json.loads(path.read_text())
    case = case_from_json(d, where=path.name)
    (commit,) = commits(d)
    assert any(_predict(case, a) != _predict(case, b) for a, b in (toggled(base, commit) for base in BASES)), \
        f"{path.name}: no base profile where {commit} changes the prediction"
    assert model.predict(case, "newest")["outcome"] != "unmodelled"
