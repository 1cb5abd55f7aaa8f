"""Target `sandbox`: the host kernel, each case in a new user + mount namespace.

The executor (harness/native/executor.c) forks per case; the child unshares
CLONE_NEWUSER|CLONE_NEWNS, mounts its own tmpfs root and binfmt_misc
instance, and execs.  Everything it mounted or registered dies with it, so
a run killed at any point leaves nothing behind.  binfmt_misc instances are
per user namespace only from 6.7 (21ca59b365c0): on older kernels a case
with registrations is skipped — a mount namespace alone would share the
host's global instance, which is never touched.
"""
from __future__ import annotations

import os

from harness.case import Case
from harness.executor import Executor, userns_available
from model.profiles import parse_version

from .base import Target, TargetUnavailable


class SandboxTarget(Target):
    name = "sandbox"

    def __init__(self, kernel: str | None = None):
        ok, why = userns_available()
        if not ok:
            raise TargetUnavailable(f"sandbox target: {why}")
        self.release = os.uname().release
        self.kernel = kernel or self.release
        self.per_userns_binfmt_misc = parse_version(self.release)[:2] >= (6, 7)
        self.executor = Executor(mode="userns")

    def skip_reason(self, case: Case) -> str | None:
        if case.binfmt_misc and not self.per_userns_binfmt_misc:
            return (f"host kernel {self.release} < 6.7 has no per-user-namespace binfmt_misc "
                    "(21ca59b365c0): registering would touch the host's global instance")
        return None

    def run(self, case: Case) -> dict:
        reason = self.skip_reason(case)
        if reason:
            return {"outcome": "skip", "reason": reason}
        return self.executor.run(case)

    def close(self) -> None:
        self.executor.close()
