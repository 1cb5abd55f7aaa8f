"""Builds the native probe and executor with the system C compiler.

Outputs are cached under build/native/<hash of sources and flags>/ so every
worker and every run reuses them; a changed source gets a new directory.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIVE = Path(__file__).resolve().parent / "native"
CONTRACT = ROOT / "contract"  # caselimits.h: the limits the executor shares with contract.case
CC = os.environ.get("CC", "cc")

# The probe must not depend on libc at all (it runs in an empty root and must
# see argc == 0 as it is); the executor is a plain static program.
PROGRAMS: dict[str, tuple[str, list[str]]] = {
    "probe": ("probe.c", ["-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
                          "-fno-pie", "-no-pie", "-O2", "-s", "-Wl,--build-id=none",
                          "-Wl,-z,max-page-size=4096", "-Wl,-z,noseparate-code"]),
    # The same probe as a static PIE (ET_DYN, no PT_INTERP, no relocations
    # needed: -fPIE code with no pointers in data), so it also runs as a
    # PT_INTERP interpreter; it adds a 'V' record to its report.
    "probe_pie": ("probe.c", ["-static-pie", "-fPIE", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
                              "-O2", "-s", "-Wl,--build-id=none", "-Wl,-z,max-page-size=4096",
                              "-Wl,-z,noseparate-code", "-Wl,--no-dynamic-linker", '-DPROBE_VARIANT="pie"']),
    "executor": ("executor.c", ["-static", "-O2", "-Wall"]),
    "init": ("init.c", ["-static", "-O2", "-Wall"]),
    # makes one case's exec call inside a simulator (harness/targets/simulator.py)
    "launch": ("launch.c", ["-static", "-O2", "-Wall"]),
    # glibc's execvp/execvpe/posix_spawnp inside a case root (harness/userspace.py)
    "fallback": ("fallback.c", ["-static", "-O2", "-Wall"]),
    # the same launcher dynamically linked, its exec through libc's execve()
    # (LD_PRELOAD-based simulators such as fakechroot only see libc calls)
    "launch_libc": ("launch.c", ["-O2", "-Wall", "-DLIBC_EXEC"]),
    # a static stand-in for valgrind's launcher (simulators/valgrind.json)
    "vglaunch": ("vglaunch.c", ["-static", "-O2", "-Wall"]),
    # runs a simulator in user+PID+mount namespaces, host read-only (simulator.py)
    "simjail": ("simjail.c", ["-static", "-O2", "-Wall"]),
}


class BuildError(RuntimeError):
    pass


def _key() -> str:
    h = hashlib.sha256(CC.encode())
    for name, (src, flags) in sorted(PROGRAMS.items()):
        h.update(name.encode() + b"\0" + " ".join(flags).encode() + b"\0")
        h.update((NATIVE / src).read_bytes())
    for hdr in sorted([*NATIVE.glob("*.h"), *CONTRACT.glob("*.h")]):  # caselimits.h and friends
        h.update(hdr.name.encode() + b"\0" + hdr.read_bytes())
    return h.hexdigest()[:16]


def limit(name: str) -> int:
    """A limit of contract/caselimits.h (read once, in contract.case)."""
    from contract.case import LIMITS
    return LIMITS[name]


def build_dir() -> Path:
    return Path(os.environ.get("EXECSPEC_BUILD", ROOT / "build")) / "native" / _key()


# Probe variants by name, in the executor's --probe order (contract.case.PROBE_VARIANTS).
PROBES = {"static": "probe", "pie": "probe_pie"}


def probe_paths(all_variants: bool = False) -> list[Path]:
    """The executor's --probe images, in contract.case.PROBE_VARIANTS order:
    the core probes, or with `all_variants` also the userspace callers of
    "search" cases (harness/userspace: fetches Debian's shells once)."""
    from contract.case import CORE_PROBE_VARIANTS, PROBE_VARIANTS
    out = [native(PROBES[v]) for v in CORE_PROBE_VARIANTS]
    if all_variants:
        from .userspace import image
        out += [image(v) for v in PROBE_VARIANTS[len(CORE_PROBE_VARIANTS):]]
    return out


def native(name: str) -> Path:
    """Path of a built native program, building all of them on first use."""
    out = build_dir()
    target = out / name
    if target.exists():
        return target
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:  # xdist workers build once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        if shutil.which(CC) is None:
            raise BuildError(f"no C compiler {CC!r}: install gcc (apt-get install gcc libc6-dev)")
        for prog, (src, flags) in PROGRAMS.items():
            tmp = out / f".{prog}.tmp"
            r = subprocess.run([CC, *flags, "-I", str(CONTRACT), "-o", str(tmp), str(NATIVE / src)],
                               capture_output=True, text=True)
            if r.returncode:
                raise BuildError(f"building {prog} failed:\n{r.stderr}")
            tmp.rename(out / prog)
    return target
