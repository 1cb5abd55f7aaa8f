"""The interface every target implements."""
from __future__ import annotations

from typing import TYPE_CHECKING

from contract.case import ADDR_FIELDS, CRED_FIELDS, Case, uses_creds

if TYPE_CHECKING:
    from model.kconfig import KernelConfig

ALL_FIELDS = frozenset({"outcome", "tag", "argv", "envp", "execfn", "comm", "execfd",
                        "errno", "index", "signal", "status", "value", "binfmt_misc_entries",
                        "at_base", "exe", "at_flags"})
# Case extensions (docs/case-format-extensions.md) a target runs honestly
# only when it says so in `extensions`; elsewhere their cases SKIP
# (case_unsupported), so a target that would ignore the field (a simulator
# running as the host user) is never compared on it.
EXTENSIONS = {
    "creds": "an identity, file ownership, set-id bits, file capabilities, no_new_privs or securebits",
    "mounts": "mounts in the case root",
    "after_open": "unlink/rename/rmdir between the open and the exec",
    "memfd": "a memfd as the exec source",
    "devices": "a character or block device (a bind of /dev/null or /dev/loop0) or a unix socket in the case root",
    "personality": "personality(2) flags (ADDR_NO_RANDOMIZE) and the load addresses they make predictable",
    "rlimit_nofile": "an RLIMIT_NOFILE set just before the call",
    "concurrent": "several processes making the call at once (exec.concurrent)",
    "from_thread": "the call made by a second thread (exec.from_thread) and the pid the program gets",
}


def case_extensions(case: Case) -> set[str]:
    out = set()
    if case.mounts:
        out.add("mounts")
    if case.exec.after_open:
        out.add("after_open")
    if case.exec.memfd is not None:
        out.add("memfd")
    if any(f.type in ("chardev", "blockdev", "socket") for f in case.files):
        out.add("devices")
    if case.exec.personality:
        out.add("personality")
    if case.exec.rlimit_nofile is not None:
        out.add("rlimit_nofile")
    if case.exec.concurrent > 1:
        out.add("concurrent")
    if case.exec.from_thread:
        out.add("from_thread")
    if uses_creds(case) and (case.exec.has_identity or case.exec.no_new_privs or case.exec.securebits
                             or any(f.uid or f.gid or f.mode & 0o6000 or f.caps is not None for f in case.files)):
        out.add("creds")
    return out


def case_unsupported(target: Target, case: Case) -> str | None:
    missing = sorted(case_extensions(case) - set(target.extensions))
    if missing:
        return (f"{target.describe()} cannot express {', '.join(EXTENSIONS[m] for m in missing)} "
                "(docs/case-format-extensions.md)")
    return None


# Contract 1.1: `exe` needs the procfs directory the executor leaves at fd 99
# (harness/native/executor.c); a target without it declares ALL_FIELDS - {"exe"}.


# (exec.concurrent's siblings and exec.from_thread's pid: the executor's own extensions)
EXECUTOR_FIELDS = ALL_FIELDS | frozenset(CRED_FIELDS) | frozenset(ADDR_FIELDS) | {"pid", "concurrent"}
EXECUTOR_EXTENSIONS = frozenset(EXTENSIONS)


class TargetUnavailable(RuntimeError):
    """The target cannot run here (the message says why); suites SKIP on it."""


class TargetBroken(RuntimeError):
    """The target exists but failed (a guest kernel that does not boot):
    an error, never a skip."""


class Target:
    name = "?"
    kernel = "newest"  # version string that selects the model profile
    # The credential fields (contract.case.CRED_FIELDS) are not in ALL_FIELDS:
    # only targets that run the probe under the executor observe them.
    observable = ALL_FIELDS
    extensions: frozenset[str] = frozenset()
    # Why crafted ELF programs cannot be run honestly here (suites/test_elf.py
    # then skips as a whole), or None.
    crafted_elf_unsupported: str | None = None
    # Cases may register binfmt_misc rules: in a private instance (a new
    # user namespace, Linux >= 6.7) or a disposable guest.  A target that
    # cannot declares False; suites then skip whole tests (lacks()).
    per_userns_binfmt_misc = True
    # The kernel's configuration (model/kconfig.py), read where the target
    # can: /proc/config.gz, the image's package or build tree.  None: unknown
    # (the model then assumes x86-64 defaults).
    kernel_config: KernelConfig | None = None

    def config_lacks_misc(self) -> str | None:
        cfg = self.kernel_config
        if cfg is not None and not cfg.binfmt_misc:
            v = cfg.get("BINFMT_MISC")
            return (f"{self.describe()}: no binfmt_misc (CONFIG_BINFMT_MISC={v}"
                    + (", and the module is not loaded" if v == "m" else "") + f", from {cfg.source})")
        return None

    def lacks(self, need: str) -> str | None:
        """Why this target cannot run any case of a test marked
        @pytest.mark.needs(need) ("binfmt_misc", "crafted_elf"), or None."""
        if need == "binfmt_misc" and self.config_lacks_misc():
            return self.config_lacks_misc()
        if need == "binfmt_misc" and not self.per_userns_binfmt_misc:
            return (f"{self.describe()}: no private binfmt_misc instance (per user namespace only from "
                    "Linux 6.7, 21ca59b365c0); the host's global instance is never touched")
        if need == "crafted_elf":
            return self.crafted_elf_unsupported
        if need == "callers":
            return self.callers_missing()
        return None

    def callers_missing(self) -> str | None:
        """Why this target cannot run "search" cases (their caller: glibc's
        launcher or a Debian shell, harness/userspace), or None."""
        return (f"{self.describe()}: runs no userspace caller (search cases need the sandbox target, "
                "whose executor carries glibc's launcher and Debian's shells, or a qemu guest whose "
                "initramfs does)")

    def skip_reason(self, case: Case) -> str | None:
        """Why this target cannot run `case` honestly, or None."""
        if case.exec.syscall == "search" and self.callers_missing():
            return self.callers_missing()
        unsupported = case_unsupported(self, case)
        if unsupported:
            return unsupported
        if case.binfmt_misc:
            return self.config_lacks_misc()
        return None

    def detect_feature(self, commit: str) -> str | None:
        """A verdict on a feature no exec outcome shows ("present ..." or
        "absent ..."), for `harness features`; None when this target can't tell."""
        return None

    def run(self, case: Case) -> dict:
        raise NotImplementedError

    def run_many(self, cases: list[Case]) -> list[dict]:
        """Outcomes of many cases, in order (targets may parallelise)."""
        return [self.run(c) for c in cases]

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self.name} (kernel {self.kernel})"
