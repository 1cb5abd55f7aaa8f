"""Strategies for exec of files that are not regular (kselftest
exec/non-regular.c, check-exec.c): a character and a block device (binds
of the target's /dev/null and /dev/loop0), a unix socket, a FIFO and a directory, reached by
path, through a symlink, as the file of an AT_EMPTY_PATH descriptor
(O_PATH for the socket, which no other open accepts), as a #! interpreter,
with or without AT_EXECVE_CHECK, by the case's root or another user, on a
noexec mount or not.  may_open() refuses them all before any permission
or mount flag is looked at (EACCES); a probe next to them keeps the
property honest about what does run."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File, Mount

from .common import probe, script
from .creds import GIDS, UIDS

KINDS = ("chardev", "blockdev", "socket", "fifo", "dir")
# only O_PATH opens these as a dirfd: a socket (no_open, ENXIO), the
# target's loop0 (0600 root on the host, no driver in a guest)
OPATH_ONLY = ("socket", "blockdev")


@st.composite
def nonregular_cases(draw) -> Case:
    kind = draw(st.sampled_from(KINDS))
    target = b"/d/x"
    if kind in ("chardev", "blockdev"):
        node = File(path=target, type=kind, mode=0o644)
    else:
        node = File(path=target, type=kind, mode=draw(st.sampled_from((0o755, 0o777, 0o644, 0o000, 0o4755))),
                    uid=draw(st.sampled_from(UIDS)), gid=draw(st.sampled_from(GIDS)))
    files = [
        File(path=b"/d", type="dir", mode=0o755),
        node,
        File(path=b"/d/l", type="symlink", mode=0o777, data=b"x"),
        probe(b"/d/p", "P"),
        script(b"/d/s", b"#!/d/x\n"),
        script(b"/d/t", b"#!/d/l arg\n"),
    ]
    if draw(st.booleans()):  # a second device or socket beside the first
        files.append(File(path=b"/e", type=draw(st.sampled_from(("chardev", "blockdev", "socket"))), mode=0o644))
    mounts = (Mount(path=b"/d", flags=("noexec",)),) if draw(st.integers(0, 3)) == 0 else ()
    kw: dict = {}
    if draw(st.integers(0, 3)) == 0:
        kw = {"uid": draw(st.sampled_from(UIDS)), "gid": draw(st.sampled_from(GIDS)), "groups": ()}
    check = draw(st.booleans())
    how = draw(st.sampled_from(("path", "link", "script", "script-link", "fd", "relative", "probe", "second")))
    path = {"path": b"/d/x", "link": b"/d/l", "script": b"/d/s", "script-link": b"/d/t", "relative": b"x",
            "probe": b"/d/p", "second": b"/e", "fd": b""}[how]
    argv = (b"x",)
    if how == "fd":
        return Case(files=tuple(files), mounts=mounts, exec=Exec(
            path=b"", argv=argv, envp=(), syscall="execveat", dirfd=draw(st.sampled_from((b"/d/x", b"/d/l"))),
            dirfd_opath=kind in OPATH_ONLY or draw(st.booleans()),
            flags=("AT_EMPTY_PATH", "AT_EXECVE_CHECK") if check else ("AT_EMPTY_PATH",), **kw))
    if how == "relative":  # through the device or socket as if it were a directory: ENOTDIR
        return Case(files=tuple(files), mounts=mounts, exec=Exec(
            path=draw(st.sampled_from((b"x", b"p", b"."))), argv=argv, envp=(), syscall="execveat",
            dirfd=b"/d/x", dirfd_opath=kind in OPATH_ONLY or draw(st.booleans()),
            flags=("AT_EXECVE_CHECK",) if check else (), **kw))
    if check:
        return Case(files=tuple(files), mounts=mounts, exec=Exec(
            path=path, argv=argv, envp=(), syscall="execveat", flags=("AT_EXECVE_CHECK",), **kw))
    return Case(files=tuple(files), mounts=mounts, exec=Exec(path=path, argv=argv, envp=(), **kw))
