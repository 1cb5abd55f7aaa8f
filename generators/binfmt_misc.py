"""Strategies for binfmt_misc: registration strings, control writes, and
files built to match or narrowly miss a rule.

Registrations follow `:name:type:offset:magic:mask:interpreter:flags` and are
mutated field by field toward create_entry's boundaries: every delimiter
byte (NUL, '\\n', hex digits, 'x', flag letters), name rules and NAME_MAX,
offsets around BINPRM_BUF_SIZE - size, "\\x" escapes and their errors,
magic/mask length relations, extensions with '/' or dots, interpreters
empty/relative/missing, flag combinations and unknown letters, trailing
bytes, and lengths around MAX_REGISTER_LENGTH (1920).
"""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File, MiscUnlink, MiscWrite

from .common import probe, script

INTERP = b"/bin/interp"
BUF = 256
DELIMS = [b":", b":", b":", b"#", b"\0", b"\n", b"a", b"x", b"P", b"\\", b"/", b"E", b"1", b"\xff", b" ", b"."]
ENDINGS = [b"", b"", b"\n", b"\n\n", b" ", b"\r\n", b":", b"\0"]


def hexesc(data: bytes, upper: bool = False) -> bytes:
    """Every byte as a \\xHH escape."""
    return b"".join((b"\\x%02X" if upper else b"\\x%02x") % c for c in data)


def encode_magic(data: bytes, delim: bytes, draw) -> bytes:
    """Bytes as a magic/mask field: raw where the parser allows, else escaped."""
    out = []
    for c in data:
        raw = bytes([c])
        unsafe = raw in (b"\0", b"\\", delim) or c < 0x21 or c > 0x7E
        out.append(hexesc(raw, draw(st.booleans())) if unsafe or draw(st.integers(0, 3)) == 0 else raw)
    return b"".join(out)


MAGIC_ODDITIES = [b"\\x", b"\\x4", b"\\xg1", b"\\x4g", b"\\\\x41", b"\\", b"\\\\", b"\0", b"a\0b", b"\\x00",
                  b"\\X41", b"\\x4141"]


@st.composite
def magic_field(draw, delim: bytes) -> tuple[bytes, int]:
    """(raw field, intended decoded length); sometimes an odd escape."""
    data = draw(st.one_of(st.binary(min_size=1, max_size=8), st.binary(min_size=120, max_size=260),
                          st.sampled_from([b"\x7fELF", b"MZ", b"#!", b"\0\0"])))
    raw = encode_magic(data, delim, draw)
    if draw(st.integers(0, 5)) == 0:
        odd = draw(st.sampled_from(MAGIC_ODDITIES))
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + odd + raw[at:]
    return raw, len(data)


@st.composite
def offset_field(draw, size: int) -> bytes:
    room = BUF - size
    n = draw(st.one_of(st.integers(room - 2, room + 2), st.integers(0, 8), st.integers(0, 300)))
    form = draw(st.sampled_from(["plain"] * 6 + ["empty", "+", "-", "nl", "space", "hex", "huge", "neg0", "lead0"]))
    return {"plain": b"%d" % n, "empty": b"", "+": b"+%d" % n, "-": b"-%d" % n, "nl": b"%d\n" % n,
            "space": b" %d" % n, "hex": b"0x%x" % n, "huge": b"9" * 12, "neg0": b"-0",
            "lead0": b"000%d" % n}[form]


VALID_NAMES = [b"t", b"rule", b"a.b", b"x y", b"\xff\x01", b"-1", b"n" * 255]
WILD_NAMES = [b"", b".", b"..", b"a/b", b"status", b"register", b"n" * 256, b"a\0b"]
WILD_TYPES = [b"e", b"m", b"X", b"", b"EM", b"\0"]
WILD_FLAGS = [b"X", b"p", b"P X", b"Q", b"F\0", b"PP\n\n"]
WILD_INTERPS = [b"bin/interp", b"/nope", b"", b"/bin", b"/bin/noexec", b"/bin/in terp", b"/f.xyz"]


