"""Builds the guest initramfs: init, executor, probes and binfmt_misc.ko.

Written as a newc cpio archive directly (no cpio tool, no root needed for
device nodes), gzip-compressed, cached under build/initramfs/ by content.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import stat
from pathlib import Path

from harness import build


def _entry(out: io.BytesIO, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0),
           ino: int = 1) -> None:
    n = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(n), 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + n)
    out.write(b"\0" * (-(110 + len(n)) % 4))
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


def find_module(tree: Path, name: str = "binfmt_misc") -> Path | None:
    for base in (tree / "lib" / "modules", tree / "usr" / "lib" / "modules", tree / "usr" / "lib" / "uml" / "modules"):
        if base.is_dir():
            for p in base.rglob(f"{name}.ko*"):
                return p
    return None


def module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".zst":
        raise RuntimeError(f"{path}: zstd-compressed modules are not supported; decompress it first")
    if path.suffix == ".gz":
        return gzip.decompress(data)
    return data


def build_initramfs(module: Path | None, callers: bool = False) -> Path:
    """The initramfs for a guest whose binfmt_misc is `module` (None: built in).
    `callers`: also the userspace callers of "search" cases as probe variants
    (glibc's launcher, Debian's dash, bash, busybox and their libraries; the
    shells are fetched once, harness/userspace), so that guests run those
    cases too.  Raises userspace.ShellsUnavailable when they can't be had."""
    files: list[tuple[str, bytes, int]] = [("init", build.native("init").read_bytes(), 0o755),
                                           ("executor", build.native("executor").read_bytes(), 0o755)]
    for i, p in enumerate(build.probe_paths(all_variants=callers)):
        files.append((f"probe{i}", p.read_bytes(), 0o755))
    if module is not None:
        files.append(("binfmt_misc.ko", module_bytes(module), 0o644))
    h = hashlib.sha256(b"nodes: console ttyS0 ttyS1 null loop0")  # a change of the fixed entries is a new archive
    for name, data, _ in files:
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    out_dir = build.build_dir().parent.parent / "initramfs"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{h.hexdigest()[:16]}.cpio.gz"
    if target.exists():
        return target
    buf = io.BytesIO()
    ino = 1
    for d in ("dev", "proc", "tmp"):
        _entry(buf, d, stat.S_IFDIR | 0o755, ino=ino)
        ino += 1
    for name, dev in (("dev/console", (5, 1)), ("dev/ttyS0", (4, 64)), ("dev/ttyS1", (4, 65)), ("dev/null", (1, 3))):
        _entry(buf, name, stat.S_IFCHR | 0o600, rdev=dev, ino=ino)
        ino += 1
    # the node a "blockdev" file binds (executor.c devs[]); no loop driver
    # is loaded: exec refuses the node by its type before any open of it
    _entry(buf, "dev/loop0", stat.S_IFBLK | 0o600, rdev=(7, 0), ino=ino)
    ino += 1
    for name, data, mode in files:
        _entry(buf, name, stat.S_IFREG | mode, data, ino=ino)
        ino += 1
    _entry(buf, "TRAILER!!!", 0, ino=0)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(gzip.compress(buf.getvalue(), 6))
    tmp.rename(target)
    return target
