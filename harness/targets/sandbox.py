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
import threading

from contract.case import Case
from harness.executor import Executor, userns_available
from model.profiles import parse_version

from .base import EXECUTOR_EXTENSIONS, EXECUTOR_FIELDS, Target, TargetUnavailable, case_unsupported


class SandboxTarget(Target):
    name = "sandbox"
    observable = EXECUTOR_FIELDS
    extensions = EXECUTOR_EXTENSIONS

    def __init__(self, kernel: str | None = None):
        ok, why = userns_available()
        if not ok:
            raise TargetUnavailable(f"sandbox target: {why}")
        self.release = os.uname().release
        self.kernel = kernel or self.release
        self.per_userns_binfmt_misc = parse_version(self.release)[:2] >= (6, 7)
        from model import kconfig
        self.kernel_config = kconfig.host()
        self.executor = self._executor()
        self.pool: list[Executor] = []  # extra executors for run_many

    def _executor(self) -> Executor:
        return Executor(mode="userns")

    def callers_missing(self) -> str | None:
        return None  # run_search: an executor carrying them (or a skip naming why not)

    def skip_reason(self, case: Case) -> str | None:
        if case_unsupported(self, case):
            return case_unsupported(self, case)
        if case.binfmt_misc and self.config_lacks_misc():
            return self.config_lacks_misc()
        if case.binfmt_misc and not self.per_userns_binfmt_misc:
            return (f"host kernel {self.release} < 6.7 has no per-user-namespace binfmt_misc "
                    "(21ca59b365c0): registering would touch the host's global instance")
        return None

    def detect_feature(self, commit: str) -> str | None:
        """21ca59b365c0 shows in whether a new user namespace may mount
        binfmt_misc at all: before it the mount fails (EPERM, no
        FS_USERNS_MOUNT) and nothing is registered anywhere."""
        if commit != "21ca59b365c0":
            return None
        from contract.case import Exec, File
        case = Case(files=(File(path=b"/p", type="probe", mode=0o755, tag="P"),),
                    binfmt_misc=(b":execspec-probe:E::zz::/p:",),
                    exec=Exec(path=b"/p", argv=(b"p",), envp=()))
        out = self.executor.run(case)  # not run(): its skip is by version, this asks the kernel
        if out.get("outcome") == "skip":
            return "absent (a new user namespace cannot mount binfmt_misc)"
        return "present (a new user namespace mounts its own binfmt_misc instance)"

    def run(self, case: Case) -> dict:
        reason = self.skip_reason(case)
        if reason:
            return {"outcome": "skip", "reason": reason}
        if case.exec.syscall == "search":
            return self.run_search(case)
        return self.executor.run(case)

    _search_executor: Executor | None = None

    def run_search(self, case: Case) -> dict:
        """A "search" case: its caller (glibc's execvp, a shell, ...) runs
        in the case root as the case's program (harness/userspace), in an
        executor that also carries those programs as probe variants."""
        from harness import userspace
        if self._search_executor is None:
            try:
                self._search_executor = Executor(mode="userns", all_probes=True)
            except userspace.ShellsUnavailable as e:
                return {"outcome": "skip", "reason": str(e)}
        via = case.exec.via
        assert via is not None  # a search case
        return userspace.lift(self._search_executor.run(userspace.lower(case)), via)

    def run_many(self, cases: list[Case], workers: int | None = None) -> list[dict]:
        """One pipelined executor per CPU, each taking an interleaved share."""
        out: list[dict | None] = [None] * len(cases)
        todo = []
        for i, c in enumerate(cases):
            reason = self.skip_reason(c)
            if reason:
                out[i] = {"outcome": "skip", "reason": reason}
            else:
                todo.append(i)
        n = max(1, min(workers or os.cpu_count() or 1, len(todo) // 64 or 1))
        while len(self.pool) < n - 1:
            self.pool.append(self._executor())
        executors = [self.executor, *self.pool[:n - 1]]
        # Started here, not in the worker threads: an executor dies with the
        # thread that forked it (PR_SET_PDEATHSIG is per thread).
        for e in executors:
            e._ensure_started()
        search = [i for i in todo if cases[i].exec.syscall == "search"]
        for i in search:
            out[i] = self.run_search(cases[i])
        todo = [i for i in todo if cases[i].exec.syscall != "search"]
        if n == 1:
            for i, o in zip(todo, self.executor.run_many([cases[i] for i in todo])):
                out[i] = o
            return out  # type: ignore[return-value]
        errors: list[BaseException] = []

        def work(k: int) -> None:
            idx = todo[k::n]
            try:
                for i, o in zip(idx, executors[k].run_many([cases[i] for i in idx])):
                    out[i] = o
            except BaseException as e:
                errors.append(e)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return out  # type: ignore[return-value]

    def close(self) -> None:
        self.executor.close()
        if self._search_executor is not None:
            self._search_executor.close()
        for e in self.pool:
            e.close()
