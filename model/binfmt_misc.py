"""fs/binfmt_misc.c: registration, control files, entry text and matching.

Registration (create_entry, then bm_register_write), on the written bytes:
- Fewer than 11 or more than MAX_REGISTER_LENGTH (1920) bytes: EINVAL.
- The first byte is the delimiter (any byte, NUL included).  The parser
  works on the bytes followed by 8 copies of the delimiter, and cuts fields
  with strchr(), which also stops at a NUL: a NUL inside a field that is cut
  by strchr (name, offset, extension, interpreter) means "no delimiter":
  EINVAL.  Magic and mask are cut by scanarg(), which does not stop at NUL.
- name: non-empty, not "." or "..", no '/'.
- type: exactly one byte 'E' or 'M', then the delimiter; else EINVAL.
- M: offset is empty (0) or a kstrtoint() decimal: optional '+' (or '-'
  with value 0), digits, one optional trailing '\\n', no overflow; negative:
  EINVAL.  magic and mask go through scanarg(): every "\\x" must be followed
  by two hex digits (EINVAL), and the two digits are skipped even when one of
  them is the delimiter.  A magic whose first raw byte is the cut (empty) is
  EINVAL; a mask whose first raw byte is NUL means "no mask".  Both are then
  decoded by string_unescape(UNESCAPE_HEX), which stops at the first raw NUL,
  turns "\\x" + 1-2 hex digits into a byte and keeps any other backslash
  pair literally.  The decoded mask length must equal the magic's; size >
  BINPRM_BUF_SIZE or offset > BINPRM_BUF_SIZE - size: EINVAL.
- E: the offset and mask fields are skipped (any bytes but NUL); the
  extension must be non-empty and have no '/' (dots are accepted, though an
  extension with a dot can never match).
- interpreter: non-empty (no length limit but the total).
- flags: any run of P, O, C (C implies O), F, then one optional '\\n', then
  the end of the write exactly; anything else (unknown letter, trailing
  byte) is EINVAL.  With a '\\n' delimiter a trailing '\\n' is required: the
  padding would otherwise be taken for it.  Since 8e85d50ba111 (7.2,
  backported to stable: profiles.KNOWN_BACKPORTS) a P, O, C or F delimiter
  is always refused: the flag scan could run past the end of the buffer
  (first seen on 6.18.44; see the comment at flag_chars below).
- bm_register_write: F opens the interpreter now (open_exec, relative to the
  writer's root/cwd: ENOENT, EACCES, ...); the name is then looked up in the
  instance: "status", "register" or a live entry: EEXIST; longer than
  NAME_MAX: ENAMETOOLONG (simple_lookup).  Before e7850f4d844e the lookup
  came first.  New entries go to the head of the list (newest first).

7.3 (the vfs-7.3.binfmt series; each rule a feature of profiles.py):
- 75e536852f9a: flag T (transparent) implies O; with P: EINVAL.
- 83cd3989ba09: flag L (loader substitution); with T, P, O or C (so also
  with C's implied O): EINVAL; without F its interpreter must be absolute
  (EINVAL), since it is opened at exec time from the caller's cwd.
- 7830e96d001c: the same absolute-path rule for C without F.
- 9984a51e3aa7: flag D (register disabled) is consumed by the registration:
  the entry exists (its file reads "disabled", its flags line has no D) but
  stays out of the search list until "1" is written to it, which puts it at
  the head of the list (it then matches before entries registered after it).
- The flag-character delimiter rule covers every flag the kernel knows, so
  T, L and D too where they exist (the flag table is what the check asks).
- Type B (bpf handlers) is EINVAL where CONFIG_BINFMT_MISC_BPF is off, as in
  Debian's 7.3 config -- and before 7.3 it is an unknown type: EINVAL on
  every profile the model knows.
- Entry text: "flags: " lists P O C F T L in that order (C and T print their
  implied O).
- 6ec7c96bee30: a write to an entry longer than a "+name path" binding can
  be (BINFMT_MISC_INTERP_NAME_MAX + PATH_MAX + 3 = 4131 bytes) is E2BIG;
  shorter non-commands stay EINVAL (a '+' binding on a non-B entry too).
- 22c879a60d82: unlink(2) of an entry removes it like "-1"; "status" and
  "register" stay (EPERM).  Before it the directory has no unlink at all:
  EPERM for every existing name.

Control files (parse_command): at most 3 bytes, an optional trailing '\\n',
then "0" (disable), "1" (enable) or "-1" (remove); an empty write does
nothing; anything else EINVAL.  On "status" they act on the whole instance
(-1 removes every entry; the instance stays enabled as it was).

load_misc_binary: the instance disabled or no enabled entry matching: ENOEXEC.
An M entry matches when (buf[offset+i] ^ magic[i]) & mask[i] == 0 for all i;
an E entry when the bytes after the last '.' of bprm->interp (the whole
name, directories included) equal the extension.  Then: a name made from a
close-on-exec fd: ENOENT; without P argv[0] is dropped; O/C ask for
AT_EXECFD; argv gets bprm->interp then the interpreter in front; interp
becomes the interpreter, which is opened with open_exec (relative to the
exec's cwd) or, with F, is the file opened at registration.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contract.case import MiscWrite

from .errors import Errno
from .namei import FS, NAME_MAX, Node, open_exec

if TYPE_CHECKING:
    from contract.case import MiscUnlink

    from .exec import Bprm
    from .profiles import Profile

MAX_REGISTER_LENGTH = 1920
FLAG_ORDER = "POCFTL"  # the order entry_status / bm_entry_show print them in
MAX_BINDING_LENGTH = 32 + 4096 + 3  # BINFMT_MISC_INTERP_NAME_MAX + PATH_MAX + 3
IMPLIES = {"C": "O", "T": "O"}


def flag_chars(profile: Profile) -> str:
    """The flag characters create_entry() knows on this kernel."""
    return ("POCF" + ("T" if profile.has("75e536852f9a") else "") + ("L" if profile.has("83cd3989ba09") else "")
            + ("D" if profile.has("9984a51e3aa7") else ""))
# 8e85d50ba111 (7.2, marked for stable; profiles.KNOWN_BACKPORTS): with P, O,
# C or F as the delimiter every registration is refused -- the flag scan of
# create_entry() could run past the end of the buffer.  Before it such
# registrations parse like any other (seen on Debian 5.10.262).
_HEX = frozenset(b"0123456789abcdefABCDEF")
_OFFSET = re.compile(rb"([+-]?)([0-9]+)\n?\Z")
INT_MAX = 2**31 - 1
RESERVED = (b"status", b"register")  # the instance's own files


class NotModelled(Exception):
    pass


@dataclass
class Entry:
    name: bytes
    magic_type: bool  # M (magic) or E (extension)
    offset: int
    magic: bytes  # decoded magic, or the extension
    mask: bytes | None
    interpreter: bytes
    flags: frozenset[str]
    enabled: bool = True
    interp_file: Node | None = None  # F: opened at registration
    staged: bool = False  # D: not in the search list until its first enable

    def matches(self, interp: bytes, buf: bytes) -> bool:
        """search_binfmt_handler() for one entry."""
        if not self.magic_type:
            dot = interp.rfind(b".")
            return dot >= 0 and interp[dot + 1:] == self.magic
        window = buf[self.offset:self.offset + len(self.magic)]
        mask = self.mask or b"\xff" * len(self.magic)
        return all((w ^ m) & k == 0 for w, m, k in zip(window, self.magic, mask))

    def status(self) -> bytes:
        """entry_status(): the text a read of the entry's file gives."""
        flags = "".join(f for f in FLAG_ORDER if f in self.flags).encode()
        text = b"%s\ninterpreter %s\nflags: %s\n" % (b"enabled" if self.enabled else b"disabled",
                                                     self.interpreter, flags)
        if not self.magic_type:
            return text + b"extension .%s\n" % self.magic
        text += b"offset %d\nmagic %s" % (self.offset, self.magic.hex().encode())
        if self.mask is not None:
            text += b"\nmask %s" % self.mask.hex().encode()
        return text + b"\n"


