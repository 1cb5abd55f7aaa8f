"""exec core: execveat(2) — dirfd, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW,
AT_EXECVE_CHECK, /dev/fd/N names, the close-on-exec script case, comm."""
from __future__ import annotations

from hypothesis import given

from generators.execveat import changed_cases, execveat_cases


@given(execveat_cases())
def test_execveat(conform, case):
    conform(case)


@given(changed_cases())
def test_changed_after_open(conform, case):
    conform(case)
