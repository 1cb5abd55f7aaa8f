"""Boundary strategies: the exact limit, limit +- 1, at small stack limits,
for rules whose ordinary generators reach the edge too rarely to pin them
(issue 18: mutants of model/ that only pinned cases killed, or none).

- arg_floor_cases: the ARG_MAX (128 KiB) floor of bprm_stack_limits() at
  stack limits whose quarter is below it (256 KiB, 384 KiB) or exactly it.
- stack_page_cases: get_arg_page()'s growth check, which counts 8 + used
  bytes in whole pages, at 8-64 KiB stack limits: only the E2BIG side of
  the edge (just below it the strings fit but the new program's pointers
  then do not, a SIGSEGV after the point of no return the model leaves out).
- tiny_stack_cases: a stack limit under one page (0, 1, 2048, 4095) with
  small strings: the first page needs no growth, so the exec goes on (a
  SIGSEGV of the new program is the model's alternative).
- strlen_cases: one argument or environment string of MAX_ARG_STRLEN - 1,
  MAX_ARG_STRLEN or MAX_ARG_STRLEN + 1 bytes with its NUL (131072 fits).
- trailing_nofollow_cases: a trailing slash makes the last component be
  followed even under AT_SYMLINK_NOFOLLOW.
- name_max_cases: NAME_MAX on a missing component, middle or last.
- phdr_limit_cases: the 64 KiB program-header table limit (2048 ia32 /
  1170 x86-64 headers) and the older one-page limit.
- min_addr_cases: a PT_LOAD exactly at, or a page below, vm.mmap_min_addr
  (4096 on the host the model describes).
- dotdot_cases: a cwd or dirfd path ending in "..".
"""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File

from .common import probe, script
from .elf import _case, _move, _pad_phdrs
from .elfbuild import ET_EXEC, encode, program
from .vectors import arg_space