# ---------------------------------------------------------------- create_entry

def _strchr(buf: bytearray, p: int, delim: int) -> int | None:
    """C strchr(): the first `delim` at or after p, None when a NUL comes first."""
    while True:
        c = buf[p]
        if c == delim:
            return p
        if c == 0:
            return None
        p += 1


def _scanarg(buf: bytearray, p: int, delim: int) -> int | None:
    """scanarg(): skip to past the delimiter, checking "\\x" escapes; cuts there."""
    while True:
        c = buf[p]
        p += 1
        if c == delim:
            break
        if c == 0x5C and buf[p] == 0x78:  # "\x": two hex digits, whatever they are
            p += 1
            for _ in range(2):
                ok = buf[p] in _HEX
                p += 1
                if not ok:
                    return None
    buf[p - 1] = 0
    return p


def _cstr(buf: bytearray, p: int) -> bytes:
    return bytes(buf[p:buf.index(0, p)])


def unescape_hex(s: bytes) -> bytes:
    """string_unescape(UNESCAPE_HEX) of a C string."""
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        if s[i] == 0x5C and i + 1 < n:
            i += 1
            if s[i] == 0x78 and i + 1 < n and s[i + 1] in _HEX:
                j = i + 2 if i + 2 < n and s[i + 2] in _HEX else i + 1
                out.append(int(s[i + 1:j + 1], 16))
                i = j + 1
                continue
            out.append(0x5C)
        out.append(s[i])
        i += 1
    return bytes(out)


