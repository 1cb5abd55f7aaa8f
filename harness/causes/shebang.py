"""Edits of #! scripts: the interpreter a line names, a line naming none,
chains past Linux's 5 rewrites, a \\r in the line, lines longer than an old
128-byte buffer keeps, and the script run through its interpreter directly."""
from __future__ import annotations

from dataclasses import replace

from contract.case import Case, File

from .elf import describe
from .tree import _absolute, _norm, _probe_at, _put, program, resolve

SHEBANG_DEPTH = 5  # exec_binprm(): more #! (or misc) rewrites than this is ELOOP


def shebang_interp(data: bytes) -> bytes | None:
    """The interpreter path of a #! line, as load_script() splits it."""
    if data[:2] != b"#!":
        return None
    line = data[2:256].split(b"\n", 1)[0].lstrip(b" \t")
    name = line.split(b" ", 1)[0].split(b"\t", 1)[0].split(b"\0", 1)[0]
    return name or None


def empty_shebang(case: Case) -> tuple[str, Case] | None:
    """The program is a #! line naming no interpreter: given a probe as one."""
    f = program(case)
    if f is None or f.type != "file" or f.data[:2] != b"#!" or shebang_interp(f.data) is not None:
        return None
    line, nl, rest = f.data.partition(b"\n")  # (a long line of blanks names none either)
    at = b"/.execspec-edit-interp"
    return ("a #! line naming no interpreter",
            _put(_put(case, f.path, replace(f, data=b"#!" + at + nl + rest)), at, _probe_at(at)))


def script_direct(case: Case) -> tuple[str, Case] | None:
    """The program is a #! script (or a chain of them, within Linux's 5
    rewrites): the exec made of the last interpreter directly, with the argv
    Linux gives it ([name, (arg), path, argv[1:]...] at each rewrite, the
    line split by the model's load_script()).  Agreeing then, the
    simulator's handling of #! scripts as such is the cause (qemu-user
    loads ELF programs only)."""
    from model.binfmt_script import parse_shebang
    from model.errors import Errno
    e = case.exec
    if not e.argv or not e.path:
        return None
    path, argv = e.path, e.argv
    for _ in range(SHEBANG_DEPTH + 1):  # 5 rewrites run; a 6th script is ELOOP
        f = resolve(case, path)
        if f is None or f.type != "file" or f.data[:2] != b"#!":
            break
        try:
            name, arg = parse_shebang(f.data[:256].ljust(256, b"\0"))  # the buffer as prepare_binprm() fills it
        except Errno:
            return None
        if not name or b"\r" in name:
            return None
        path, argv = name, (name, *((arg,) if arg is not None else ()), path, *argv[1:])
    else:
        return None  # past Linux's limit: not a script Linux runs
    if path == e.path:
        return None  # not a script
    return "a #! script as the program (run through its interpreter directly, it agrees)", \
        replace(case, exec=replace(e, path=path, argv=argv))


def shebang_chain(case: Case, f: File) -> tuple[int, bool]:
    """How many #! scripts follow one another from `f`, and whether they loop."""
    seen: list[bytes] = []
    cur: File | None = f
    while cur is not None and cur.type == "file" and (ip := shebang_interp(cur.data)) is not None:
        if cur.path in seen:
            return len(seen), True
        seen.append(cur.path)
        cur = resolve(case, ip)
    return len(seen), False


def shebang_interpreter(case: Case) -> tuple[str, Case] | None:
    """The program is a #! script whose interpreter is odd (missing, a
    directory, not executable, itself a script...): the interpreter replaced
    by a probe."""
    f = program(case)
    if f is None or f.type != "file" or (ip := shebang_interp(f.data)) is None or b"\r" in ip \
            or len(f.data.split(b"\n", 1)[0]) > 127:
        return None  # \r and long lines: their own edits (causes.EDITS)
    interp = resolve(case, ip)
    if interp is not None and interp.type == "probe" and describe(interp) in (
            "a probe", "a static ET_EXEC program (not position-independent)"):
        return None  # an ordinary interpreter: nothing to repair (a writer is the writers' edit)
    what = describe(interp)
    if what == "a #! script" and interp is not None:
        n, loop = shebang_chain(case, interp)
        if loop or n + 1 > SHEBANG_DEPTH:  # a loop is a chain without end: one cause
            what = f"a #! script, in a chain of more than {SHEBANG_DEPTH} #! rewrites or a loop (Linux: ELOOP)"
        else:
            what = "itself a #! script (nested #!, within Linux's 5 rewrites)"
    target = _norm(_absolute(case, ip))
    if interp is not None:
        target = _norm(interp.path)
    return f"a #! interpreter that is {what}", _put(case, target, _probe_at(target, writer=interp))


def _replace_files(case: Case, fn) -> Case:
    return replace(case, files=tuple(fn(f) for f in case.files))


SHORT_SHEBANG = 127  # every #! parser we know keeps at least this much of the line (old BINPRM_BUF_SIZE 128)


def _long_shebang(f: File) -> bool:
    # a line of exactly 127 bytes fills such a buffer without its newline: PRoot
    # then keeps a trailing blank Linux strips, so it counts as long too
    return f.type == "file" and f.data[:2] == b"#!" and len(f.data.split(b"\n", 1)[0]) >= SHORT_SHEBANG


def _cut_shebang(data: bytes) -> bytes:
    line, nl, rest = data.partition(b"\n")
    return line[:SHORT_SHEBANG - 1] + nl + rest


def _no_cr(c: Case) -> Case | None:
    """The \\r dropped from every #! line, and from the name of a file such
    a line names (so an interpreter whose name has the \\r is still found,
    and Linux still runs what it ran)."""
    lines = [f.data.split(b"\n", 1)[0] for f in c.files if f.type != "symlink" and f.data[:2] == b"#!"]
    if not any(b"\r" in line for line in lines):
        return None
    named = {line[2:].strip(b" \t").split(b" ", 1)[0].split(b"\t", 1)[0] for line in lines}
    return _replace_files(c, lambda f: replace(
        f, path=f.path.replace(b"\r", b"") if f.path in named else f.path,
        data=f.data.replace(b"\r", b"") if f.type != "symlink" and f.data[:2] == b"#!" else f.data))


def blank_end(case: Case) -> tuple[str, Case] | None:
    """A #! line that ends in a blank with no newline in the buffer: Linux's
    load_script() then passes an empty argument (measured: '#!/bin/probe\\t'
    gives argv [/bin/probe, "", script]), which a #! parser of its own may
    drop (fakechroot).  The trailing blanks removed: no empty argument."""
    odd = [f for f in case.files if f.type == "file" and f.data[:2] == b"#!" and b"\n" not in f.data[:256]
           and f.data.rstrip(b"\0")[-1:] in (b" ", b"\t")]
    if not odd:
        return None
    return ("a #! line ending in a blank, without a newline (Linux passes an empty argument)",
            _replace_files(case, lambda f: replace(f, data=f.data.rstrip(b"\0").rstrip(b" \t")) if f in odd else f))
