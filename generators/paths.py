"""Strategies for path resolution: a small random tree (directories, probes,
non-executable files, FIFOs, symlinks relative/absolute/dangling/looping)
and an exec path built from it with the decorations namei cares about:
"." and "..", repeated and trailing slashes, relative to a cwd, components
over NAME_MAX, names at PATH_MAX, and symlink chains around MAXSYMLINKS."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File

from .common import name_bytes, probe

NAMES = [b"a", b"b", b"bin", b"probe", b"x.sh", b"long-name-over-fifteen-bytes", b"\xff\xfe", b"sp ace"]


@st.composite
def trees(draw) -> list[File]:
    """Up to ~10 entries below / with unique paths."""
    files: dict[bytes, File] = {}
    dirs = [b""]
    for _ in range(draw(st.integers(1, 10))):
        parent = draw(st.sampled_from(dirs))
        name = draw(st.one_of(st.sampled_from(NAMES), name_bytes()))
        path = parent + b"/" + name
        if path in files or any(p.startswith(path + b"/") for p in files):
            continue
        kind = draw(st.sampled_from(["dir", "dir", "probe", "probe", "noexec", "xfile", "fifo", "link", "link"]))
        if kind == "dir":
            files[path] = File(path=path, type="dir", mode=draw(st.sampled_from([0o755, 0o700, 0o000, 0o111])))
            dirs.append(path)
        elif kind == "probe":
            files[path] = probe(path, tag=f"T{len(files)}",
                                mode=draw(st.sampled_from([0o755, 0o700, 0o100, 0o001, 0o010])))
        elif kind == "noexec":
            files[path] = probe(path, tag=f"N{len(files)}", mode=draw(st.sampled_from([0o644, 0o600, 0o000, 0o4644])))
        elif kind == "xfile":
            files[path] = File(path=path, type="file", mode=0o755,
                               data=draw(st.sampled_from([b"", b"\x7fEL", b"garbage", b"#!/bin/probe\n"])))
        elif kind == "fifo":
            files[path] = File(path=path, type="fifo", mode=draw(st.sampled_from([0o755, 0o644])))
        else:
            others = list(files) or [b"/nowhere"]
            tgt = draw(st.one_of(st.sampled_from(others), st.just(path), st.just(b"/nowhere"), st.just(b"."),
                                 st.just(b".."), st.sampled_from(others).map(lambda p: p.rsplit(b"/", 1)[-1] or b"x"),
                                 st.sampled_from(others).map(lambda p: p + b"/")))
            files[path] = File(path=path, type="symlink", mode=0o777, data=tgt)
    # the parents of nested paths exist as directories with default mode
    return list(files.values())


def decorate(draw, path: bytes) -> bytes:
    """Spellings of the same path (or a near miss) that exercise namei."""
    comps = [c for c in path.split(b"/") if c]
    how = draw(st.sampled_from(["plain", "plain", "dots", "slashes", "trailing", "dotdot", "relative",
                                "long-comp", "pathmax", "missing-tail"]))
    if how == "dots":
        return b"/" + b"/./".join(comps)
    if how == "slashes":
        return b"//" + b"///".join(comps)
    if how == "trailing":
        return path + draw(st.sampled_from([b"/", b"/.", b"//", b"/.."]))
    if how == "dotdot" and comps:
        return b"/" + b"/".join(comps[:-1] + [b"..", b"..", b"..", comps[-1]]) if len(comps) == 1 else \
            b"/" + comps[0] + b"/../" + b"/".join(comps)
    if how == "relative":
        return b"/".join(comps) or b"."
    if how == "long-comp":
        return path + b"/" + b"n" * draw(st.sampled_from([255, 256]))
    if how == "pathmax":
        # "./" repeated so the whole string is 4094..4097 bytes (PATH_MAX 4096 with its NUL)
        rel = b"/".join(comps) or b"."
        total = draw(st.integers(4094, 4097))
        pad = total - len(rel)
        return b"./" * (pad // 2) + (b"/" if pad % 2 else b"") + rel
    if how == "missing-tail":
        return path + b"x"
    return path


@st.composite
def path_cases(draw) -> Case:
    files = draw(trees())
    paths = [f.path for f in files]
    path = decorate(draw, draw(st.sampled_from(paths))) if paths else b"/"
    if draw(st.integers(0, 19)) == 0:
        path = draw(st.sampled_from([b"", b"/", b".", b"..", b"//"]))
    dirs = [b"/"] + [f.path for f in files if f.type == "dir"]
    cwd = draw(st.sampled_from(dirs))
    return Case(files=tuple(files), exec=Exec(path=path, argv=(b"x",), envp=(), cwd=cwd))


@st.composite
def symlink_chain_cases(draw) -> Case:
    """A chain of n symlinks (around MAXSYMLINKS = 40) ending in a probe,
    either all as the last component or nested as directories."""
    n = draw(st.sampled_from([1, 2, 39, 40, 41, 42]))
    as_dirs = draw(st.booleans())
    files = [probe(b"/d/p" if as_dirs else b"/p", "END")]
    if as_dirs:
        files.append(File(path=b"/d", type="dir", mode=0o755))
    prev = b"/d" if as_dirs else b"/p"
    for i in range(n):
        link = b"/l%d" % i
        files.append(File(path=link, type="symlink", mode=0o777,
                          data=prev if draw(st.booleans()) else prev.lstrip(b"/")))
        prev = link
    path = prev + b"/p" if as_dirs else prev
    return Case(files=tuple(files), exec=Exec(path=path, argv=(b"l",), envp=()))
