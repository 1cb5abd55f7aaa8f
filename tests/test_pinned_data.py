"""The pinned cases (generators/pinned/) are well-formed data: named as
labelled, tags in the corpus's "linux-git:<12 hex>" form naming commits the
model knows (or a known revert), every case valid and modelled."""
from __future__ import annotations

import re

import model
from generators.pinned import all_pinned
from model.profiles import FEATURES

REVERTS = {"3b832035387f"}  # the revert of 2a010c412853 (model/namei.py deny_write_access)


def test_labels_carry_the_names():
    # (labels may repeat across groups: "pinned-fd-empty" is an execveat
    # shape and a text-busy case; the corpus keeps one case per label)
    for label, p in all_pinned():
        assert label.split("-", 1)[1] == p.name, (label, p.name)


def test_tags_name_known_commits():
    for label, p in all_pinned():
        for t in p.tags:
            m = re.fullmatch(r"linux-git:([0-9a-f]{12})", t)
            assert m, (label, t)
            assert m.group(1) in FEATURES or m.group(1) in REVERTS, (label, t)


def test_cases_are_modelled():
    for label, p in all_pinned():
        assert model.predict(p.case, "newest")["outcome"] != "unmodelled", label


def test_length_pins_have_their_length():
    # A pin named "length_N_..." registers exactly N bytes (a past pair was
    # one byte short of its name, so no 1921-byte registration was tested).
    seen = 0
    for label, p in all_pinned():
        m = re.match(r"length_(\d+)_", p.name)
        if m:
            seen += 1
            assert len(p.case.binfmt_misc[0]) == int(m.group(1)), label
    assert seen >= 3
