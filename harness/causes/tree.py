"""The case's files as exec would find them: paths resolved through the
case's own symlinks (lexically), the program a call names, and a case with
one file replaced -- what every edit of harness/causes works on."""
from __future__ import annotations

from dataclasses import replace

from contract.case import Case, File

PATH_MAX = 4096


def _norm(path: bytes) -> bytes:
    out: list[bytes] = []
    for c in path.split(b"/"):
        if c in (b"", b"."):
            continue
        if c == b"..":
            if out:
                out.pop()
            continue
        out.append(c)
    return b"/" + b"/".join(out)


def _absolute(case: Case, path: bytes) -> bytes:
    return path if path[:1] == b"/" else (case.exec.cwd or b"/").rstrip(b"/") + b"/" + path


def resolve(case: Case, path: bytes, hops: int = 40) -> File | None:
    """The case file `path` names (symlinks among the case's files followed
    lexically), or None when no file of the case is there."""
    return walk(case, path, hops)[1]


def walk(case: Case, path: bytes, hops: int = 40) -> tuple[str, File | None]:
    """("file", the file), ("missing", None) or ("loop", None): more than
    `hops` symlinks on the way."""
    by = {_norm(f.path): f for f in case.files}
    p = _norm(_absolute(case, path))
    for _ in range(hops):
        # a symlink on the way: follow it (the last one first found)
        parts = p.split(b"/")
        for i in range(2, len(parts) + 1):
            head = b"/".join(parts[:i])
            f = by.get(head)
            if f is not None and f.type == "symlink":
                base = head.rsplit(b"/", 1)[0] or b"/"
                tgt = f.data if f.data[:1] == b"/" else base.rstrip(b"/") + b"/" + f.data
                p = _norm(tgt + b"/" + b"/".join(parts[i:]))
                break
        else:
            f = by.get(p)
            return ("file", f) if f is not None else ("missing", None)
    return "loop", None


def program(case: Case) -> File | None:
    e = case.exec
    if e.syscall not in ("execve", None) and not (e.syscall == "execveat" and e.dirfd is None):
        return None
    return resolve(case, e.path) if e.path else None


def _put(case: Case, path: bytes, new: File | None) -> Case:
    """`case` with the file at `path` (and anything under it) replaced by `new`."""
    p = _norm(path)
    files = [f for f in case.files if not (_norm(f.path) == p or _norm(f.path).startswith(p + b"/"))]
    return replace(case, files=tuple(files + ([new] if new is not None else [])))


def _probe_at(path: bytes, variant: str = "static", writer: File | None = None) -> File:
    """A probe at `path`; held open for writing where `writer` (the file it
    replaces) was, so an ETXTBSY stays the writers' edit's to name."""
    return File(path=path, type="probe", mode=0o755, tag="EDIT", variant=variant,
                open_for_write=bool(writer and writer.open_for_write))


def without_creds(case: Case) -> Case:
    """The case without credentials: files owned by the case's root, no
    set-id bits or file capabilities; the call made as that root, without
    no_new_privs or securebits.  (Not an edit that names a cause: the
    report falls back to it where the reproducer cannot write credentials.)"""
    files = tuple(replace(f, uid=0, gid=0, mode=f.mode & ~0o6000, caps=None) for f in case.files)
    return replace(case, files=files, exec=replace(case.exec, uid=None, gid=None, groups=None, no_new_privs=False,
                                                    securebits=()))
