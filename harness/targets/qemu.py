"""Target `qemu`: a kernel image booted under QEMU, cases over a serial line.

    --target qemu --kernel debian-5.10|debian-6.1|debian-6.12|debian-7.2|debian-7.3|PATH/TO/bzImage|KERNEL_TREE
    --target qemu --kernel debian:SUITE      (the cloud kernel of any suite: sid, bookworm,
                                              trixie-backports, experimental, ...)
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

from contract.case import Case
from harness.qemu.guest import Guest, GuestError
from harness.qemu.initramfs import find_module

from .base import EXECUTOR_EXTENSIONS, EXECUTOR_FIELDS, Target, TargetBroken, TargetUnavailable

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
    suite = debian_suite(spec) or "bookworm"
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
        raise TargetUnavailable(f"{path} looks like a kernel tree but has no arch/x86/boot/bzImage: "
                                "run make bzImage there")
    config = path / ".config"
    modular = config.is_file() and "\nCONFIG_BINFMT_MISC=m" in "\n" + config.read_text(errors="replace")
    module = path / "fs" / "binfmt_misc.ko"
    if modular and not module.is_file():
        raise TargetUnavailable(f"{path}: .config has CONFIG_BINFMT_MISC=m but fs/binfmt_misc.ko is not built: "
                                "run make modules (or fs/binfmt_misc.ko) there")
    return image, (module if modular else None)


def resolve_kernel(spec: str, modules: str | None = None) -> tuple[Path, Path | None]:
    """(vmlinuz, binfmt_misc module or None) for a shorthand (debian-7.3,
    debian:SUITE), an image path or a kernel build tree."""
    if debian_suite(spec):
        tree = fetch_debian(spec)
        image = kernel_image(tree)
        if image is None:
            raise TargetUnavailable(f"{tree}: no boot/vmlinuz-* nor usr/lib/modules/*/vmlinuz")
        return image, find_module(tree)
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
                                f"or one of {', '.join(DEBIAN)}, debian:SUITE)")
    return image, module


def guest_config(spec_path: Path, vmlinuz: Path, module: Path | None, append: str = ""):
    """The guest kernel's configuration: its package's boot/config-VER (or
    usr/lib/modules/VER/config), or the build tree's .config; whether the
    harness loads binfmt_misc.ko; ia32_emulation= from the command line."""
    from model import kconfig
    path = None
    if spec_path.is_dir():
        path = kconfig.find_in_tree(spec_path)
    path = path or kconfig.for_image(vmlinuz)
    if path is None:
        return None
    cfg = kconfig.load(path)
    if cfg.get("BINFMT_MISC") == "m":
        cfg = kconfig.apply_spec(cfg, [f"binfmt_misc.ko={1 if module is not None else 0}"])
    m = re.search(r"\bia32_emulation=(\S+)", append)
    if m:
        cfg = kconfig.apply_spec(cfg, [f"ia32_emulation={m.group(1)}"])
    return cfg


def need_qemu() -> None:
    if shutil.which("qemu-system-x86_64") is None:
        raise TargetUnavailable("qemu-system-x86_64 not found on PATH "
                                "(apt-get install --no-install-recommends qemu-system-x86)")


def preflight(spec: str | None, modules: str | None = None) -> None:
    """What a worker's QemuTarget needs before it boots, checked once for
    the whole run (the kernel fetched here; the workers find it cached)."""
    if not spec:
        raise TargetUnavailable("the qemu target needs --kernel (debian-5.10, debian-6.1, debian-6.12, "
                                "debian-7.2, debian-7.3, debian:SUITE, a bzImage or a kernel build tree)")
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
                                    "debian-7.2, debian-7.3, debian:SUITE, a bzImage or a kernel build tree)")
        self.spec = spec
        need_qemu()
        vmlinuz, module = resolve_kernel(spec, modules or os.environ.get("EXECSPEC_QEMU_MODULES"))
        try:
            # Debian's cloud kernels boot on microvm; a custom image gets a PC
            from harness.runinfo import say
            # EXECSPEC_QEMU_APPEND: extra kernel parameters (e.g. ia32_emulation=0 on 6.7+)
            self.append = os.environ.get("EXECSPEC_QEMU_APPEND", "")
            # EXECSPEC_QEMU_CALLERS=0: an initramfs without the "search"
            # cases' callers (glibc's launcher, Debian's shells: 8 MB, 3 MB more gzipped)
            self.guest = Guest(vmlinuz, module, machine="microvm" if debian_suite(spec) else "pc",
                               extra_cmdline=self.append,
                               callers=os.environ.get("EXECSPEC_QEMU_CALLERS", "1") not in ("0", "no", ""))
            say(f"booting {spec} under qemu ({self.guest.accel}, {self.guest.machine}) ...")
            self.guest.start()
            say(f"guest {spec} up in {self.guest.boot_seconds:.1f} s: {self.guest.hello.get('K', '?')}")
        except GuestError as e:
            raise TargetBroken(f"qemu guest {spec} did not boot: {e}") from None
        self.kernel = kernel_version(self.guest.hello)
        self.kernel_config = guest_config(Path(spec) if spec not in DEBIAN else vmlinuz, vmlinuz, module,
                                          self.append)

    def describe(self) -> str:
        return (f"qemu:{self.spec} (kernel {self.kernel}, {self.guest.accel}, {self.guest.machine}, "
                f"cmdline '{self.guest.cmdline}')")

    def callers_missing(self) -> str | None:
        callers = getattr(getattr(self, "guest", None), "callers", False)
        if callers is True:
            return None
        why = callers or "EXECSPEC_QEMU_CALLERS=0, or a guest that cannot carry them"
        return (f"{self.describe()}: the guest's initramfs carries no userspace caller for search cases "
                f"({why})")

    def run(self, case: Case) -> dict:
        reason = self.skip_reason(case)
        if reason:
            return {"outcome": "skip", "reason": reason}
        if case.exec.syscall == "search":
            # as the sandbox does: the caller runs as the case's program, in
            # the guest's executor that carries it as a probe variant
            from harness import userspace
            if self.callers_missing():
                return {"outcome": "skip", "reason": self.callers_missing() or ""}
            assert case.exec.via is not None  # a search case
            return userspace.lift(self.guest.run(userspace.lower(case)), case.exec.via)
        return self.guest.run(case)

    def close(self) -> None:
        self.guest.close()