def kstrtoint_offset(field: bytes) -> int:
    """kstrtoint(field, 10) for the offset; EINVAL for bad, overflowing or negative."""
    m = _OFFSET.match(field)
    if not m or m.group(1) == b"-" and int(m.group(2)) != 0 or int(m.group(2)) > INT_MAX:
        raise Errno("EINVAL")
    return int(m.group(2))


def create_entry(reg: bytes, buf_size: int, flag_delim_refused: bool = True, flags: str = "POCF",
                 profile: Profile | None = None) -> Entry:
    """Parse a registration exactly as create_entry() does; Errno EINVAL if refused.
    `flags`: the flag characters this kernel knows (flag_chars)."""
    count = len(reg)
    if count < 11 or count > MAX_REGISTER_LENGTH:
        raise Errno("EINVAL")
    delim = reg[0]
    # the delimiter padding, then NULs standing for the memory after it
    buf = bytearray(reg + bytes([delim]) * 8 + b"\0" * 16)
    try:
        e = _parse(buf, count, delim, buf_size, flag_delim_refused, flags)
    except IndexError:  # ran past the padding: garbage, never a valid entry
        raise Errno("EINVAL") from None
    _check_flags(e, profile)
    return e


def _check_flags(e: Entry, profile: Profile | None) -> None:
    """The 7.3 flag rules of create_entry() after the flag scan (all EINVAL)."""
    f = set(e.flags)
    if "D" in f:  # a directive of this registration, not a property
        f.discard("D")
        e.enabled, e.staged = False, True
    if "T" in f and "P" in f:  # transparency keeps the whole argv
        raise Errno("EINVAL")
    if "L" in f and f & set("TPOC"):  # a native exec: no argv splice, no execfd
        raise Errno("EINVAL")
    needs_abs = "L" in f or ("C" in f and profile is not None and profile.has("7830e96d001c"))
    if needs_abs and "F" not in f and not e.interpreter.startswith(b"/"):
        raise Errno("EINVAL")  # opened at exec time from the caller's cwd
    e.flags = frozenset(f)


def _cut(buf: bytearray, p: int, delim: int) -> int:
    """strchr to the delimiter, write a NUL there, return the next position."""
    s = _strchr(buf, p, delim)
    if s is None:
        raise Errno("EINVAL")
    buf[s] = 0
    return s + 1


def _parse(buf: bytearray, count: int, delim: int, buf_size: int, flag_delim_refused: bool,
           known: str = "POCF") -> Entry:
    p = _cut(buf, 1, delim)
    name = _cstr(buf, 1)
    if not name or name in (b".", b"..") or b"/" in name:
        raise Errno("EINVAL")
    kind = buf[p]
    if kind not in b"EM" or buf[p + 1] != delim:
        raise Errno("EINVAL")
    p += 2
    offset, mask = 0, None
    if kind == ord("M"):
        start, p = p, _cut(buf, p, delim)
        if buf[start]:
            offset = kstrtoint_offset(_cstr(buf, start))
        magic_at = p
        nxt = _scanarg(buf, p, delim)
        if nxt is None or not buf[magic_at]:
            raise Errno("EINVAL")
        mask_at = nxt
        nxt = _scanarg(buf, mask_at, delim)
        if nxt is None:
            raise Errno("EINVAL")
        p = nxt
        magic = unescape_hex(_cstr(buf, magic_at))
        if buf[mask_at]:
            mask = unescape_hex(_cstr(buf, mask_at))
            if len(mask) != len(magic):
                raise Errno("EINVAL")
        if len(magic) > buf_size or buf_size - len(magic) < offset:
            raise Errno("EINVAL")
    else:
        p = _cut(buf, p, delim)  # the offset field, ignored
        ext_at, p = p, _cut(buf, p, delim)
        magic = _cstr(buf, ext_at)
        if not magic or b"/" in magic:
            raise Errno("EINVAL")
        p = _cut(buf, p, delim)  # the mask field, ignored
    interp_at, p = p, _cut(buf, p, delim)
    interpreter = _cstr(buf, interp_at)
    if not interpreter:
        raise Errno("EINVAL")
    flags: set[str] = set()
    while buf[p] and chr(buf[p]) in known:  # check_special_flags
        c = chr(buf[p])
        flags.update(c + IMPLIES.get(c, ""))
        p += 1
    if buf[p] == 0x0A:
        p += 1
    if p != count or (chr(delim) in known and flag_delim_refused):
        raise Errno("EINVAL")
    return Entry(name=name, magic_type=kind == ord("M"), offset=offset, magic=magic, mask=mask,
                 interpreter=interpreter, flags=frozenset(flags))


