"""Strategies for execveat(2): dirfd as a directory, file, symlink or FIFO
(opened O_RDONLY or O_PATH, close-on-exec or not), AT_FDCWD, or a raw fd
number; empty, relative and absolute paths; AT_EMPTY_PATH,
AT_SYMLINK_NOFOLLOW, AT_EXECVE_CHECK and unknown flag bits; the target a
probe, a script, or nothing executable."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File

from .common import probe, script

FILES = (
    File(path=b"/d", type="dir", mode=0o755),
    probe(b"/d/probe", "P"),
    probe(b"/d/a-long-probe-name-here", "LONG"),
    script(b"/d/script", b"#!/d/probe -s\n"),
    script(b"/d/badscript", b"#!\n"),
    probe(b"/d/noexec", "NX", mode=0o644),
    File(path=b"/d/lprobe", type="symlink", mode=0o777, data=b"probe"),
    File(path=b"/d/lscript", type="symlink", mode=0o777, data=b"/d/script"),
    File(path=b"/d/sub", type="dir", mode=0o755),
    File(path=b"/d/fifo", type="fifo", mode=0o755),
)
DIRFDS = [b"/d", b"/d/sub", b"/", b"/d/probe", b"/d/script", b"/d/lprobe", b"/d/lscript", b"/d/noexec",
          b"/d/fifo", b"/d/badscript", "AT_FDCWD", 99, -1, 1]
PATHS = [b"", b"probe", b"script", b"lprobe", b"lscript", b"../d/probe", b"/d/probe", b"/d/script",
         b"/d/lprobe", b"missing", b"sub", b"noexec", b"badscript", b".", b"../d/script", b"sub/../probe"]
FLAGS = ["AT_EMPTY_PATH", "AT_SYMLINK_NOFOLLOW", "AT_EXECVE_CHECK", "0x8000", "0x200"]


@st.composite
def execveat_cases(draw) -> Case:
    dirfd = draw(st.sampled_from(DIRFDS))
    path = draw(st.sampled_from(PATHS))
    flags = draw(st.lists(st.sampled_from(FLAGS), unique=True, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        flags = ["AT_EMPTY_PATH"]
        path = b""
    cloexec = isinstance(dirfd, bytes) and draw(st.booleans())
    opath = isinstance(dirfd, bytes) and draw(st.integers(0, 3)) == 0
    argv = draw(st.sampled_from([(b"x",), (), None, (b"argv0", b"1")]))
    cwd = draw(st.sampled_from([b"/", b"/d"]))
    return Case(files=FILES, exec=Exec(path=path, argv=argv, envp=(b"K=V",), cwd=cwd, syscall="execveat",
                                       dirfd=None if dirfd == "AT_FDCWD" else dirfd, flags=tuple(flags),
                                       dirfd_cloexec=cloexec, dirfd_opath=opath))


CHANGED_FILES = (
    File(path=b"/d", type="dir", mode=0o755),
    probe(b"/d/p", "P"),
    script(b"/d/s", b"#!/d/p -s\n"),
    File(path=b"/d/e", type="dir", mode=0o755),
)


@st.composite
def changed_cases(draw) -> Case:
    """execveat through a descriptor whose file was unlinked or renamed, or
    whose directory was removed, after the open (kselftest execveat.c, LTP
    execveat03): the fd still names the file; names in a removed directory
    are gone; the exe link of an unlinked file says "(deleted)"."""
    ops = []
    for choices in ([None, ("unlink", b"/d/p", b""), ("rename", b"/d/p", b"/d/q"), ("rename", b"/d/p", b"/q")],
                    [None, ("unlink", b"/d/s", b""), ("rename", b"/d/s", b"/d/t")],
                    [None, ("rmdir", b"/d/e", b"")]):
        op = draw(st.sampled_from(choices))
        if op is not None:
            ops.append(op)
    dirfd = draw(st.sampled_from([b"/d", b"/d/p", b"/d/s", b"/d/e"]))
    flags: tuple[str, ...]
    if draw(st.booleans()):
        path, flags = b"", ("AT_EMPTY_PATH",)
    else:
        path = draw(st.sampled_from([b"p", b"s", b"q", b"t", b"../p", b"/d/q", b"/q", b"..", b"../d/t"]))
        flags = ()
    return Case(files=CHANGED_FILES, exec=Exec(
        path=path, argv=(b"x",), envp=(), syscall="execveat", dirfd=dirfd, flags=flags,
        dirfd_cloexec=draw(st.booleans()), after_open=tuple(ops)))
