"""Target `uml`: User-Mode Linux, the kernel as a host program.

    --target uml [--kernel debian-uml | PATH/TO/linux] [--modules DIR_OR_binfmt_misc.ko]

Debian's user-mode-linux package (bookworm: 6.1.x) is downloaded with the
same private apt state as the QEMU kernels and never installed.  The guest
runs the same initramfs, init and executor as a QEMU guest and boots in ~2 s
with no emulator.  UML's address space differs from x86-64 hardware
(TASK_SIZE is below 2^47), so ELF cases that map the top of the address
space can differ: that is UML, not the exec code under test.
"""
from __future__ import annotations

import os
from pathlib import Path

from contract.case import Case
from harness.qemu.guest import GuestError, UmlGuest
from harness.qemu.initramfs import find_module

from .base import TargetBroken, TargetUnavailable
from .qemu import QemuTarget, fetch_debian, kernel_version


def resolve_uml(spec: str, modules: str | None) -> tuple[Path, Path | None]:
    if spec == "debian-uml":
        tree = fetch_debian("debian-uml", "user-mode-linux")
        return tree / "usr" / "bin" / "linux.uml", find_module(tree)
    linux = Path(spec)
    if linux.is_dir() and (linux / "linux").is_file():  # an ARCH=um build tree
        mod = linux / "fs" / "binfmt_misc.ko"
        return linux / "linux", (Path(modules) if modules else (mod if mod.is_file() else None))
    if not linux.is_file():
        raise TargetUnavailable(f"UML kernel {spec!r} not found (or use debian-uml)")
    module = None
    if modules:
        m = Path(modules)
        module = m if m.is_file() else find_module(m)
    return linux, module


def _crafted_elf(case: Case) -> bool:
    return any(f.type == "file" and f.data[:4] == b"\x7fELF" for f in case.files)


class UmlTarget(QemuTarget):
    """Experimental: on Debian's UML 6.1.176 the shebang, argv/envp, execveat,
    pinned and binfmt_misc suites pass; the ELF loader of ARCH=um is not the
    x86-64 one (no NX, no ia32 emulation, its own TASK_SIZE), so crafted-ELF
    cases are skipped; a long run can hang the guest (it is then restarted)."""
    name = "uml"
    crafted_elf_unsupported = "UML (ARCH=um) maps ELF programs with its own layout, without NX or ia32 emulation"

    def skip_reason(self, case: Case) -> str | None:
        return self.crafted_elf_unsupported if _crafted_elf(case) else None

    def __init__(self, spec: str | None, modules: str | None = None):
        self.spec = spec or "debian-uml"
        linux, module = resolve_uml(self.spec, modules or os.environ.get("EXECSPEC_QEMU_MODULES"))
        try:
            from harness.runinfo import say
            self.guest = UmlGuest(linux, module)
            say(f"booting UML {self.spec} ...")
            self.guest.start()
            say(f"UML guest up in {self.guest.boot_seconds:.1f} s: {self.guest.hello.get('K', '?')}")
        except GuestError as e:
            raise TargetBroken(f"UML guest {self.spec} did not boot: {e}") from None
        self.kernel = kernel_version(self.guest.hello)

    def describe(self) -> str:
        return f"uml:{self.spec} (kernel {self.kernel})"
