"""Target `qemu`: a kernel image booted under QEMU, cases over a serial line.

    --target qemu --kernel debian-5.10|debian-6.1|debian-6.12|PATH/TO/bzImage|KERNEL_TREE
    [--modules DIR_OR_binfmt_misc.ko]

KERNEL_TREE is a built checkout (arch/x86/boot/bzImage, and fs/binfmt_misc.ko
when .config makes it a module), so `git bisect run` can point at it.

The guest needs no userland from the host: the initramfs holds only the
static init, executor and probes (and binfmt_misc.ko when it is a module).
The model profile is the guest's own `uname -r` unless --profile says.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from harness.case import Case
from harness.qemu.guest import Guest, GuestError
from harness.qemu.initramfs import find_module

from .base import EXECUTOR_EXTENSIONS, EXECUTOR_FIELDS, Target, TargetBroken, TargetUnavailable

ROOT = Path(__file__).resolve().parents[2]
DEBIAN = {"debian-5.10": "bullseye", "debian-6.1": "bookworm", "debian-6.12": "trixie"}


def _apt_error(stderr: str) -> str:
    """The one line of apt's output that says why a fetch failed."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    for key in ("Could not resolve", "Temporary failure", "Failed to fetch", "Unable to connect", "E:"):
        for l in lines:
            if key in l:
                return l[:300]
    return lines[-1][:300] if lines else "no output"


def fetch_debian(spec: str, package: str | None = None) -> Path:
    """The extracted tree of a Debian kernel package, fetched once into the
    cache by fetch-kernel.sh; progress lines while it downloads."""
    from harness.runinfo import say
    suite = DEBIAN.get(spec, "bookworm")
    flavour = package or os.environ.get("EXECSPEC_KERNEL_FLAVOUR", "cloud-amd64")
    cache = Path(os.environ.get("EXECSPEC_CACHE", ROOT / "build" / "kernels"))
    cached = (cache / f"{suite}-{flavour}" / ".ok").exists()
    if not cached:
        say(f"fetching {spec} ({suite} {package or 'linux-image-' + flavour}) into {cache} ...")
    t0 = time.monotonic()
    r = subprocess.run([str(ROOT / "harness" / "qemu" / "fetch-kernel.sh"), suite, *([package] if package else [])],
                       capture_output=True, text=True)
    if r.returncode:
        raise TargetUnavailable(f"cannot fetch kernel {spec} ({suite}, apt with a private state under {cache}): "
                                f"{_apt_error(r.stderr)}")
    if not cached:
        say(f"fetched {spec} in {time.monotonic() - t0:.0f} s")
    return Path(r.stdout.strip().splitlines()[-1])


def build_tree(path: Path) -> tuple[Path, Path | None] | None:
    """(bzImage, binfmt_misc.ko or None) of a kernel build tree (a checkout
    after `make bzImage modules`), or None if `path` is not one.  The module
    is needed only where .config builds binfmt_misc as a module."""
    if not (path / "Makefile").is_file() and not (path / "arch").is_dir():
        return None
    image = path / "arch" / "x86" / "boot" / "bzImage"
    if not image.is_file():
        raise TargetUnavailable(f"{path} looks like a kernel tree but has no arch/x86/boot/bzImage: run make bzImage there")
    config = path / ".config"
    modular = config.is_file() and "\nCONFIG_BINFMT_MISC=m" in "\n" + config.read_text(errors="replace")
    module = path / "fs" / "binfmt_misc.ko"
    if modular and not module.is_file():
        raise TargetUnavailable(f"{path}: .config has CONFIG_BINFMT_MISC=m but fs/binfmt_misc.ko is not built: "
                                "run make modules (or fs/binfmt_misc.ko) there")
    return image, (module if modular else None)


def resolve_kernel(spec: str, modules: str | None = None) -> tuple[Path, Path | None]:
    """(vmlinuz, binfmt_misc module or None) for a shorthand, an image path
    or a kernel build tree."""
    if spec in DEBIAN:
        tree = fetch_debian(spec)
        images = sorted((tree / "boot").glob("vmlinuz-*"))
        if not images:
            raise TargetUnavailable(f"{tree}: no boot/vmlinuz-*")
        return images[0], find_module(tree)
    image = Path(spec)
    module = None
    if modules:
        m = Path(modules)
        module = m if m.is_file() else find_module(m)
    if image.is_dir():
        built = build_tree(image)
        if built is None:
            raise TargetUnavailable(f"{spec!r} is a directory but not a kernel build tree (no Makefile/arch)")
        return built[0], module or built[1]
    if not image.is_file():
        raise TargetUnavailable(f"kernel image {spec!r} not found (give a bzImage, a built kernel tree, "
                                f"or one of {', '.join(DEBIAN)})")
    return image, module


def need_qemu() -> None:
    if shutil.which("qemu-system-x86_64") is None:
        raise TargetUnavailable("qemu-system-x86_64 not found on PATH "
                                "(apt-get install --no-install-recommends qemu-system-x86)")


def preflight(spec: str | None, modules: str | None = None) -> None:
    """What a worker's QemuTarget needs before it boots, checked once for
    the whole run (the kernel fetched here; the workers find it cached)."""
    if not spec:
        raise TargetUnavailable("the qemu target needs --kernel (debian-5.10, debian-6.1, debian-6.12, "
                                "a bzImage or a kernel build tree)")
    need_qemu()
    resolve_kernel(spec, modules or os.environ.get("EXECSPEC_QEMU_MODULES"))


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
    observable = EXECUTOR_FIELDS
    extensions = EXECUTOR_EXTENSIONS

    def __init__(self, spec: str | None, modules: str | None = None):
        if not spec:
            raise TargetUnavailable("the qemu target needs --kernel (debian-5.10, debian-6.1, debian-6.12, "
                                    "a bzImage or a kernel build tree)")
        self.spec = spec
        need_qemu()
        vmlinuz, module = resolve_kernel(spec, modules or os.environ.get("EXECSPEC_QEMU_MODULES"))
        try:
            # Debian's cloud kernels boot on microvm; a custom image gets a PC
            from harness.runinfo import say
            self.guest = Guest(vmlinuz, module, machine="microvm" if spec in DEBIAN else "pc")
            say(f"booting {spec} under qemu ({self.guest.accel}, {self.guest.machine}) ...")
            self.guest.start()
            say(f"guest {spec} up in {self.guest.boot_seconds:.1f} s: {self.guest.hello.get('K', '?')}")
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