@st.composite
def _fields(draw, kind: bytes, delim: bytes) -> list[bytes]:
    """Valid name, type, offset, magic, mask, interpreter, flags for `kind`."""
    if kind == b"E":
        offset, magic, mask = b"", draw(st.sampled_from([b"xyz", b"b", b"XYZ", b"a.b"])), b""
    else:
        data = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from([b"MZ", b"\x7fELF", b"#!"])))
        magic = encode_magic(data, delim, draw)
        mask = draw(st.sampled_from([b"", hexesc(draw(st.binary(min_size=len(data), max_size=len(data))))]))
        offset = b"%d" % draw(st.integers(0, min(4, BUF - len(data))))
    return [draw(st.sampled_from(VALID_NAMES)), kind, offset, magic, mask, INTERP,
            draw(st.sampled_from([b"", b"P", b"O", b"C", b"F", b"PO", b"OC", b"POCF", b"FP", b"CCF"]))]


@st.composite
def _wild(draw, field: int, fields: list[bytes], delim: bytes) -> bytes:
    """An almost valid value for one field."""
    if field == 0:
        return draw(st.sampled_from(WILD_NAMES))
    if field == 1:
        return draw(st.sampled_from(WILD_TYPES))
    if field == 2:
        return draw(offset_field(4)) if fields[1] == b"M" else draw(st.sampled_from([b"12", b"junk", b"\0"]))
    if field == 3:
        if fields[1] == b"E":
            return draw(st.sampled_from([b"", b"a/b", b"\\\\x41", b"\\x41", b".xyz", b"x\0"]))
        return draw(magic_field(delim))[0]
    if field == 4:
        size = len(fields[3]) if fields[1] == b"E" else 2
        return draw(st.sampled_from([hexesc(b"\xff" * (size + 1)), b"\\xf", b"\0zz", b"\\xff"]))
    if field == 5:
        return draw(st.sampled_from(WILD_INTERPS))
    return draw(st.sampled_from(WILD_FLAGS))


@st.composite
def registration(draw, name: bytes | None = None, interp: bytes | None = None) -> bytes:
    """A registration string: valid, or with one or two fields (or the
    delimiter, the field count, the ending, the length) mutated."""
    delim = draw(st.sampled_from(DELIMS)) if draw(st.integers(0, 5)) == 0 else b":"
    fields = draw(_fields(draw(st.sampled_from([b"E", b"M"])), delim))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        i = draw(st.integers(0, 6))
        fields[i] = draw(_wild(i, fields, delim))
    if name is not None:
        fields[0] = name
    if interp is not None:
        fields[5] = interp
    if draw(st.integers(0, 14)) == 0:  # one field too many or too few
        i = draw(st.integers(0, len(fields) - 1))
        fields = fields[:i] + fields[i + 1:] if draw(st.booleans()) else fields[:i] + [b"q"] + fields[i:]
    ending = draw(st.sampled_from(ENDINGS)) if draw(st.integers(0, 4)) == 0 else draw(st.sampled_from([b"", b"\n"]))
    reg = delim + delim.join(fields) + ending
    if draw(st.integers(0, 12)) == 0 and len(fields) > 5:  # around MAX_REGISTER_LENGTH
        total = draw(st.sampled_from([1919, 1920, 1921, 2100]))
        fields[5] = b"/bin" + b"/" * max(total - len(reg), 1) + b"interp"
        reg = delim + delim.join(fields) + ending
    return reg


def interp_files() -> list[File]:
    return [probe(INTERP, "I"), File(path=b"/bin/noexec", type="probe", mode=0o644, tag="NX"),
            probe(b"/bin/in terp", "S")]


def _exec(path: bytes, argv=(b"f", b"a"), **kw) -> Exec:
    return Exec(path=path, argv=argv, envp=(b"E=1",), **kw)


