"""Exec of a memfd (mm/memfd.c: MFD_EXEC, MFD_NOEXEC_SEAL; the shm mount is
never noexec) through execveat(memfd, "", AT_EMPTY_PATH)."""
from __future__ import annotations

from hypothesis import given

from generators.memfd import memfd_cases


@given(memfd_cases())
def test_memfd_exec(conform, case):
    conform(case)