FILES = (probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe -a\n"))


def _fill(target: bytes, argv: list[bytes], envp: list[bytes], total: int, nfill: int, in_argv: bool
          ) -> tuple[list[bytes], list[bytes]]:
    each = total // nfill
    fill = [b"F" * max((each if i < nfill - 1 else total - each * (nfill - 1)) - 1, 0) for i in range(nfill)]
    return (argv + fill, envp) if in_argv else (argv, envp + fill)


@st.composite
def arg_floor_cases(draw) -> Case:
    """The total at the limit, +-: at the 128 KiB floor (256/384 KiB stacks),
    at a quarter of the stack exactly (512 KiB), at the 6 MiB cap
    (unlimited, 32 MiB); with argc == 0 too (counted as one pointer and an
    empty argv[0] on current kernels)."""
    rlimit = draw(st.sampled_from([256 << 10, 384 << 10, 512 << 10, (512 << 10) + 4, 300 << 10, -1, 32 << 20]))
    target = draw(st.sampled_from([b"/bin/probe", b"/s"]))
    argc0 = target == b"/bin/probe" and draw(st.integers(0, 2)) == 0
    argv = [] if argc0 else [b"a0"]
    envp = [b"K=V"]
    nfill = draw(st.integers(1, 3)) if rlimit in (-1, 32 << 20) else draw(st.integers(1, 3))
    if rlimit in (-1, 32 << 20):
        nfill = max(nfill, 64)  # 6 MiB in strings of at most MAX_ARG_STRLEN
    in_argv = not argc0 and draw(st.booleans())
    ptrs = (max(len(argv) + (nfill if in_argv else 0), 1) + len(envp) + (0 if in_argv else nfill)) * 8
    used = len(target) + 1 + sum(len(s) + 1 for s in argv + envp) + ptrs + (1 if argc0 else 0)
    delta = draw(st.sampled_from([0, 1, -1, 2, 8, -8, 4096]))
    argv, envp = _fill(target, argv, envp, arg_space(rlimit) - used + delta, nfill, in_argv)
    return Case(files=FILES, exec=Exec(path=target, argv=tuple(argv), envp=tuple(envp), rlimit_stack=rlimit))


@st.composite
def stack_page_cases(draw) -> Case:
    rlimit = draw(st.sampled_from([8192, 12288, 16384, 65536]))
    # string bytes in use: rlimit - 7 .. rlimit + 1 (E2BIG by 8 + used), and
    # where `used` alone would still fit
    used = rlimit + draw(st.sampled_from([-7, -6, -4, -1, 0, 1]))
    path = b"/bin/probe"
    rest = used - (len(path) + 1) - 2  # argv[0] = "x"
    return Case(files=FILES, exec=Exec(path=path, argv=(b"x", b"F" * (rest - 1)), envp=(), rlimit_stack=rlimit))


@st.composite
def tiny_stack_cases(draw) -> Case:
    rlimit = draw(st.sampled_from([0, 1, 2048, 4095]))
    n = draw(st.sampled_from([0, 1, 100, 3000]))
    return Case(files=FILES, exec=Exec(path=b"/bin/probe", argv=(b"x", b"F" * n), envp=(), rlimit_stack=rlimit))


@st.composite
def strlen_cases(draw) -> Case:
    n = 32 * 4096 + draw(st.sampled_from([-2, -1, 0]))  # bytes before the NUL
    s = b"S" * n
    if draw(st.booleans()):
        return Case(files=FILES, exec=Exec(path=b"/bin/probe", argv=(b"x", s), envp=()))
    return Case(files=FILES, exec=Exec(path=b"/bin/probe", argv=(b"x",), envp=(b"E=" + s[2:],)))


@st.composite
def trailing_nofollow_cases(draw) -> Case:
    files = (File(path=b"/d", type="dir", mode=0o755), probe(b"/d/p", "P"),
             File(path=b"/ld", type="symlink", mode=0o777, data=b"d"),
             File(path=b"/lp", type="symlink", mode=0o777, data=b"/d/p"),
             File(path=b"/ll", type="symlink", mode=0o777, data=b"ld"),
             File(path=b"/lm", type="symlink", mode=0o777, data=b"missing"))
    name = draw(st.sampled_from([b"ld", b"lp", b"ll", b"lm", b"d"]))
    suffix = draw(st.sampled_from([b"/", b"//", b"/.", b""]))
    path = draw(st.sampled_from([b"", b"/"])) + name + suffix
    flags = draw(st.sampled_from([("AT_SYMLINK_NOFOLLOW",), (), ("AT_SYMLINK_NOFOLLOW", "AT_EXECVE_CHECK")]))
    return Case(files=files, exec=Exec(path=path, argv=(b"x",), envp=(), syscall="execveat", flags=flags))


@st.composite
def name_max_cases(draw) -> Case:
    n = draw(st.sampled_from([255, 256, 257, 300]))
    long = b"n" * n
    files = (probe(b"/p", "P"), File(path=b"/d", type="dir", mode=0o755))
    path = draw(st.sampled_from([b"/" + long + b"/p", b"/d/" + long + b"/p", b"/" + long + b"/" + long,
                                 b"/d/" + long, b"/" + long, b"/d/" + long + b"/../p", b"/x/" + long + b"/p"]))
    return Case(files=files, exec=Exec(path=path, argv=(b"x",), envp=()))


@st.composite
def phdr_limit_cases(draw) -> Case:
    cls = draw(st.sampled_from([1, 2]))
    size = 32 if cls == 1 else 56
    edge = draw(st.sampled_from([65536, 4096]))
    n = edge // size + draw(st.sampled_from([0, 1, -1]))
    e = program(cls=cls, type=ET_EXEC, base=0x8048000 if cls == 1 else 0x400000, nsegs=1)
    return _case(encode(_pad_phdrs(e, n)))


@st.composite
def min_addr_cases(draw) -> Case:
    cls = draw(st.sampled_from([1, 2]))
    e = program(cls=cls, type=ET_EXEC, base=0x8048000 if cls == 1 else 0x400000, nsegs=1)
    return _case(encode(_move(e, draw(st.sampled_from([4096, 0, 8192])))))


@st.composite
def dotdot_cases(draw) -> Case:
    files = (File(path=b"/d", type="dir", mode=0o755), File(path=b"/d/sub", type="dir", mode=0o755),
             probe(b"/d/p", "P"), probe(b"/p", "R"), File(path=b"/d/ls", type="symlink", mode=0o777, data=b"sub"))
    base = draw(st.sampled_from([b"/d/sub/..", b"/d/..", b"/..", b"/d/sub/../..", b"/d/ls/..", b"/d/sub/../sub/.."]))
    path = draw(st.sampled_from([b"p", b"d/p", b"../p", b"sub/../p"]))
    if draw(st.booleans()):
        return Case(files=files, exec=Exec(path=path, argv=(b"x",), envp=(), cwd=base))
    return Case(files=files, exec=Exec(path=path, argv=(b"x",), envp=(), syscall="execveat", dirfd=base))
