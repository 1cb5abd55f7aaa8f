"""Building blocks shared by the case strategies."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File

NAME_MAX = 255
PATH_MAX = 4096
BUF_SIZES = (128, 256)  # BINPRM_BUF_SIZE before and after 6eb3c3d0a52d

# Bytes that matter to exec's parsers: the blanks, the near-blanks that are
# not blanks to load_script, NUL, newline, '/', '.', and high bytes.
SPECIAL = b" \t\r\x0b\x0c\0\n/.\xff\x80"


def probe(path: bytes, tag: str = "P", mode: int = 0o755) -> File:
    return File(path=path, type="probe", mode=mode, tag=tag)


def script(path: bytes, data: bytes, mode: int = 0o755) -> File:
    return File(path=path, type="file", mode=mode, data=data)


def case(files, path: bytes, argv=(b"x",), envp=(), **kw) -> Case:
    return Case(files=tuple(files), exec=Exec(path=path, argv=None if argv is None else tuple(argv),
                                              envp=None if envp is None else tuple(envp), **kw))


def name_bytes(min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[bytes]:
    """A file name: no '/' or NUL; mostly readable, sometimes odd bytes."""
    alphabet = st.sampled_from(list(b"abcxyzPQ019_-.") + [0x20, 0x09, 0x0D, 0xFF, 0x80, 0x0B])
    return st.lists(alphabet, min_size=min_size, max_size=max_size).map(bytes).filter(
        lambda b: b not in (b".", b".."))


def exact_path(length: int, leaf: bytes = b"p") -> bytes:
    """An absolute path of exactly `length` bytes ending in `leaf`, with every
    component at most NAME_MAX (so it can exist)."""
    body = length - 1 - len(leaf)  # "/" + dirs + leaf
    if body < 0:
        return (b"/" + leaf)[:max(length, 2)] if length >= 2 else b"/"
    parts, left = [], body
    while left > 0:
        # each directory chunk costs len + 1 (its slash)
        n = min(NAME_MAX, left - 1) if left > 1 else 0
        if n <= 0:  # one byte left: lengthen the leaf instead of an empty component
            leaf = b"q" + leaf
            left -= 1
            break
        parts.append(b"d" * n)
        left -= n + 1
    return b"/" + b"".join(p + b"/" for p in parts) + leaf


def vector_strings(max_size: int = 5) -> st.SearchStrategy[list[bytes]]:
    s = st.binary(max_size=12).map(lambda b: b.replace(b"\0", b"\x01"))
    return st.lists(s, max_size=max_size)
