"""ET_DYN and ET_EXEC load addresses under ADDR_NO_RANDOMIZE (kselftest
exec/load_address.c): AT_PHDR, AT_ENTRY and AT_BASE as the probe sees them,
against load_elf_binary's placement (ELF_ET_DYN_BASE, maximum_alignment,
the top-down mmap base that RLIMIT_STACK moves) in model/binfmt_elf.py."""
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
    commit, with_it, without = ADDRESSES[name].expect
    out = conform(ADDRESSES[name].case, pinned=True)
    field, value = (with_it if profile.has(commit) else without).split("=")
    assert out[field] == int(value, 16), (name, hex(out[field]))
