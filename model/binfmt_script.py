"""fs/binfmt_script.c: load_script(), the "#!" handler.

The buffer is the first BINPRM_BUF_SIZE bytes (256; 128 before 6eb3c3d0a52d),
NUL-padded.  Rules, in the order load_script applies them:
- Not "#!" at offset 0: ENOEXEC (the next handler tries).
- The line ends at the first '\\n' in the whole buffer.  With no newline the
  interpreter path must be followed by a space, tab or NUL somewhere in the
  buffer (else it may be truncated: ENOEXEC; an all-blank buffer: ENOEXEC)
  and the line then ends at the buffer's last byte, which is dropped.
- Trailing spaces/tabs are trimmed; only space and tab are blanks (CR, VT,
  FF are ordinary bytes).  Leading blanks after "#!" are skipped; nothing
  left: ENOEXEC.
- The name runs to the first space, tab or NUL; after a space/tab the rest
  of the line (from its first non-blank byte, up to any NUL) is one optional
  argument.  A NUL ends the name and means "no argument".
- A file name made from a close-on-exec fd: ENOENT (after parsing, since the
  5.8 rework; before it this came first).
- argv becomes [name, (arg), bprm->interp, argv[1:]...]; each string is
  counted against the argument space (E2BIG).
- bprm->interp becomes the name; the name is opened with open_exec()
  relative to the cwd, following symlinks.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Errno
from .namei import may_open_exec

if TYPE_CHECKING:
    from .exec import Bprm

BLANKS = b" \t"


def parse_shebang(buf: bytes) -> tuple[bytes, bytes | None]:
    """(interpreter name, optional argument) of a "#!" buffer, or Errno ENOEXEC."""
    size = len(buf)
    buf_end = size - 1
    end = buf.find(b"\n")
    if end < 0:
        i = 2
        while i <= buf_end and buf[i] in BLANKS:
            i += 1
        if i > buf_end:
            raise Errno("ENOEXEC")  # the whole buffer is blanks
        while i <= buf_end and buf[i] not in b" \t\0":
            i += 1
        if i > buf_end:
            raise Errno("ENOEXEC")  # the interpreter path may be truncated
        end = buf_end
    while buf[end - 1] in BLANKS:
        end -= 1
    name = 2
    while name <= end and buf[name] in BLANKS:
        name += 1
    if name > end or name == end:
        raise Errno("ENOEXEC")  # no interpreter name
    sep = name
    while sep <= end and buf[sep] not in b" \t\0":
        sep += 1
    arg = None
    if sep <= end and buf[sep] != 0:
        a = sep
        while a <= end and buf[a] in BLANKS:
            a += 1
        if a <= end:
            arg = buf[a:end].split(b"\0", 1)[0]
    stop = min(sep, end)
    return buf[name:stop].split(b"\0", 1)[0], arg


def load_script(bprm: "Bprm", buf: bytes) -> dict:
    if buf[:2] != b"#!":
        raise Errno("ENOEXEC")
    name, arg = parse_shebang(buf)
    if bprm.path_inaccessible:  # checked after parsing since 5.8; all profiles are newer
        raise Errno("ENOENT")
    bprm.remove_arg_zero()
    new = [name] + ([arg] if arg is not None else []) + [bprm.interp]
    for s in reversed(new):  # pushed in reverse: interp, arg, name
        bprm.push_string(s)
    bprm.argv[:0] = new
    bprm.interp = name
    bprm.interpreter = open_exec(bprm, name)
    return {}


def open_exec(bprm: "Bprm", name: bytes):
    """open_exec(): getname_kernel (no empty-name check) + do_open_execat(AT_FDCWD)."""
    if len(name) >= 4096:
        raise Errno("ENAMETOOLONG")
    node = bprm.fs.lookup(bprm.cwd, name, follow=True) if name else bprm.cwd
    may_open_exec(node)
    return node