@st.composite
def registration_cases(draw) -> Case:
    """One or two registrations, then an exec of a file a valid rule would
    match.  One case in four is aimed at a grammar rule that changed: a
    flag character (P, O, C, F) as the delimiter (8e85d50ba111 refuses it),
    or a second registration of an existing name whose F flag opens a bad
    interpreter (e7850f4d844e opens it before the name lookup)."""
    aim = draw(st.integers(0, 7))
    if aim == 0:
        delim = draw(st.sampled_from([b"P", b"O", b"C", b"F"]))
        kind = draw(st.sampled_from([b"E", b"M"]))
        fields = draw(_fields(kind, delim))
        regs = [delim + delim.join(fields) + draw(st.sampled_from([b"", b"\n"]))]
    elif aim == 1:
        name = draw(st.sampled_from(VALID_NAMES[:4]))
        regs = [draw(registration(name=name)),
                draw(registration(name=name, interp=draw(st.sampled_from(WILD_INTERPS + [INTERP]))))]
        if b"F" not in regs[1].split(regs[1][:1])[-1]:
            regs[1] = regs[1].rstrip(b"\n") + b"F"
    else:
        regs = [draw(registration())]
    if aim > 1 and draw(st.integers(0, 4)) == 0:
        regs.append(draw(registration()))
    files = interp_files() + [script(b"/f.xyz", draw(st.sampled_from([b"MZ data", b"#!/bin/interp\n", b"\x7fELF"]))),
                              File(path=b"/a.b", type="file", mode=0o755, data=b"MZ")]
    path = draw(st.sampled_from([b"/f.xyz", b"/f.xyz", b"/a.b", INTERP]))
    names = [b"t", b"rule", b"status", b"a.b", b"x y", b"-1"]
    return Case(files=tuple(files), exec=_exec(path), binfmt_misc=tuple(regs),
                binfmt_misc_read=tuple(draw(st.lists(st.sampled_from(names), max_size=3, unique=True))))


# ---------------------------------------------------------------- matching

def _flip(b: int, bit: int) -> int:
    return b ^ (1 << bit)


@st.composite
def magic_match_cases(draw) -> Case:
    """An M rule and a file whose bytes at the offset match it, or miss by one
    bit (inside or outside the mask)."""
    size = draw(st.integers(1, 16))
    offset = draw(st.one_of(st.integers(0, 8), st.just(BUF - size), st.integers(0, BUF - size)))
    magic = draw(st.binary(min_size=size, max_size=size))
    use_mask = draw(st.booleans())
    mask = draw(st.binary(min_size=size, max_size=size)) if use_mask else b"\xff" * size
    data = bytearray(draw(st.binary(min_size=0, max_size=300)))
    data.extend(b"\0" * max(0, offset + size - len(data)))
    data[offset:offset + size] = bytes(m for m in magic)
    if draw(st.booleans()):  # flip one bit somewhere in the window
        i, bit = draw(st.integers(0, size - 1)), draw(st.integers(0, 7))
        data[offset + i] = _flip(data[offset + i], bit)
    if draw(st.integers(0, 4)) == 0:  # file ends before the window: NUL padding decides
        data = data[:draw(st.integers(0, offset + size))]
    flags = draw(st.sampled_from([b"", b"P", b"O", b"F", b"PF"]))
    reg = b":m:M:%d:%s:%s:%s:%s" % (offset, hexesc(magic), hexesc(mask) if use_mask else b"", INTERP, flags)
    files = [probe(INTERP, "I"), script(b"/f", bytes(data))]
    return Case(files=tuple(files), exec=_exec(b"/f"), binfmt_misc=(reg,), binfmt_misc_read=(b"m",))


@st.composite
def probe_magic_cases(draw) -> Case:
    """A magic taken from the probe's own first bytes: the exec'd probe matches
    (or misses by a bit); a rule whose interpreter is a probe matches itself
    again (ELOOP)."""
    from model.binfmt_elf import probe_header
    head = probe_header()
    size = draw(st.integers(1, 8))
    offset = draw(st.integers(0, BUF - size))
    magic = bytearray(head[offset:offset + size].ljust(size, b"\0"))
    if draw(st.booleans()):
        magic[0] ^= 1 << draw(st.integers(0, 7))
    interp = draw(st.sampled_from([INTERP, b"/bin/sh.s"]))
    reg = b":pm:M:%d:%s::%s:%s" % (offset, hexesc(bytes(magic)), interp, draw(st.sampled_from([b"", b"P", b"O"])))
    files = [probe(INTERP, "I"), probe(b"/bin/target", "T"), script(b"/bin/sh.s", b"#!/bin/target -s\n")]
    return Case(files=tuple(files), exec=_exec(b"/bin/target"), binfmt_misc=(reg,))


