"""binfmt_script: generated "#!" lines and interpreter chains, plus the
27 shapes of the kernel's own selftest pinned with exact argv."""
from __future__ import annotations

import pytest
from hypothesis import given

from contract.case import case_from_json
from generators.selftest_shapes import SELFTEST_EXPECTS_SUCCESS, selftest_shapes
from generators.shebang import chain_cases, shebang_cases


@given(shebang_cases())
def test_shebang_line(conform, case):
    conform(case)


@given(chain_cases())
def test_interpreter_chain(conform, case):
    conform(case)


SHAPES = selftest_shapes()


@pytest.mark.parametrize("name,raw", SHAPES, ids=[n for n, _ in SHAPES])
def test_selftest_shape(conform, profile, name, raw):
    """The selftest only checks pass/fail; here the whole outcome (argv
    included) must match, and the model must agree with the selftest's
    verdict on a 256-byte-buffer kernel."""
    case = case_from_json(raw)
    outcome = conform(case, pinned=True)
    if profile.binprm_buf_size == 256:
        assert (outcome["outcome"] == "exec") == SELFTEST_EXPECTS_SUCCESS[name], outcome
