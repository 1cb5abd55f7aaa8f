"""Strategies for "#!" scripts (binfmt_script).

They aim at load_script's boundaries: line lengths around BINPRM_BUF_SIZE
(128 and 256; a third of the cases exactly at the edge, limit -2 .. +1),
leading/trailing blanks, every separator byte between the interpreter and
its argument (space, tab, CR, VT, FF, NUL), no trailing newline, an
argument that crosses the buffer's end, and interpreter chains and loops of
depth 0-8.
"""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File

from .common import BUF_SIZES, exact_path, probe, script, vector_strings

SEPARATORS = [b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\0", b"  ", b" \t", b"\t ", b""]
BLANKS = st.lists(st.sampled_from([b" ", b"\t"]), max_size=4).map(b"".join)
ARG_BYTES = st.lists(st.sampled_from([b"a", b"-x", b" ", b"\t", b"\r", b"\0", b"\x0b", b"\xff", b"z"]),
                     max_size=6).map(b"".join)
ENDINGS = [b"\n", b"", b"\r\n", b"\n\n", b" \n"]


def _decoys(line: bytes, interp: bytes) -> list[bytes]:
    """Other names the kernel might look up for this line (a cut or widened
    interpreter path); a probe is placed at each that can exist, so those
    outcomes are rich `exec` outcomes too."""
    out = []
    for size in BUF_SIZES:
        # the last byte of a newline-less buffer is dropped; a path cut there
        cut = line[:size - 1]
        tail = cut[2:].lstrip(b" \t").split(b"\n")[0]
        for stop in (b"\0", b" ", b"\t"):
            tail = tail.split(stop)[0]
        out.append(tail)
    widened = line[2:].lstrip(b" \t").split(b"\n")[0].split(b"\0")[0]
    for c in (b" ", b"\t"):
        widened = widened.split(c)[0]
    out.append(widened)
    return [p for p in out if p != interp and _can_exist(p)]


def _fits(files: list[File], p: bytes) -> bool:
    """p can be added as a file: not taken, not a parent or child of another."""
    return not any(f.path == p or p.startswith(f.path + b"/") or f.path.startswith(p + b"/") for f in files)


def _can_exist(p: bytes) -> bool:
    comps = p.split(b"/")
    return (p.startswith(b"/") and len(p) < 4096 and b"\0" not in p and not p.endswith(b"/")
            and all(0 < len(c) <= 255 and c not in (b".", b"..") for c in comps[1:]))


@st.composite
def shebang_cases(draw) -> Case:
    size = draw(st.sampled_from(BUF_SIZES))
    lead = draw(BLANKS)
    sep = draw(st.sampled_from(SEPARATORS))
    arg = draw(ARG_BYTES) if sep else b""
    trail = draw(BLANKS)
    # Where the line (without its ending) stops, relative to the buffer.  A
    # third of the cases put it exactly at the edge (its newline, or the
    # byte load_script drops when there is none, at index size-2 .. size+1),
    # so an off-by-one in BINPRM_BUF_SIZE shows in every default run, not
    # only in the pinned cases: with a loose range Hypothesis spends its
    # examples on the range's ends and simple values.
    if draw(st.integers(0, 2)) == 0:
        line_len = size + draw(st.sampled_from([-1, 0, -2, 1]))
        ending = draw(st.sampled_from([b"\n", b"", b" \n"]))
    else:
        ending = draw(st.sampled_from(ENDINGS))
        line_len = draw(st.one_of(st.integers(size - 4, size + 4), st.integers(size // 2 - 2, size // 2 + 2),
                                  st.integers(4, 2 * size + 40)))
    fixed = 2 + len(lead) + len(sep) + len(arg) + len(trail)
    interp = exact_path(max(2, min(line_len - fixed, 600)), leaf=draw(st.sampled_from([b"p", b"probe", b"sh"])))
    line = b"#!" + lead + interp + sep + arg + trail + ending
    body = line + draw(st.sampled_from([b"", b"echo not really a shell\n", b"\0\0", b"#!/x\n"]))
    files: list[File] = [script(b"/s", body)]
    if draw(st.integers(0, 9)) < 8 and _fits(files, interp):
        files.append(probe(interp, "I"))
    for i, d in enumerate(_decoys(line, interp)):
        if _fits(files, d):
            files.append(probe(d, f"D{i}"))
    argv = draw(st.one_of(st.just([b"s"]), vector_strings(3), st.none()))
    return Case(files=tuple(files), exec=Exec(path=b"/s", argv=None if argv is None else tuple(argv), envp=(b"E=1",)))


@st.composite
def chain_cases(draw) -> Case:
    """Scripts whose interpreters are scripts: chains of depth 0-8 ending in a
    probe, a missing file, or a loop back to an earlier script."""
    depth = draw(st.integers(0, 8))
    end = draw(st.sampled_from(["probe", "probe", "missing", "loop", "self", "noexec", "dir", "empty"]))
    files: list[File] = []
    names = [b"/c%d" % i for i in range(depth + 1)]
    for i in range(depth + 1):
        if i < depth:
            nxt = names[i + 1]
        elif end == "loop":
            nxt = names[draw(st.integers(0, depth))]
        elif end == "self":
            nxt = names[i]
        else:
            nxt = b"/bin/end"
        arg = draw(st.sampled_from([b"", b" -a", b"\t-b c"]))
        files.append(script(names[i], b"#!" + nxt + arg + b"\n"))
    if depth == 0 and end in ("loop", "self"):
        files[0] = script(names[0], b"#!" + names[0] + b"\n")
    if end == "probe":
        files.append(probe(b"/bin/end", "END"))
    elif end == "noexec":
        files.append(File(path=b"/bin/end", type="probe", mode=0o644, tag="NX"))
    elif end == "dir":
        files.append(File(path=b"/bin/end", type="dir", mode=0o755))
    elif end == "empty":
        files.append(script(b"/bin/end", b""))
    argv = draw(st.one_of(st.just([b"c0", b"x"]), vector_strings(2), st.none()))
    return Case(files=tuple(files), exec=Exec(path=names[0], argv=None if argv is None else tuple(argv), envp=()))