EXT_PATHS = [b"/f.xyz", b"/d.xyz/f", b"/d.xyz/f.xyz", b"/f.xyz.z", b"/f.xy", b"/.xyz", b"/f.XYZ", b"/f..xyz",
             b"/d/f.xyz", b"/f.", b"/fxyz"]


@st.composite
def extension_cases(draw) -> Case:
    """E rules against names with dots in files and directories, relative and
    execveat names (/dev/fd/3/..., /dev/fd/3 for AT_EMPTY_PATH)."""
    exts = draw(st.lists(st.sampled_from([b"xyz", b"z", b"xy", b"XYZ", b"", b"a.b"]), min_size=1, max_size=3))
    regs = [b":e%d:E::%s::%s:%s" % (i, x or b"xyz", draw(st.sampled_from([INTERP, b"/bin/i2"])),
                                    draw(st.sampled_from([b"", b"P", b"O"])))
            for i, x in enumerate(exts)]
    path = draw(st.sampled_from(EXT_PATHS))
    files = [probe(INTERP, "I"), probe(b"/bin/i2", "I2"), script(path, b"data")]
    how = draw(st.sampled_from(["abs", "abs", "rel", "at", "empty", "empty_cloexec", "at_cloexec"]))
    parent, leaf = path.rsplit(b"/", 1)
    parent = parent or b"/"
    if how == "abs":
        ex = _exec(path)
    elif how == "rel":
        ex = _exec(leaf, cwd=parent)
    elif how.startswith("at"):
        ex = _exec(leaf, syscall="execveat", dirfd=parent, dirfd_cloexec=how.endswith("cloexec"))
    else:
        ex = _exec(b"", syscall="execveat", dirfd=path, flags=("AT_EMPTY_PATH",),
                   dirfd_cloexec=how.endswith("cloexec"))
    reads = tuple(b"e%d" % i for i in range(len(regs)))
    return Case(files=tuple(files), exec=ex, binfmt_misc=tuple(regs), binfmt_misc_read=reads)


# ---------------------------------------------------------------- flags and interplay

INTERPRETERS = {
    "probe": [probe(b"/bin/x", "X")],
    "script": [script(b"/bin/x", b"#!/bin/real -q\n"), probe(b"/bin/real", "R")],
    "missing": [],
    "noexec": [File(path=b"/bin/x", type="probe", mode=0o644, tag="NX")],
    "dir": [File(path=b"/bin/x", type="dir", mode=0o755)],
    "self": [script(b"/bin/x", b"data")],  # /bin/x matches the rule again (via extension below)
}


@st.composite
def flag_cases(draw) -> Case:
    """Every flag combination against every kind of interpreter, absolute or
    relative (F opens it at registration from the root, otherwise it is
    opened at exec time from the cwd)."""
    flags = draw(st.sampled_from([b"", b"P", b"O", b"C", b"F", b"PO", b"PF", b"OF", b"POCF", b"CF"]))
    kind = draw(st.sampled_from(list(INTERPRETERS)))
    relative = draw(st.integers(0, 3)) == 0
    interp = b"/bin/x" if kind != "self" else b"/bin/x"
    if relative:
        interp = b"bin/x"
    magic_rule = draw(st.booleans())
    if magic_rule or kind == "self":
        reg = b":r:M::data::%s:%s" % (interp, flags)
    else:
        reg = b":r:E::xyz::%s:%s" % (interp, flags)
    files = [*INTERPRETERS[kind], script(b"/w/f.xyz", b"data file"), File(path=b"/w/bin", type="dir", mode=0o755)]
    if relative and draw(st.booleans()):
        files.append(probe(b"/w/bin/x", "W"))
    cwd = draw(st.sampled_from([b"/", b"/w"]))
    argv = draw(st.sampled_from([(b"f", b"a"), (b"f",), (), None, (b"", b"x y")]))
    ex = Exec(path=b"/w/f.xyz", argv=argv, envp=(), cwd=cwd)
    return Case(files=tuple(files), exec=ex, binfmt_misc=(reg,), binfmt_misc_read=(b"r",))


