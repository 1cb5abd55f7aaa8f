"""ET_DYN and ET_EXEC load addresses under ADDR_NO_RANDOMIZE (kselftest
exec/load_address.c): AT_PHDR, AT_ENTRY and AT_BASE as the probe sees them,
against load_elf_binary's placement (ELF_ET_DYN_BASE, maximum_alignment,
the static PIE's alignment since 3545deff0ec7, the top-down mmap base that
RLIMIT_STACK moves, ia32's compat bases) in model/binfmt_elf.py; and the
personality the program runs with (a set-id or capability-gaining exec
clears ADDR_NO_RANDOMIZE, and then the addresses are not reported)."""
from __future__ import annotations

import pytest
from hypothesis import given

from generators.elf import address_cases
from generators.pinned.elf import ADDRESSES


@pytest.fixture(autouse=True)
def _crafted_elf_supported(target):
    if target.crafted_elf_unsupported:
        pytest.skip(target.crafted_elf_unsupported)


@given(address_cases())
def test_load_addresses(conform, case):
    conform(case)


@pytest.mark.parametrize("name", list(ADDRESSES))
def test_pinned_address(conform, profile, name):
    rule = ADDRESSES[name].expect
    if isinstance(rule, tuple):
        commit, with_it, without = rule
        rule = with_it if profile.has(commit) else without
    assert isinstance(rule, str)
    out = conform(ADDRESSES[name].case, pinned=True)
    field, value = rule.split("=")
    if value == "absent":
        assert field not in out, (name, out.get(field))
    else:
        assert out.get(field) == int(value, 16), (name, out.get(field))
