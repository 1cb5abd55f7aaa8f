""""search" cases: a userspace caller (glibc execvp/execvpe/posix_spawnp,
dash, bash, busybox sh) looks a name up in PATH and execs it, falling back
on ENOEXEC its own way (model/userspace.py).  The case root holds, under
each PATH directory, what that caller may meet: a probe, a file without
execute permission, a directory, a script without "#!" (whose body execs
the probe /bin/t with "$0" "$@", so the argv shows the fallback), a binary-
looking file, an empty file, "#!" scripts (one with a missing interpreter),
symlinks; /bin/sh and /proc/self/exe are probes when present, so the
callers' fallbacks report who they ran and with which argv."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import SEARCH_VIAS, Case, Exec, File

DIRS = (b"/a", b"/b", b"/bin", b"/usr/bin", b"/usr/local/bin", b"/sbin")
NAMES = (b"prog", b"tool")
SCRIPT = b'exec /bin/t "$0" "$@"\n'
KINDS = ("probe", "noexec", "dir", "script", "binary", "empty", "shebang", "shebang-missing", "symlink",
         "dangling", "elf-text")


def entry(path: bytes, kind: str, tag: str) -> list[File]:
    if kind == "probe":
        return [File(path=path, type="probe", mode=0o755, tag=tag)]
    if kind == "noexec":
        return [File(path=path, type="file", mode=0o644, data=b"x\n")]
    if kind == "dir":
        return [File(path=path, type="dir", mode=0o755)]
    if kind == "script":
        return [File(path=path, type="file", mode=0o755, data=SCRIPT)]
    if kind == "binary":
        return [File(path=path, type="file", mode=0o755, data=b"\x01\x02\x00data\n")]
    if kind == "elf-text":  # ELF magic: bash and dash refuse it, glibc and busybox hand it to a shell
        return [File(path=path, type="file", mode=0o755, data=b"\x7fELF junk\n")]
    if kind == "empty":
        return [File(path=path, type="file", mode=0o755, data=b"")]
    if kind == "shebang":
        return [File(path=path, type="file", mode=0o755, data=b"#!/bin/t -s\n")]
    if kind == "shebang-missing":
        return [File(path=path, type="file", mode=0o755, data=b"#!/nonexistent\n")]
    if kind == "symlink":
        return [File(path=path, type="symlink", mode=0o777, data=b"/bin/t")]
    if kind == "dangling":
        return [File(path=path, type="symlink", mode=0o777, data=b"/nowhere")]
    raise ValueError(kind)


@st.composite
def search_cases(draw, via: str | None = None) -> Case:
    via = via or draw(st.sampled_from(SEARCH_VIAS))
    name = draw(st.sampled_from(NAMES))
    files: dict[bytes, File] = {}
    for f in [File(path=b"/bin/t", type="probe", mode=0o755, tag="T")]:
        files[f.path] = f
    placed = draw(st.lists(st.tuples(st.sampled_from(DIRS), st.sampled_from(KINDS)), min_size=0, max_size=4,
                           unique_by=lambda t: t[0]))
    for d, kind in placed:
        for f in entry(d + b"/" + name, kind, tag=d.decode().strip("/").replace("/", "_")):
            files.setdefault(f.path, f)
    if draw(st.booleans()):
        files[b"/bin/sh"] = File(path=b"/bin/sh", type="probe", mode=0o755, tag="sh")
    if draw(st.booleans()):
        files[b"/proc/self/exe"] = File(path=b"/proc/self/exe", type="probe", mode=0o755, tag="self")
    if draw(st.booleans()):
        elems = draw(st.lists(st.sampled_from(DIRS + (b"", b"/nonexistent", b"/bin/t")), min_size=1, max_size=4))
        path = b":".join(elems)
    else:
        path = None
    cwd = draw(st.sampled_from((b"/", b"/a", b"/bin")))
    if cwd != b"/" and not any(p.startswith(cwd + b"/") or p == cwd for p in files):
        files[cwd] = File(path=cwd, type="dir", mode=0o755)
    how = draw(st.sampled_from(("bare", "bare", "bare", "slash", "dotslash")))
    if how == "slash" and placed:
        name = placed[0][0] + b"/" + name
    elif how == "dotslash":
        name = b"./" + name
    argv = draw(st.sampled_from(((b"A0",), (b"A0", b"1"), (b"A0", b"x y", b""), ())))
    if via in ("dash", "bash", "busybox") and not argv:
        argv = (b"A0",)
    envp = draw(st.sampled_from(((b"K=V",), (), (b"K=V", b"L=w z"))))
    return Case(files=tuple(files.values()), name=f"search-{via}",
                exec=Exec(path=name, argv=argv, envp=envp, cwd=cwd, syscall="search", via=via, search_path=path))
