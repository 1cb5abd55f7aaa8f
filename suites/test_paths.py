"""exec core: path resolution inside the case's file system (fs/namei.c as
exec uses it) and the checks of do_open_execat/may_open."""
from __future__ import annotations

from hypothesis import given

from generators.paths import path_cases, symlink_chain_cases


@given(path_cases())
def test_path_resolution(conform, case):
    conform(case)


@given(symlink_chain_cases())
def test_symlink_limit(conform, case):
    conform(case)
