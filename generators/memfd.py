"""Strategies for exec of a memfd (kselftest memfd_test.c, check-exec.c;
what container runtimes do): memfd_create() with or without MFD_EXEC /
MFD_NOEXEC_SEAL / MFD_ALLOW_SEALING and MFD_CLOEXEC, filled with a probe or
a script, then execveat(memfd, "", AT_EMPTY_PATH), maybe with
AT_EXECVE_CHECK, by root or another user, under no_new_privs, with the
case's root mounted noexec (which a memfd never is)."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import MEMFD_FLAGS, Case, Exec, File, Mount

from .creds import GIDS, UIDS


@st.composite
def memfd_cases(draw) -> Case:
    files = (
        File(path=b"/p", type="probe", tag="P", mode=draw(st.sampled_from((0o755, 0o644, 0o4755, 0o000)))),
        File(path=b"/i", type="probe", tag="I", mode=0o755),
        File(path=b"/s", type="file", data=draw(st.sampled_from((b"#!/i\n", b"#!/i arg\n", b"#!/nope\n"))),
             mode=0o644),
    )
    flags = draw(st.lists(st.sampled_from(sorted(MEMFD_FLAGS)), unique=True, max_size=2)
                 .filter(lambda f: not {"MFD_EXEC", "MFD_NOEXEC_SEAL"} <= set(f)))
    mounts = (Mount(path=b"/", flags=("noexec",)),) if draw(st.integers(0, 3)) == 0 else ()
    kw = {}
    if draw(st.integers(0, 2)) == 0:
        kw = {"uid": draw(st.sampled_from(UIDS)), "gid": draw(st.sampled_from(GIDS)), "groups": ()}
    at = ["AT_EMPTY_PATH"]
    if draw(st.integers(0, 3)) == 0:
        at.append("AT_EXECVE_CHECK")
    # vm.memfd_noexec of the case's PID namespace (a guest's root can set it;
    # the sandbox's user-namespace root cannot: those cases skip there)
    sysctl = draw(st.sampled_from((None, None, 0, 1, 2)))
    return Case(files=files, mounts=mounts, exec=Exec(
        path=b"", argv=draw(st.sampled_from(((b"x",), (b"x", b"y"), ()))), envp=(b"E=1",), cwd=b"/",
        syscall="execveat", dirfd=draw(st.sampled_from((b"/p", b"/s"))), flags=tuple(at),
        dirfd_cloexec=draw(st.booleans()), memfd=tuple(sorted(flags, key=MEMFD_FLAGS.__getitem__)),
        no_new_privs=draw(st.integers(0, 3)) == 0, memfd_noexec=sysctl, **kw))