@st.composite
def interplay_cases(draw) -> Case:
    """binfmt_misc with "#!" scripts: a script whose interpreter matches a rule,
    a rule whose interpreter is a script, rules that loop, O then a rewrite."""
    shape = draw(st.sampled_from(["script_to_misc", "misc_to_script", "ext_loop", "chain", "magic_script"]))
    flags = draw(st.sampled_from([b"", b"P", b"O", b"F"]))
    files: list[File] = [probe(INTERP, "I"), probe(b"/bin/end", "END")]
    if shape == "script_to_misc":
        regs = [b":s:E::py::%s:%s" % (INTERP, flags)]
        files += [script(b"/s", b"#!/bin/run.py -o\n"), script(b"/bin/run.py", b"print()\n")]
        path = b"/s"
    elif shape == "misc_to_script":
        regs = [b":s:E::xyz::/bin/wrap:%s" % flags]
        files += [script(b"/f.xyz", b"x"), script(b"/bin/wrap", b"#!/bin/end w\n")]
        path = b"/f.xyz"
    elif shape == "ext_loop":
        n = draw(st.integers(1, 7))
        regs = [b":l:E::xyz::/bin/i.xyz:%s" % flags]
        files += [script(b"/f.xyz", b"x"), script(b"/bin/i.xyz", b"#!/bin/end\n" if n > 3 else b"x")]
        path = b"/f.xyz"
    elif shape == "chain":  # a -> b (misc) -> c (script) -> ... depth around the limit
        depth = draw(st.integers(1, 6))
        regs = [b":c:E::xyz::/c1:%s" % flags]
        files.append(script(b"/f.xyz", b"x"))
        for i in range(1, depth + 1):
            nxt = b"/c%d" % (i + 1) if i < depth else b"/bin/end"
            files.append(script(b"/c%d" % i, b"#!" + nxt + b"\n"))
        path = b"/f.xyz"
    else:  # a magic rule on "#!": it wins over binfmt_script
        regs = [b":h:M::#!::%s:%s" % (INTERP, flags)]
        files.append(script(b"/s", b"#!/bin/end\n"))
        path = b"/s"
    return Case(files=tuple(files), exec=_exec(path), binfmt_misc=tuple(regs))


# ---------------------------------------------------------------- control writes

COMMANDS = [b"0", b"1", b"-1", b"0\n", b"1\n", b"-1\n", b"", b"2", b"\n", b"01", b"-1\n\n", b" 1", b"1 ",
            b"-0", b"enable"]


VALID_COMMANDS = [b"0", b"1", b"-1", b"0\n", b"1\n", b"-1\n", b""]


@st.composite
def control_cases(draw) -> Case:
    """Registrations mixed with writes to "status" and to entries, in any order."""
    ops: list = [b":a:E::xyz::%s:" % INTERP]
    live = [b"a"]
    for _ in range(draw(st.integers(0, 5))):
        what = draw(st.sampled_from(["reg", "reg", "entry", "entry", "entry", "status", "status",
                                     "register"]))
        cmd = draw(st.sampled_from(COMMANDS if draw(st.integers(0, 4)) == 0 else VALID_COMMANDS))
        fresh = next((n for n in (b"a", b"b", b"c") if n not in live), b"a")
        name = draw(st.sampled_from(live)) if live and draw(st.integers(0, 9)) else fresh
        if what == "reg":
            ext = draw(st.sampled_from([b"xyz", b"xyz", b"q"]))
            ops.append(b":%s:E::%s::%s:" % (fresh, ext, draw(st.sampled_from([INTERP, b"/bin/i2"]))))
            live.append(fresh)
        elif what == "register":
            ops.append(MiscWrite(file=b"register", data=b":%s:E::xyz::/bin/i2:P" % fresh))
            live.append(fresh)
        elif what == "entry":
            ops.append(MiscWrite(file=name, data=cmd))
            if cmd.rstrip(b"\n") == b"-1" and name in live:
                live.remove(name)
        else:
            ops.append(MiscWrite(file=b"status", data=cmd))
            if cmd.rstrip(b"\n") == b"-1":
                live.clear()
    files = [probe(INTERP, "I"), probe(b"/bin/i2", "I2"), script(b"/f.xyz", b"x")]
    reads = tuple(draw(st.lists(st.sampled_from([b"a", b"b", b"c", b"status"]), max_size=3, unique=True)))
    return Case(files=tuple(files), exec=_exec(b"/f.xyz"), binfmt_misc=tuple(ops), binfmt_misc_read=reads)


