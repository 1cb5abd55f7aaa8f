"""Exec of files that are not regular: a character device (a bind of the
target's /dev/null), a unix socket, a FIFO, a directory (may_open(): EACCES
for MAY_EXEC whatever the mode, the owner or the mount; AT_EXECVE_CHECK
answers the same), and through them as if they were directories
(ENOTDIR)."""
from __future__ import annotations

from hypothesis import given

from generators.nonregular import nonregular_cases


@given(nonregular_cases())
def test_nonregular_exec(conform, case):
    conform(case)
