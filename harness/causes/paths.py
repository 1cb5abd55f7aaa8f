"""Edits of the call's path and the case's permissions: PATH_MAX and
near it, an empty path, a trailing '/', symlink loops and absolute symlink
targets, unsearchable directories, execute-only programs, an owner without
the x bit, and an execveat() made as the execve() of its name."""
from __future__ import annotations

from dataclasses import replace

from contract.case import Case, File

from .tree import PATH_MAX, _absolute, _norm, _probe_at, _put, program, resolve, walk


def long_path(case: Case) -> tuple[str, Case] | None:
    """A program path of PATH_MAX bytes or more (Linux: ENAMETOOLONG): a
    short path naming nothing instead (Linux: ENOENT)."""
    p = case.exec.path
    if not p or len(p) < PATH_MAX:
        return None
    return ("a program path of PATH_MAX (4096) bytes or more",
            replace(case, exec=replace(case.exec, path=b"/.execspec-edit-missing")))


NEAR_PATH_MAX = PATH_MAX - 512  # a simulator's own root prefix is shorter than this margin


def near_path_max(case: Case) -> tuple[str, Case] | None:
    """A program path Linux takes (under PATH_MAX) that a simulator which
    prepends its root's path makes too long (PRoot: ENAMETOOLONG): the same
    path without its '.', '..' and doubled '/' (the same file, lexically)."""
    p = case.exec.path
    dotdot = b".." in p.split(b"/") if p else False
    if not p or not NEAR_PATH_MAX <= len(p) < PATH_MAX or (dotdot and any(f.type == "symlink" for f in case.files)) \
            or (p[:1] != b"/" and dotdot):
        return None  # ('..' after a symlink is not lexical; a relative '..' climbs from the cwd; '.' always is)
    short = _norm(p) if p[:1] == b"/" else _norm(b"/" + p)[1:] or b"."
    if len(short) >= NEAR_PATH_MAX:
        return None
    return (f"a program path of {NEAR_PATH_MAX} bytes or more, under PATH_MAX (the simulator's root makes it longer)",
            replace(case, exec=replace(case.exec, path=short)))


def empty_path(case: Case) -> tuple[str, Case] | None:
    """execve("") (Linux: ENOENT): the same call on a name that does not
    exist, which Linux fails alike."""
    if case.exec.path != b"" or case.exec.syscall not in ("execve", None):
        return None
    return "an empty program path", replace(case, exec=replace(case.exec, path=b"/.execspec-edit-missing"))


def unsearchable_dirs(case: Case) -> tuple[str, Case] | None:
    """Directories without search permission: made searchable (0755)."""
    shut = [f for f in case.files if f.type == "dir" and not f.mode & 0o111]
    if not shut:
        return None
    cwd = _norm(case.exec.cwd or b"/")
    where = "the cwd" if any(_norm(f.path) == cwd for f in shut) else "a directory of the case"
    files = tuple(replace(f, mode=0o755) if f in shut else f for f in case.files)
    return f"{where} without search permission", replace(case, files=files)


def execute_only(case: Case) -> tuple[str, Case] | None:
    """An executable the caller may not read (mode 0111, 0001...): made readable."""
    f = program(case)
    if f is None or f.type not in ("file", "probe") or not f.mode & 0o111 or f.mode & 0o444:
        return None
    return ("an execute-only program (runnable, not readable)",
            _put(case, f.path, replace(f, mode=f.mode | 0o444)))


def owner_x(case: Case) -> tuple[str, Case] | None:
    """A program with an x bit for group or others but not for its owner:
    Linux lets the case's root (its owner) run it -- any x bit will do for
    root (generic_permission) -- a simulator that checks the owner's bits
    itself refuses it.  The owner's x bit added."""
    f = program(case)
    if f is None or f.type not in ("file", "probe") or not f.mode & 0o011 or f.mode & 0o100:
        return None
    return ("a program whose owner has no x bit (only group or others: Linux lets root run it)",
            _put(case, f.path, replace(f, mode=f.mode | 0o100)))


def _strip_ending(p: bytes) -> bytes:
    while len(p) > 1 and (p.endswith(b"/") or p.endswith(b"/.")):
        p = p[:-1] if p.endswith(b"/") else p[:-2]
    return p


FILE_AS_DIRECTORY = "a file named as a directory in the program path ('/' or more after it; Linux: ENOTDIR)"