# ---------------------------------------------------------------- 7.3: T, L, D, unlink

FLAG_ALPHABET = "POCFTLD"


@st.composite
def flag_string(draw) -> bytes:
    """A run of flag letters, 7.3's T/L/D among them (refused as unknown before 7.3)."""
    letters = draw(st.lists(st.sampled_from(FLAG_ALPHABET + "TLD"), max_size=4))
    return "".join(letters).encode()


@st.composite
def new_flag_registration_cases(draw) -> Case:
    """Registrations with T, L, D in every combination with P, O, C, F, an
    absolute or relative interpreter (C and L without F need an absolute
    one on 7.3), a T/L/D delimiter, or type B; read back and exec."""
    flags = draw(flag_string())
    interp = draw(st.sampled_from([INTERP, INTERP, b"bin/interp", b"/nope"]))
    delim = draw(st.sampled_from([b":"] * 6 + [b"T", b"L", b"D"]))
    kind = draw(st.sampled_from([b"E", b"E", b"M", b"B"]))
    if kind == b"B":
        fields = [b"t", b"B", b"", b"", b"", b"handler", flags]
    elif kind == b"M":
        fields = [b"t", b"M", b"", b"MZ", b"", interp, flags]
    else:
        fields = [b"t", b"E", b"", b"xyz", b"", interp, flags]
    reg = delim + delim.join(fields) + draw(st.sampled_from([b"", b"\n"]))
    ops: list = [reg]
    if draw(st.booleans()):
        ops.append(MiscWrite(file=b"t", data=draw(st.sampled_from([b"1", b"0", b"1\n"]))))
    files = interp_files() + [script(b"/f.xyz", b"MZ data"), probe(b"/w/bin/interp", "W")]
    cwd = draw(st.sampled_from([b"/", b"/w"]))
    return Case(files=tuple(files), exec=_exec(b"/f.xyz", cwd=cwd), binfmt_misc=tuple(ops),
                binfmt_misc_read=(b"t",))


def _how(draw, path: bytes, link: bytes | None) -> Exec:
    """The exec of `path` (or of a symlink to it), as execve or execveat."""
    how = draw(st.sampled_from(["abs", "abs", "link", "rel", "at", "at_cloexec", "empty", "empty_cloexec"]))
    argv = draw(st.sampled_from([(b"f", b"a"), (b"f",), (), None, (b"", b"x y"), (b"argv0-long-name-here",)]))
    parent, leaf = path.rsplit(b"/", 1)
    parent = parent or b"/"
    kw = dict(argv=argv, envp=(b"E=1",))
    if how == "link" and link is not None:
        return Exec(path=link, **kw)
    if how == "rel":
        return Exec(path=leaf, cwd=parent, **kw)
    if how.startswith("at"):
        return Exec(path=leaf, syscall="execveat", dirfd=parent, dirfd_cloexec=how.endswith("cloexec"), **kw)
    if how.startswith("empty"):
        return Exec(path=b"", syscall="execveat", dirfd=draw(st.sampled_from([path] + ([link] if link else []))),
                    flags=("AT_EMPTY_PATH",), dirfd_cloexec=how.endswith("cloexec"), **kw)
    return Exec(path=path, **kw)


TRANSPARENT_INTERPS = {
    "probe": [probe(INTERP, "I")],
    "pie": [File(path=INTERP, type="probe", mode=0o755, tag="IP", variant="pie")],
    "script": [script(INTERP, b"#!/bin/real\n"), probe(b"/bin/real", "R")],
    "missing": [],
    "noexec": [File(path=INTERP, type="probe", mode=0o644, tag="NX")],
    "link": [File(path=INTERP, type="symlink", mode=0o777, data=b"/bin/real"), probe(b"/bin/real", "R")],
}


