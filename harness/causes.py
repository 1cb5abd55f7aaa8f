"""One-change edits that name what in a case triggers a divergence.

Each edit looks for one feature of the case (a #! interpreter that is a
directory, an ELF header field Linux refuses, an unsearchable cwd, ...),
and, when the case has it, returns (cause, edited case): the cause named
after the feature as this case has it, and the case with just that feature
repaired (the interpreter replaced by a probe, the field given its usual
value, the directory made searchable).  harness/report.py runs the edited
case on the simulator and the model: if the divergence vanishes (or turns
into another class while the simulator acts differently), the feature is
the class's cause.  Two classes with the same cause are one; the subsets
of a merged class with different causes are separate classes.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace

from contract.case import Case, File
from generators.elfbuild import EHDR_FIELDS, LAYOUT, PAGE, PF_R, PF_W, PF_X, PHDR_FIELDS, PT_LOAD, field_at

Edit = Callable[[Case], "tuple[str, Case] | None"]

PT_INTERP, PT_NULL = 3, 0
EM_X86_64, EM_386 = 62, 3
ET_EXEC, ET_DYN = 2, 3
SHEBANG_DEPTH = 5  # exec_binprm(): more #! (or misc) rewrites than this is ELOOP


# ------------------------------------------------------------------ the case's files

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


# ------------------------------------------------------------------ what a file is

def describe(f: File | None) -> str:
    """What a file is, as far as exec cares."""
    if f is None:
        return "missing"
    if f.type != "file" and f.type != "probe":
        return {"dir": "a directory", "fifo": "a FIFO", "symlink": "a symlink"}.get(f.type, f"a {f.type}")
    if not f.mode & 0o111:  # named without the mode: one cause whatever the bits
        return "not executable (no x bit)"
    if not f.mode & 0o444:
        return "execute-only (no r bit)"
    if f.type == "probe":
        return "a static ET_EXEC program (not position-independent)" if f.variant == "static" else "a probe"
    d = f.data
    if d[:2] == b"#!":
        return "a #! script"
    if d[:4] != b"\x7fELF":
        return "an empty file" if not d else "neither ELF nor #!"
    if len(d) < 64:
        return f"a truncated ELF ({len(d)} bytes)"
    cls, (etype, machine) = d[4], struct.unpack_from("<HH", d, 16)
    if machine not in (EM_X86_64, EM_386):
        return "an ELF for another machine"
    if etype not in (ET_EXEC, ET_DYN):
        return "an ELF of e_type neither ET_EXEC nor ET_DYN"
    if cls == 1 or machine == EM_386:
        return "an ia32 (32-bit) ELF"
    odd = anomalies(d)
    return f"a crafted ELF with {odd[0]}" if odd else "a crafted ELF"


# ------------------------------------------------------------------ #! lines

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
            name, arg = parse_shebang(f.data[:256])
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
        return None  # \r and long lines: their own edits (report.EDITS)
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


# ------------------------------------------------------------------ ELF headers

def _ehdr(d: bytes) -> dict | None:
    """The ELF header fields exec reads, with where each lies in the file
    ("at": name -> (offset, format)), from generators/elfbuild.py's layouts."""
    if d[:4] != b"\x7fELF" or len(d) < 52:
        return None
    layout = 1 if struct.unpack_from("<H", d, 18)[0] == EM_386 else 2
    eh, ph = LAYOUT[layout]
    if len(d) < eh.size:
        return None
    h = dict(zip(EHDR_FIELDS, eh.unpack_from(d)))
    at = {n: field_at(eh, EHDR_FIELDS, n) for n in ("type", "machine", "entry", "phoff", "phentsize", "phnum")}
    return {**h, "layout": layout, "at": at, "ehsize": eh.size, "phsize": ph.size}


def segments(d: bytes) -> list[dict]:
    """The program headers that fit in the file, each with its index and
    position ("pos"), when e_phentsize is the layout's own."""
    h = _ehdr(d)
    if h is None or h["phentsize"] != h["phsize"]:
        return []
    ph = LAYOUT[h["layout"]][1]
    out = []
    for i in range(min(h["phnum"], 512)):
        o = h["phoff"] + i * ph.size
        if o + ph.size > len(d):
            break
        out.append({**dict(zip(PHDR_FIELDS[h["layout"]], ph.unpack_from(d, o))), "index": i, "pos": o})
    return out


def phdrs(d: bytes) -> list[tuple[int, int, int, int]]:
    """(index, p_type, p_offset, p_filesz) of the program headers that fit in the file."""
    return [(s["index"], s["type"], s["offset"], s["filesz"]) for s in segments(d)]


def _set_at(d: bytes, at: tuple[int, str], v: int) -> bytes:
    return _set(d, at[0], at[1], v)