def file_as_directory(case: Case) -> tuple[str, Case] | None:
    """A file named as a directory: a program path ending in '/' or '/.',
    or reached through a symlink whose target does (the endings dropped,
    path and symlink targets), or a path that goes on past a file (that file
    made a directory: what comes after it is then simply missing)."""
    p = case.exec.path or b""
    links = [f for f in case.files if f.type == "symlink" and _strip_ending(f.data) != f.data]
    if _strip_ending(p) != p or links:
        files = tuple(replace(f, data=_strip_ending(f.data)) if f in links else f for f in case.files)
        return FILE_AS_DIRECTORY, replace(case, files=files, exec=replace(case.exec, path=_strip_ending(p)))
    parts = p.split(b"/")
    for i in range(1, len(parts) - 1):
        f = resolve(case, b"/".join(parts[:i + 1]) or b"/")
        if f is not None and f.type not in ("dir", "symlink"):
            return FILE_AS_DIRECTORY, _put(case, f.path, File(path=f.path, type="dir", mode=0o755))
    return None


def symlink_loop(case: Case) -> tuple[str, Case] | None:
    """A program path through symlinks that never end: the links dropped
    and a probe put at the path."""
    p = case.exec.path
    if not p or walk(case, p)[0] != "loop":
        return None
    at = _norm(_absolute(case, p))
    files = tuple(f for f in case.files if f.type != "symlink")
    return "a symlink loop on the program's path", _put(replace(case, files=files), at, _probe_at(at))


def absolute_links(case: Case) -> tuple[str, Case] | None:
    """Symlinks with an absolute target: each made relative to its own
    directory (same file for Linux).  A simulator that translates only the
    paths it is given leaves the kernel to follow an absolute target from
    the host's root (fakechroot)."""
    links = [f for f in case.files if f.type == "symlink" and f.data[:1] == b"/"]
    if not links:
        return None

    def relative(f: File) -> bytes:
        up = _norm(f.path).count(b"/") - 1  # directories between the root and the link
        return b"/".join([b".."] * up + [f.data.lstrip(b"/")]) if up else f.data.lstrip(b"/") or b"."
    files = tuple(replace(f, data=relative(f)) if f in links else f for f in case.files)
    return "an absolute symlink target", replace(case, files=files)


def _as_execve(c: Case) -> Case | None:
    """An execveat() as the execve() of the name it is given (flags
    dropped): a dirfd given by path joined to the name; a raw descriptor
    number or AT_FDCWD (with AT_EMPTY_PATH and an empty name: the cwd, ".")
    dropped, the name taken from the cwd.  Agreeing then, or failing
    otherwise, the simulator's execveat() (its own dirfd handling) is the
    cause, whichever errno it gets wrong."""
    e = c.exec
    if e.syscall != "execveat" or e.memfd is not None or e.after_open:
        return None
    if not e.path:
        path = e.dirfd if isinstance(e.dirfd, bytes) else b"."
    elif e.path[:1] == b"/" or not isinstance(e.dirfd, bytes):
        path = e.path
    else:
        path = e.dirfd.rstrip(b"/") + b"/" + e.path
    return replace(c, exec=replace(e, syscall="execve", path=path, dirfd=None, flags=(), dirfd_cloexec=False,
                                   dirfd_opath=False))


def directory_program(case: Case) -> tuple[str, Case] | None:
    """The program is a directory (Linux: EACCES, do_open_execat() wants a
    regular file): a regular file without an x bit in its place, which
    Linux refuses with EACCES too (fakechroot: ENOENT for the directory,
    EACCES for the file)."""
    f = program(case)
    if f is None or f.type != "dir":
        return None
    return ("a directory as the program (Linux: EACCES)",
            _put(case, f.path, File(path=f.path, type="file", mode=0o644, data=b"")))


NAME_MAX = 255  # a path component Linux takes whole; one byte more is ENAMETOOLONG


def name_max(case: Case) -> tuple[str, Case] | None:
    """A component of exactly NAME_MAX bytes in the program path, which
    Linux takes (PRoot: ENAMETOOLONG, proot-me/proot#391): that component
    renamed short, in the path and in the case's files alike."""
    p = case.exec.path
    if not p or all(len(c) != NAME_MAX for c in p.split(b"/")):
        return None

    def short(path: bytes) -> bytes:
        return b"/".join(b"name-max" if len(c) == NAME_MAX else c for c in path.split(b"/"))
    files = tuple(replace(f, path=short(f.path)) for f in case.files)
    return ("a path component of NAME_MAX (255) bytes, which Linux takes",
            replace(case, files=files, exec=replace(case.exec, path=short(p))))