@st.composite
def transparent_cases(draw) -> Case:
    """A T rule (7.3): argv exactly as the caller built it, the binary as
    AT_EXECFD, exe/comm/AT_FLAGS presenting the binary -- through symlinks,
    relative names, execveat and AT_EMPTY_PATH (a close-on-exec fd too).
    On older kernels the registration is EINVAL."""
    flags = draw(st.sampled_from([b"T", b"T", b"TF", b"OT", b"CT", b"TD", b"TP", b"FT\n"]))
    kind = draw(st.sampled_from(list(TRANSPARENT_INTERPS)))
    magic = draw(st.booleans())
    reg = b":t:M::MZ::%s:%s" % (INTERP, flags) if magic else b":t:E::xyz::%s:%s" % (INTERP, flags)
    ops: list = [reg]
    if b"D" in flags:
        ops.append(MiscWrite(file=b"t", data=b"1"))
    files = [*TRANSPARENT_INTERPS[kind], script(b"/d/f.xyz", b"MZ binary"),
             File(path=b"/d/ln.xyz", type="symlink", mode=0o777, data=b"/d/f.xyz")]
    return Case(files=tuple(files), exec=_how(draw, b"/d/f.xyz", b"/d/ln.xyz"), binfmt_misc=tuple(ops),
                binfmt_misc_read=(b"t",))


def _loader_main(draw, interp: bytes = b"/lib/ld\0") -> bytes:
    from generators.elfbuild import ET_EXEC, program

    from .elf import with_interp
    cls = draw(st.sampled_from([2, 2, 2, 1]))
    return with_interp(program(cls=cls, type=ET_EXEC, base=0x400000 if cls == 2 else 0x8048000), [interp])


@st.composite
def loader_cases(draw) -> Case:
    """An L rule (7.3): the matched ELF runs natively with the registered
    substitute in place of its PT_INTERP (F: opened at registration);
    without PT_INTERP it runs as if unmatched; a file another format claims
    (a "#!" script) is handled as if unmatched -- once the substitute could
    be opened; a substitute that is not an ELF interpreter fails as
    binfmt_elf's checks say.  Older kernels: EINVAL at registration."""
    from .elf import INTERP_ELF_KINDS, _interp_elf
    flags = draw(st.sampled_from([b"L", b"L", b"LF", b"FL", b"LD", b"LP", b"LO", b"LC", b"LT"]))
    sub = draw(st.sampled_from(["pie", "pie", "static", "missing", "short_script", "text", "elf", "relative"]))
    sub_path = b"/lib/sub"
    files: list[File] = [File(path=b"/lib/ld", type="probe", mode=0o755, tag="ORIG", variant="pie"),
                         probe(b"/bin/real", "R")]
    if sub == "pie":
        files.append(File(path=sub_path, type="probe", mode=0o755, tag="SUB", variant="pie"))
    elif sub == "static":
        files.append(File(path=sub_path, type="probe", mode=0o755, tag="SUB"))
    elif sub == "short_script":  # the issue: EIO on 7.3.4, where the document says ELIBBAD
        files.append(script(sub_path, b"#!/bin/real\n"))
    elif sub == "text":
        files.append(script(sub_path, b"x" * draw(st.sampled_from([10, 64, 200]))))
    elif sub == "elf":
        files.append(File(path=sub_path, type="file", mode=0o755,
                          data=_interp_elf(draw(st.sampled_from(INTERP_ELF_KINDS)))))
    elif sub == "relative":
        files.append(File(path=sub_path, type="probe", mode=0o755, tag="SUB", variant="pie"))
        sub_path = b"lib/sub"
    target = draw(st.sampled_from(["elf", "elf", "elf", "probe", "script", "data", "elf_missing_interp"]))
    app = b"/app.elf"
    if target == "elf":
        files.append(File(path=app, type="file", mode=0o755, data=_loader_main(draw)))
    elif target == "elf_missing_interp":
        files.append(File(path=app, type="file", mode=0o755, data=_loader_main(draw, b"/nope\0")))
    elif target == "probe":
        files.append(probe(app, "APP"))
    elif target == "script":
        files.append(script(app, b"#!/bin/real -s\n"))
    else:
        files.append(script(app, b"\x7fELF not really"))
    reg = draw(st.sampled_from([b":l:E::elf::%s:%s", b":l:M::\\x7fELF::%s:%s"])) % (sub_path, flags)
    ops: list = [reg]
    if b"D" in flags:
        ops.append(MiscWrite(file=b"l", data=b"1"))
    ex = _how(draw, app, None)
    return Case(files=tuple(files), exec=ex, binfmt_misc=tuple(ops), binfmt_misc_read=(b"l",))