def _set_seg(d: bytes, s: dict, name: str, v: int) -> bytes:
    h = _ehdr(d)
    assert h is not None
    off, fmt = field_at(LAYOUT[h["layout"]][1], PHDR_FIELDS[h["layout"]], name)
    return _set(d, s["pos"] + off, fmt, v)


def pt_interp(d: bytes) -> bytes | None:
    """The path the first PT_INTERP names, as load_elf_binary() reads it."""
    for _, t, off, fsz in phdrs(d):
        if t == PT_INTERP and 2 <= fsz and off + fsz <= len(d):
            return d[off:off + fsz].split(b"\0", 1)[0]
    return None


def _set(d: bytes, pos: int, fmt: str, v: int) -> bytes:
    b = bytearray(d)
    struct.pack_into(fmt, b, pos, v)
    return bytes(b)


def _field_fixes(d: bytes) -> list[tuple[str, bytes]]:
    """Each non-standard ELF header field of `d`, with `d` where only that
    field has its usual value."""
    h = _ehdr(d)
    if h is None:
        return []
    out = []
    for pos, name, good in ((4, "EI_CLASS", h["layout"]), (5, "EI_DATA", 1), (6, "EI_VERSION", 1),
                            (7, "EI_OSABI", 0)):
        if d[pos] != good and not (name == "EI_OSABI" and d[pos] == 3):  # 3: ELFOSABI_LINUX
            # named without the value: one cause whatever odd value the case has
            out.append((f"ELF header {name} not the usual one", _set(d, pos, "B", good)))
    if h["type"] not in (ET_EXEC, ET_DYN):
        out.append(("ELF e_type neither ET_EXEC nor ET_DYN", _set_at(d, h["at"]["type"], ET_EXEC)))
    if h["machine"] not in (EM_X86_64, EM_386):
        out.append(("ELF e_machine another machine's", _set_at(d, h["at"]["machine"], EM_X86_64)))
    size = h["phsize"]
    pos, fmt = h["at"]["phentsize"]
    if h["phentsize"] != size:
        out.append(("ELF e_phentsize not the program header's size", _set(d, pos, fmt, size)))
    pos, fmt = h["at"]["phoff"]
    if h["phoff"] + size > len(d) and len(d) >= h["ehsize"] + size:
        out.append(("ELF e_phoff past the end of the file", _set(d, pos, fmt, h["ehsize"])))
    pos, fmt = h["at"]["phnum"]
    fit = max(0, (len(d) - h["phoff"]) // size) if h["phoff"] < len(d) else 0
    phnum_cause = "ELF e_phnum not the program headers the file has (0, or past its end)"  # one cause, 0 or too many
    if h["phnum"] == 0 and fit:
        out.append((phnum_cause, _set(d, pos, fmt, 1)))
    elif h["phnum"] > fit and fit:
        out.append((phnum_cause, _set(d, pos, fmt, fit)))
    interps = [i for i, t, _, _ in phdrs(d) if t == PT_INTERP]
    if len(interps) > 1:
        b = d
        for i in interps[1:]:
            b = _set(b, h["phoff"] + i * size, "<I", PT_NULL)
        out.append(("an ELF with more than one PT_INTERP (Linux uses the first)", b))
    return out


PATH_MAX = 4096


def _bad_interp(d: bytes) -> list[tuple[str, bytes]]:
    """The first PT_INTERP, when load_elf_binary() cannot read a name from
    it: the entry dropped (PT_NULL), so the program is static."""
    h = _ehdr(d)
    if h is None:
        return []
    for i, t, off, fsz in phdrs(d):
        if t != PT_INTERP:
            continue
        if off + fsz > len(d):
            what = "its name past the end of the file"
        elif fsz < 2 or fsz > PATH_MAX:
            what = "a name size under 2 or over PATH_MAX"
        elif d[off + fsz - 1] != 0:
            what = "a name without its NUL"
        else:
            return []
        return [(f"an ELF PT_INTERP entry with {what}", _set(d, h["phoff"] + i * h["phentsize"], "<I", PT_NULL))]
    return []


def _segment_fixes(d: bytes) -> list[tuple[str, bytes]]:
    """Each odd PT_LOAD layout of `d` (what the kernel's elf_load() and
    padzero() and a simulator's own loader may treat differently), with
    `d` where every PT_LOAD that has it is repaired: the bss dropped, the
    file padded, PF_X added where the entry point lies."""
    from model.binfmt_elf import COMPAT, NATIVE
    h = _ehdr(d)
    if h is None:
        return []
    loads = [s for s in segments(d) if s["type"] == PT_LOAD]
    task = (NATIVE if h["layout"] == 2 else COMPAT).task_size
    out: list[tuple[str, bytes]] = []

    def fix(what: str, bad: list[dict], edit: Callable[[bytes, dict], bytes]) -> None:
        if bad:
            b = d
            for s in bad:
                b = edit(b, s)
            out.append((what, b))

    def no_bss(b: bytes, s: dict) -> bytes:
        return _set_seg(b, s, "memsz", s["filesz"])
    huge = [s for s in loads if s["filesz"] < s["memsz"] and s["vaddr"] + s["memsz"] > task]
    fix("a PT_LOAD whose p_memsz reaches past the end of the address space", huge, no_bss)
    fix("a PT_LOAD with a bss (p_memsz over p_filesz) but without PF_W",
        [s for s in loads if s["filesz"] < s["memsz"] and not s["flags"] & PF_W and s not in huge], no_bss)
    fix("a PT_LOAD whose file range runs past the end of the file",
        [s for s in loads if len(d) < s["offset"] + s["filesz"] <= len(d) + (1 << 20)],
        lambda b, s: b.ljust(s["offset"] + s["filesz"], b"\0"))
    fix("a PT_LOAD with p_filesz over p_memsz", [s for s in loads if s["filesz"] > s["memsz"]],
        lambda b, s: _set_seg(b, s, "memsz", s["filesz"]))
    fix("a PT_LOAD whose p_offset and p_vaddr differ modulo the page size (mmap refuses it)",
        [s for s in loads if (s["offset"] - s["vaddr"]) % PAGE],
        lambda b, s: _set_seg(b, s, "offset", s["offset"] - s["offset"] % PAGE + s["vaddr"] % PAGE))
    at = [s for s in loads if s["vaddr"] <= h["entry"] < s["vaddr"] + s["memsz"]]
    fix("its entry point in a PT_LOAD without PF_X", at if not any(s["flags"] & PF_X for s in at) else [],
        lambda b, s: _set_seg(b, s, "flags", s["flags"] | PF_R | PF_X))
    return out


def anomalies(d: bytes) -> list[str]:
    """What is odd about an ELF's PT_LOADs, in words (no edit for the first two)."""
    h = _ehdr(d)
    if h is None:
        return []
    loads = [s for s in segments(d) if s["type"] == PT_LOAD]
    if not loads:
        return ["no PT_LOAD"]
    out = [what for what, _ in _segment_fixes(d)]
    if not any(s["vaddr"] <= h["entry"] < s["vaddr"] + s["memsz"] for s in loads):
        out.append("its entry point outside every PT_LOAD")
    return out


def elf_fields(case: Case) -> list[tuple[str, Case]]:
    f = program(case)
    if f is None or f.type != "file":
        return []
    return [(name, _put(case, f.path, replace(f, data=d))) for name, d in _field_fixes(f.data) + _bad_interp(f.data)
            + [(f"an ELF program with {what}", d) for what, d in _segment_fixes(f.data)]]


def elf_interpreter(case: Case) -> tuple[str, Case] | None:
    """The program is an ELF whose PT_INTERP names an odd file: that file
    replaced by a position-independent probe (what an ld.so is)."""
    f = program(case)
    if f is None or f.type != "file" or (ip := pt_interp(f.data)) is None or not ip:
        return None
    interp = resolve(case, ip)
    if interp is not None and interp.type == "probe" and interp.variant != "static" and interp.mode & 0o555 == 0o555:
        return None
    target = _norm(interp.path) if interp is not None else _norm(_absolute(case, ip))
    what = describe(interp)
    if what in ("a #! script", "an empty file", "neither ELF nor #!") or what.startswith("a truncated ELF"):
        what = "not an ELF (no whole ELF header: a script, an empty or a truncated file)"
    elif what.startswith(("an ELF for another machine", "an ELF of e_type")) or (
            what == "an ia32 (32-bit) ELF" and (fh := _ehdr(f.data)) is not None and fh["machine"] != EM_386):
        what = "an ELF Linux does not accept as interpreter (another machine than the program's, or type)"
    return (f"an ELF interpreter (PT_INTERP) that is {what}",
            _put(case, target, _probe_at(target, "pie", writer=interp)))


def drop_interp(case: Case) -> tuple[str, Case] | None:
    """The program is an ELF with a PT_INTERP: the entry dropped (PT_NULL),
    so the program runs by itself.  Agreeing then, how the simulator finds
    or loads an interpreter at all is the cause (fakechroot leaves the
    interpreter path to the host kernel, untranslated)."""
    f = program(case)
    if f is None or f.type != "file" or (h := _ehdr(f.data)) is None:
        return None
    for i, t, _, _ in phdrs(f.data):
        if t == PT_INTERP:
            d = _set(f.data, h["phoff"] + i * h["phentsize"], "<I", PT_NULL)
            return ("an ELF program with an interpreter (PT_INTERP; without it, it agrees)",
                    _put(case, f.path, replace(f, data=d)))
    return None


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
    if not p or not NEAR_PATH_MAX <= len(p) < PATH_MAX or any(f.type == "symlink" for f in case.files) \
            or (p[:1] != b"/" and b".." in p.split(b"/")):
        return None  # (symlinks: '..' after one is not lexical; a relative '..' climbs from the cwd)
    short = _norm(p) if p[:1] == b"/" else _norm(b"/" + p)[1:] or b"."
    if len(short) >= NEAR_PATH_MAX:
        return None
    return (f"a program path of {NEAR_PATH_MAX} bytes or more, under PATH_MAX (the simulator's root makes it longer)",
            replace(case, exec=replace(case.exec, path=short)))


IA32 = "an ia32 (32-bit x86) ELF program"
# Edits that replace a whole program repair whatever made Linux crash it
# too, so they never name a crash's cause (report._explains).
WHOLE_PROGRAM = frozenset({IA32})


def ia32(case: Case) -> tuple[str, Case] | None:
    """The program is an ia32 ELF with a standard header: replaced by the
    same program built for x86-64 (generators/elfbuild.py: it exits 42 as
    the ia32 one does; report._cause skips the edit when Linux's fate of
    the two differs)."""
    from generators.elfbuild import encode
    from generators.elfbuild import program as elf_program
    f = program(case)
    if f is None or f.type != "file" or (h := _ehdr(f.data)) is None or h["layout"] != 1 or _field_fixes(f.data):
        return None
    if pt_interp(f.data) is not None:
        return None
    return IA32, _put(case, f.path, replace(f, data=encode(elf_program())))


def empty_path(case: Case) -> tuple[str, Case] | None:
    """execve("") (Linux: ENOENT): the same call on a name that does not
    exist, which Linux fails alike."""
    if case.exec.path != b"" or case.exec.syscall not in ("execve", None):
        return None
    return "an empty program path", replace(case, exec=replace(case.exec, path=b"/.execspec-edit-missing"))


# ------------------------------------------------------------------ permissions and paths

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


def trailing_slash(case: Case) -> tuple[str, Case] | None:
    """A program path ending in '/' or '/.', or reached through a symlink
    whose target does: the endings dropped (path and symlink targets)."""
    p = case.exec.path or b""
    links = [f for f in case.files if f.type == "symlink" and _strip_ending(f.data) != f.data]
    if _strip_ending(p) == p and not links:
        return None  # (a link the path does not take: the edit changes nothing, names nothing)
    files = tuple(replace(f, data=_strip_ending(f.data)) if f in links else f for f in case.files)
    # one cause whichever ending: the file is named as a directory (Linux: ENOTDIR)
    return ("a program path ending in '/' or '/.' (a file named as a directory)",
            replace(case, files=files, exec=replace(case.exec, path=_strip_ending(p))))


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


def without_creds(case: Case) -> Case:
    """The case without credentials: files owned by the case's root, no
    set-id bits or file capabilities; the call made as that root, without
    no_new_privs or securebits.  (Not an edit that names a cause: the
    report falls back to it where the reproducer cannot write credentials.)"""
    files = tuple(replace(f, uid=0, gid=0, mode=f.mode & ~0o6000, caps=None) for f in case.files)
    return replace(case, files=files, exec=replace(case.exec, uid=None, gid=None, groups=None, no_new_privs=False,
                                                    securebits=()))


FEATURE_EDITS: list[tuple[str, Callable[[Case], list[tuple[str, Case]]]]] = [
    ("a program path ending in '/'", lambda c: [x] if (x := trailing_slash(c)) else []),
    ("an empty program path", lambda c: [x] if (x := empty_path(c)) else []),
    ("a path of PATH_MAX bytes", lambda c: [x] if (x := long_path(c)) else []),
    ("a path near PATH_MAX", lambda c: [x] if (x := near_path_max(c)) else []),
    ("a symlink loop", lambda c: [x] if (x := symlink_loop(c)) else []),
    ("an absolute symlink target", lambda c: [x] if (x := absolute_links(c)) else []),
    ("a directory without search permission", lambda c: [x] if (x := unsearchable_dirs(c)) else []),
    ("a program without its owner's x bit", lambda c: [x] if (x := owner_x(c)) else []),
    ("an execute-only program", lambda c: [x] if (x := execute_only(c)) else []),
    ("an ELF header field", elf_fields),
    ("an ELF interpreter (PT_INTERP)", lambda c: [x] if (x := elf_interpreter(c)) else []),
    ("a #! interpreter", lambda c: [x] if (x := shebang_interpreter(c)) else []),
    ("a #! line naming no interpreter", lambda c: [x] if (x := empty_shebang(c)) else []),
    ("an ELF program with an interpreter", lambda c: [x] if (x := drop_interp(c)) else []),
    ("an ia32 ELF program", lambda c: [x] if (x := ia32(c)) else []),
    ("a #! script as the program", lambda c: [x] if (x := script_direct(c)) else []),
]
