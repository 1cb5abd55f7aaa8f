"""Edges of the limits, generated (not pinned): the ARG_MAX floor, the
stack-page growth check, a trailing slash under AT_SYMLINK_NOFOLLOW,
NAME_MAX on a missing component, the program-header table limit,
vm.mmap_min_addr, and a cwd or dirfd ending in "..".  The spaces are small,
so a modest budget covers them (each scales with the profile)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from generators.boundaries import (
    arg_floor_cases,
    dotdot_cases,
    min_addr_cases,
    name_max_cases,
    phdr_limit_cases,
    stack_page_cases,
    strlen_cases,
    tiny_stack_cases,
    trailing_nofollow_cases,
)


def budget(share: float, floor: int = 40) -> int:
    return max(floor, int(settings().max_examples * share))


@settings(max_examples=budget(0.4))
@given(arg_floor_cases())
def test_arg_max_floor(conform, case):
    conform(case)


@settings(max_examples=budget(0.3))
@given(stack_page_cases())
def test_stack_page_growth(conform, case):
    conform(case)


@settings(max_examples=budget(0.1, 24))
@given(tiny_stack_cases())
def test_stack_under_one_page(conform, case):
    conform(case)


@settings(max_examples=budget(0.1, 12))
@given(strlen_cases())
def test_arg_strlen_limit(conform, case):
    conform(case)


@settings(max_examples=budget(0.4))
@given(trailing_nofollow_cases())
def test_trailing_slash_nofollow(conform, case):
    conform(case)


@settings(max_examples=budget(0.3))
@given(name_max_cases())
def test_name_max_components(conform, case):
    conform(case)


@pytest.mark.needs("crafted_elf")
@settings(max_examples=budget(0.2, 24))
@given(phdr_limit_cases())
def test_phdr_table_limit(conform, case):
    conform(case)


@pytest.mark.needs("crafted_elf")
@settings(max_examples=budget(0.2, 24))
@given(min_addr_cases())
def test_mmap_min_addr_edge(conform, target, case):
    # the model describes a 4096 floor (the host's); Debian sets 65536
    if target.name not in ("sandbox", "docker", "model") or \
            Path("/proc/sys/vm/mmap_min_addr").read_text().strip() != "4096":
        pytest.skip("vm.mmap_min_addr of this target is not the 4096 the model describes")
    conform(case)


@settings(max_examples=budget(0.4))
@given(dotdot_cases())
def test_dotdot_cwd_dirfd(conform, case):
    conform(case)