@st.composite
def disabled_lifecycle_cases(draw) -> Case:
    """D (7.3): an entry registered disabled, then enabled, disabled,
    removed (by "-1" or unlink(2)), re-registered, around other entries
    for the same files (a D entry joins the search list when first
    enabled, ahead of entries registered after it)."""
    ops: list = [b":a:E::xyz::%s:D" % INTERP]
    live = [b"a"]
    for _ in range(draw(st.integers(1, 5))):
        what = draw(st.sampled_from(["enable", "enable", "disable", "remove", "unlink", "reg", "regD", "status"]))
        name = draw(st.sampled_from(live + [b"a", b"b", b"status", b"register"]))
        fresh = next((n for n in (b"a", b"b", b"c") if n not in live), b"c")
        if what == "enable":
            ops.append(MiscWrite(file=name, data=b"1"))
        elif what == "disable":
            ops.append(MiscWrite(file=name, data=b"0\n"))
        elif what == "remove":
            ops.append(MiscWrite(file=name, data=b"-1"))
            if name in live:
                live.remove(name)
        elif what == "unlink":
            ops.append(MiscUnlink(file=name))
            if name in live:
                live.remove(name)
        elif what == "status":
            ops.append(MiscWrite(file=b"status", data=draw(st.sampled_from([b"0", b"1", b"-1"]))))
        else:
            ops.append(b":%s:E::xyz::/bin/i2:%s" % (fresh, b"D" if what == "regD" else b""))
            live.append(fresh)
    files = [probe(INTERP, "I"), probe(b"/bin/i2", "I2"), script(b"/f.xyz", b"x")]
    reads = tuple(draw(st.lists(st.sampled_from([b"a", b"b", b"c", b"status"]), max_size=3, unique=True)))
    return Case(files=tuple(files), exec=_exec(b"/f.xyz"), binfmt_misc=tuple(ops), binfmt_misc_read=reads)


@st.composite
def execfd_cases(draw) -> Case:
    """An O or C entry's executable handed over as a descriptor (AT_EXECFD)
    under a small RLIMIT_NOFILE: begin_new_exec() installs it at the lowest
    free descriptor below the limit, after the point of no return.  The
    limit sits around the descriptors the caller holds (0-2, and execveat's
    dirfd at 3 unless close-on-exec); the file comes directly, through
    execveat (a dirfd or AT_EMPTY_PATH), or as a "#!" interpreter."""
    flags = draw(st.sampled_from([b"O", b"C", b"PO", b"", b"P"]))
    magic = draw(st.booleans())
    reg = b":r:M::data::/bin/x:%s" % flags if magic else b":r:E::xyz::/bin/x:%s" % flags
    files = [probe(b"/bin/x", "I"), script(b"/w/f.xyz", b"data file"),
             script(b"/w/s", b"#!/w/f.xyz arg\n")]
    start = draw(st.sampled_from([b"/w/f.xyz", b"/w/s"]))
    how = draw(st.sampled_from(["execve", "dirfd", "empty"]))
    argv = draw(st.sampled_from([(b"f",), (b"f", b"a"), ()]))
    nofile = draw(st.one_of(st.sampled_from([3, 4, 4, 5]), st.sampled_from([0, 1, 2, 6]), st.integers(7, 4096),
                            st.none()))
    if how == "execve":
        ex = Exec(path=start, argv=argv, envp=(), rlimit_nofile=nofile)
    else:
        cloexec = draw(st.integers(0, 3)) == 0  # (its "#!"/binfmt_misc paths are inaccessible: ENOENT)
        dirfd, path, fl = (b"/w", start[3:], ()) if how == "dirfd" else (start, b"", ("AT_EMPTY_PATH",))
        ex = Exec(path=path, argv=argv, envp=(), syscall="execveat", dirfd=dirfd, flags=fl,
                  dirfd_cloexec=cloexec, rlimit_nofile=nofile)
    return Case(files=tuple(files), exec=ex, binfmt_misc=(reg,))
