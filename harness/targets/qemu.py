"""Target `qemu`: a kernel image booted under QEMU, cases over a serial line.

    --target qemu --kernel debian-5.10|debian-6.1|debian-6.12|debian-7.2|debian-7.3|PATH/TO/bzImage
    --target qemu --kernel debian:SUITE      (the cloud kernel of any suite: sid, bookworm,
                                              trixie-backports, experimental, ...)
    [--modules DIR_OR_binfmt_misc.ko]

The guest needs no userland from the host: the initramfs holds only the
static init, executor and probes (and binfmt_misc.ko when it is a module).
The model profile is the guest's own `uname -r` unless --profile says.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from harness.case import Case
from harness.qemu.guest import Guest, GuestError
from harness.qemu.initramfs import find_module

from .base import Target, TargetBroken, TargetUnavailable

ROOT = Path(__file__).resolve().parents[2]
# debian-7.2: sid; debian-7.3: trixie-backports (experimental may carry the next -rc)
DEBIAN = {"debian-5.10": "bullseye", "debian-6.1": "bookworm", "debian-6.12": "trixie",
          "debian-7.2": "sid", "debian-7.3": "trixie-backports"}
_SUITE = re.compile(r"^[a-z][a-z0-9-]*$")


def debian_suite(spec: str) -> str | None:
    """The Debian suite a --kernel shorthand names: debian-7.3 or debian:SUITE."""
    if spec in DEBIAN:
        return DEBIAN[spec]
    if spec.startswith("debian:") and _SUITE.match(spec[7:]):
        return spec[7:]
    return None


def kernel_image(tree: Path) -> Path | None:
    """The image in an extracted Debian package tree: boot/vmlinuz-* up to
    Debian's 7.1 packaging, usr/lib/modules/VER/vmlinuz in 7.x's linux-binary-*."""
    for pattern in ("boot/vmlinuz-*", "usr/lib/modules/*/vmlinuz", "lib/modules/*/vmlinuz"):
        images = sorted(tree.glob(pattern))
        if images:
            return images[0]
    return None


def resolve_kernel(spec: str, modules: str | None = None) -> tuple[Path, Path | None]:
    """(vmlinuz, binfmt_misc module or None) for a shorthand or an image path."""
    suite = debian_suite(spec)
    if suite:
        r = subprocess.run([str(ROOT / "harness" / "qemu" / "fetch-kernel.sh"), suite],
                           capture_output=True, text=True)
        if r.returncode:
            raise TargetUnavailable(f"cannot fetch {spec}: {r.stderr.strip()[-500:]}")
        tree = Path(r.stdout.strip().splitlines()[-1])
        image = kernel_image(tree)
        if image is None:
            raise TargetUnavailable(f"{tree}: no boot/vmlinuz-* nor usr/lib/modules/*/vmlinuz")
        return image, find_module(tree)
    image = Path(spec)
    if not image.is_file():
        raise TargetUnavailable(f"kernel image {spec!r} not found (or use {', '.join(DEBIAN)}, debian:SUITE)")
    module = None
    if modules:
        m = Path(modules)
        module = m if m.is_file() else find_module(m)
    return image, module


def kernel_version(hello: dict[str, str]) -> str:
    """The guest's upstream version: Debian's release string (6.1.0-56-cloud-amd64)
    hides the patch level that `uname -v` carries ("Debian 6.1.192-2")."""
    release = hello.get("K", "newest")
    m = re.search(r"\b(\d+\.\d+\.\d+)", hello.get("V", ""))
    if m and m.group(1).split(".")[:2] == release.split("-")[0].split(".")[:2]:
        return m.group(1)
    return release


class QemuTarget(Target):
    name = "qemu"

    def __init__(self, spec: str | None, modules: str | None = None):
        if not spec:
            raise TargetUnavailable("the qemu target needs --kernel (debian-5.10, debian-6.1, debian-6.12, "
                                    "debian-7.2, debian-7.3, debian:SUITE or a bzImage)")
        self.spec = spec
        vmlinuz, module = resolve_kernel(spec, modules or os.environ.get("EXECSPEC_QEMU_MODULES"))
        try:
            # Debian's cloud kernels boot on microvm; a custom image gets a PC
            self.guest = Guest(vmlinuz, module, machine="microvm" if debian_suite(spec) else "pc")
            self.guest.start()
        except GuestError as e:
            raise TargetBroken(f"qemu guest {spec} did not boot: {e}") from None
        self.kernel = kernel_version(self.guest.hello)

    def describe(self) -> str:
        return (f"qemu:{self.spec} (kernel {self.kernel}, {self.guest.accel}, {self.guest.machine}, "
                f"cmdline '{self.guest.cmdline}')")

    def run(self, case: Case) -> dict:
        reason = self.skip_reason(case)
        if reason:
            return {"outcome": "skip", "reason": reason}
        return self.guest.run(case)

    def close(self) -> None:
        self.guest.close()
