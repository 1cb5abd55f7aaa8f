"""Running a "search" case for real: the userspace caller inside the case root.

A case with `exec.syscall: "search"` names a caller (`exec.via`) that looks
`exec.path` up in `exec.PATH` and execs it, falling back on ENOEXEC as that
caller does (model/userspace.py predicts it).  `lower(case)` turns it into
an ordinary execve case the executor runs unchanged: the caller's program
is written into the case root as a probe variant (the executor treats any
image carrying the probe's tag marker as one) and is the case's exec'd file:

- execvp, execvpe, posix_spawnp: /.execspec/fallback (harness/native/fallback.c,
  static glibc), called as `fallback MODE STRIP NAME ARGV...`;
- dash, bash: Debian's binaries with their libraries (ld.so, libc, libtinfo),
  busybox: Debian's busybox-static as `sh`; each runs `-c 'exec "$@"' sh NAME ARGS`.

The shells come from Debian packages extracted into build/shells/ by
fetch-shells.sh (never installed).  The caller's environment is `envp`
with "PATH=<PATH>" first when the case gives a PATH.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path

from contract.case import Case, Exec, File

ROOT = Path(__file__).resolve().parents[2]
MARK = b"\x01EXECSPEC-PROBE-TAG\x01"
GLIBC = ("execvp", "execvpe", "posix_spawnp")
SHELLS = ("dash", "bash", "busybox")
VIAS = GLIBC + SHELLS
ERROR_TAG = "\x01fallback-errno"
HOME = b"/.execspec"
LIBDIR = b"/lib/x86_64-linux-gnu"
# probe variant -> (where it goes in the case root, the file in the extracted packages)
IMAGES = {
    "fallback": (HOME + b"/fallback", None),
    "dash": (HOME + b"/dash", "bin/dash"),
    "bash": (HOME + b"/bash", "bin/bash"),
    "busybox": (HOME + b"/busybox", "bin/busybox"),
    "ld.so": (b"/lib64/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
    "libc": (LIBDIR + b"/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"),
    "libtinfo": (LIBDIR + b"/libtinfo.so.6", "lib/x86_64-linux-gnu/libtinfo.so.6"),
}
NEEDS = {"execvp": ("fallback",), "execvpe": ("fallback",), "posix_spawnp": ("fallback",),
         "dash": ("dash", "ld.so", "libc"), "bash": ("bash", "ld.so", "libc", "libtinfo"),
         "busybox": ("busybox",)}
ARGV0 = {"dash": b"dash", "bash": b"bash", "busybox": b"sh"}
SCRIPT = b'exec "$@"'
RESERVED = (HOME, b"/lib64", b"/lib")  # a search case's own files stay out of these


class ShellsUnavailable(RuntimeError):
    pass


@cache
def packages(suite: str = "bookworm") -> Path:
    """The extracted Debian packages (fetched once, like the guest kernels)."""
    r = subprocess.run([str(ROOT / "harness" / "userspace" / "fetch-shells.sh"), suite],
                       capture_output=True, text=True)
    if r.returncode:
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise ShellsUnavailable(f"cannot fetch Debian's dash/bash/busybox-static ({suite}): {tail}")
    return Path(r.stdout.strip().splitlines()[-1])


MARKED_DIR: Path | None = None  # where marked images go (None: build/shells/marked; tests use their own)


@cache
def image(variant: str) -> Path:
    """The file the executor loads for a probe variant: the image with the
    probe's tag marker appended (a marker after an ELF's last byte changes
    nothing the loader reads)."""
    from harness import build
    if variant == "fallback":
        return build.native("fallback")
    member = IMAGES[variant][1]
    assert member is not None  # only the fallback launcher is ours, built above
    src = packages() / member
    src = src.resolve()
    out_dir = MARKED_DIR or build.build_dir().parent.parent / "shells" / "marked"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / variant
    want = src.stat().st_size + len(MARK) + 96
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime or out.stat().st_size != want:
        # per process: two xdist workers marking at once shared one ".tmp",
        # one truncating the other's copy (a 116-byte busybox: ENOEXEC)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        with open(tmp, "ab") as f:
            f.write(MARK + b"\0" * 96)
        tmp.chmod(0o755)
        tmp.rename(out)
    return out


def is_search(case: Case) -> bool:
    return case.exec.syscall == "search"


def caller_env(e: Exec) -> tuple[bytes, ...]:
    return ((b"PATH=" + e.search_path,) if e.search_path is not None else ()) + tuple(e.envp or ())


def lower(case: Case) -> Case:
    """The execve case that runs `case`'s caller in its root."""
    e = case.exec
    via = e.via
    assert via is not None, "a search case (contract.case checks exec.via)"
    files = list(case.files)
    have = {f.path for f in files}
    for v in NEEDS[via]:
        path = IMAGES[v][0]
        if path not in have:
            files.append(File(path=path, type="probe", mode=0o755, tag=via, variant=v))
    argv = list(e.argv or ())
    if via in GLIBC:
        args = [b"fallback", via.encode(), b"1" if e.search_path is not None else b"0", e.path or b""]
        args += argv if argv else [b"-"]
    else:
        args = [ARGV0[via], b"-c", SCRIPT, b"sh", e.path or b""] + argv[1:]
    ex = Exec(path=IMAGES[NEEDS[via][0]][0], argv=tuple(args), envp=caller_env(e), cwd=e.cwd,
              rlimit_stack=e.rlimit_stack)
    return replace(case, files=tuple(files), exec=ex)


def lift(outcome: dict, via: str) -> dict:
    """The launcher's errno report as the contract's `error` outcome; a
    shell's environment (its variable table, in hash order) sorted."""
    if outcome.get("outcome") == "exec" and outcome.get("tag") == ERROR_TAG:
        import errno as errno_mod
        n = int(outcome["argv"][0])
        return {"outcome": "error", "errno": errno_mod.errorcode.get(n, str(n))}
    if via in SHELLS and "envp" in outcome:
        outcome = {**outcome, "envp": sorted(outcome["envp"])}
    return outcome