# ---------------------------------------------------------------- the instance

def parse_command(data: bytes) -> str | None:
    """parse_command(): "0", "1", "-1" (optional '\\n'), None for an empty write."""
    if len(data) > 3:
        raise Errno("EINVAL")
    if not data:
        return None
    cmd = data[:-1] if data.endswith(b"\n") else data
    if cmd in (b"0", b"1", b"-1"):
        return cmd.decode()
    raise Errno("EINVAL")


class Instance:
    """One binfmt_misc instance (per user namespace since 6.7)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []  # newest first
        self.enabled = True

        self.staged: list[Entry] = []  # D entries never enabled: files, not searched

    def find(self, name: bytes) -> Entry | None:
        return next((e for e in self.entries + self.staged if e.name == name), None)

    def register(self, reg: bytes, fs: FS, cwd: Node, profile: Profile) -> None:
        """bm_register_write()."""
        e = create_entry(reg, profile.binprm_buf_size, flag_delim_refused=profile.has("8e85d50ba111"),
                         flags=flag_chars(profile), profile=profile)
        f_first = profile.has("e7850f4d844e")
        if f_first and "F" in e.flags:
            e.interp_file = open_exec(fs, cwd, e.interpreter, profile)
        if len(e.name) > NAME_MAX:
            raise Errno("ENAMETOOLONG")  # simple_lookup
        if e.name in RESERVED or self.find(e.name):
            raise Errno("EEXIST")
        if not f_first and "F" in e.flags:
            e.interp_file = open_exec(fs, cwd, e.interpreter, profile)
        (self.staged if e.staged else self.entries).insert(0, e)  # add_entry

    def write(self, op: MiscWrite, fs: FS, cwd: Node, profile: Profile) -> None:
        """A write to a control file, opened by name in the instance's directory."""
        if op.file == b"register":
            return self.register(op.data, fs, cwd, profile)
        target = self._open(op.file)
        if target is None:  # the directory itself
            raise Errno("EISDIR")
        if isinstance(target, Entry) and profile.has("6ec7c96bee30"):
            # bm_entry_write: the longest command is a '+name path' binding
            if len(op.data) > MAX_BINDING_LENGTH:
                raise Errno("E2BIG")
            if op.data.startswith(b"+"):
                raise Errno("EINVAL")  # binding is for B entries only
        cmd = parse_command(op.data)
        if cmd is None:
            return
        if isinstance(target, bytes):  # b"status" (b"register" was handled above)
            if cmd == "-1":
                self.entries.clear()
                self.staged.clear()
            else:
                self.enabled = cmd == "1"
            return
        if cmd == "-1":
            self.remove(target)
        else:
            target.enabled = cmd == "1"
            if target.enabled and target.staged:  # the first enable publishes it, at the head
                target.staged = False
                self.staged.remove(target)
                self.entries.insert(0, target)

    def remove(self, e: Entry) -> None:
        self.entries = [x for x in self.entries if x is not e]
        self.staged = [x for x in self.staged if x is not e]

    def unlink(self, name: bytes, profile: Profile) -> None:
        """unlinkat(instance, name, 0): do_unlinkat, then vfs_unlink, then bm_unlink."""
        if not name:
            raise Errno("ENOENT")
        if b"/" in name:
            raise Errno("EINVAL")  # the executor refuses names with '/'
        if name in (b".", b".."):
            raise Errno("EISDIR")  # do_unlinkat: the last component is not a plain name
        target = self._open(name)  # ENAMETOOLONG, ENOENT
        if not profile.has("22c879a60d82") or not isinstance(target, Entry):
            raise Errno("EPERM")  # no ->unlink before 7.3; the control files have no entry
        self.remove(target)

    def _open(self, name: bytes) -> Entry | bytes | None:
        """What opening `name` in the instance gives: an entry, b"status",
        b"register", None for a directory; Errno otherwise."""
        if b"/" in name:
            raise Errno("EINVAL")  # the executor refuses names with '/'
        if name in (b".", b".."):
            return None
        if len(name) > NAME_MAX:
            raise Errno("ENAMETOOLONG")
        if name in RESERVED:
            return name
        e = self.find(name)
        if e is None:
            raise Errno("ENOENT")
        return e

    def read(self, name: bytes) -> bytes | dict[str, str]:
        """The text of a control file, or {"errno": ...}."""
        try:
            target = self._open(name)
        except Errno as err:
            return {"errno": err.name}
        if target is None:
            return {"errno": "EISDIR"}
        if target == b"register":
            return {"errno": "EINVAL"}  # no read method
        if isinstance(target, bytes):  # b"status"
            return b"enabled\n" if self.enabled else b"disabled\n"
        return target.status()

    def read_all(self, names: tuple[bytes, ...]) -> dict[bytes, bytes | dict[str, str]]:
        return {n: self.read(n) for n in names}


def apply(misc: Instance, op: bytes | MiscWrite | MiscUnlink, fs: FS, cwd: Node, profile: Profile) -> None:
    """One item of the case's binfmt_misc list: a registration, a control write or an unlink."""
    if isinstance(op, bytes):
        misc.register(op, fs, cwd, profile)
    elif isinstance(op, MiscWrite):
        misc.write(op, fs, cwd, profile)
    else:
        misc.unlink(op.file, profile)


# ---------------------------------------------------------------- the handler

def load_misc_binary(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    """load_misc_binary(): the first enabled entry that matches decides.

    Classic dispatch: the caller's argv[0] is dropped unless P keeps it (and
    marks AT_FLAGS_PRESERVE_ARGV0, 2347961b11d4), the binary's name and the
    interpreter are pushed in front, a name from a close-on-exec fd is ENOENT
    (the interpreter could not open it).  T (75e536852f9a) builds no argv at
    all -- so no ENOENT either: the binary travels as AT_EXECFD -- and marks
    the exec transparent (exe link, comm and AT_FLAGS then present the
    binary: exec.new_program).  L (83cd3989ba09) opens its substitute now
    (F: the file opened at registration), stashes it in bprm.loader and
    declines with ENOEXEC, so the next formats get the same file in the same
    round: binfmt_elf takes the substitute instead of opening its PT_INTERP;
    a format that rewrites (a "#!" script) makes exec_binprm drop it; a file
    no format claims stays ENOEXEC."""
    misc = bprm.misc
    if misc is None or not misc.enabled:
        raise Errno("ENOEXEC")
    fmt = next((e for e in misc.entries if e.enabled and e.matches(bprm.interp, buf)), None)
    if fmt is None:
        raise Errno("ENOEXEC")
    if "L" in fmt.flags:
        try:
            bprm.loader = fmt.interp_file or open_exec(bprm.fs, bprm.cwd, fmt.interpreter, bprm.profile)
        except Errno as err:  # declining would run the binary's own PT_INTERP
            raise Errno("EACCES" if err.name == "ENOEXEC" else err.name) from None
        raise Errno("ENOEXEC")
    if "T" not in fmt.flags:
        if bprm.path_inaccessible:  # the interpreter could not open the file after exec
            raise Errno("ENOENT")
        if "P" in fmt.flags:
            bprm.preserve_argv0 = True  # AT_FLAGS_PRESERVE_ARGV0 (2347961b11d4)
        else:
            bprm.remove_arg_zero()
        bprm.push_string(bprm.interp)
        bprm.push_string(fmt.interpreter)
        bprm.argv[:0] = [fmt.interpreter, bprm.interp]
    bprm.interp = fmt.interpreter
    if fmt.interp_file is not None:
        bprm.interpreter = fmt.interp_file
    else:
        bprm.interpreter = open_exec(bprm.fs, bprm.cwd, fmt.interpreter, bprm.profile)
    if "T" in fmt.flags:
        bprm.transparent = True  # raised only past the last failure
    if "O" in fmt.flags:
        bprm.have_execfd = True
    return {}
