"""Strategies for credentials on exec and mounts in the case root (LTP
execve02, prctl06, mount03; kselftest check-exec): an identity for the
call (uid, gid, supplementary groups, no_new_privs), files owned by
anyone with set-id and permission bits, a directory the caller may or may
not search, a script whose set-id bits are ignored in favour of its
interpreter's, and noexec / nosuid / ro mounts (a second tmpfs, or the
root mount itself)."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File, FileCaps, Mount

UIDS = (0, 1000, 1001)
GIDS = (0, 1000, 2000, 5)
FILE_MODES = (0o755, 0o4755, 0o2755, 0o6755, 0o4711, 0o2745, 0o6701, 0o700, 0o750, 0o705, 0o610, 0o4700,
              0o2710, 0o644, 0o4644, 0o001, 0o010, 0o100)
# No sticky world-writable directory: a symlink there is refused to other
# users by fs.protected_symlinks (may_follow_link), which is 1 on the Debian
# guests and 0 on the host -- a sysctl the model does not know (yet).
DIR_MODES = (0o755, 0o700, 0o710, 0o701, 0o750, 0o705, 0o0, 0o777)


def identity():
    return st.fixed_dictionaries({
        "uid": st.sampled_from(UIDS), "gid": st.sampled_from(GIDS),
        "groups": st.lists(st.sampled_from(GIDS), unique=True, max_size=2).map(tuple)})


@st.composite
def cred_cases(draw) -> Case:
    d_on_mount = draw(st.booleans())
    files = [
        File(path=b"/d", type="dir", mode=draw(st.sampled_from(DIR_MODES)), uid=draw(st.sampled_from(UIDS)),
             gid=draw(st.sampled_from(GIDS))),
        File(path=b"/d/p", type="probe", tag="P", mode=draw(st.sampled_from(FILE_MODES)),
             uid=draw(st.sampled_from(UIDS)), gid=draw(st.sampled_from(GIDS))),
        File(path=b"/i", type="probe", tag="I", mode=draw(st.sampled_from(FILE_MODES)),
             uid=draw(st.sampled_from(UIDS)), gid=draw(st.sampled_from(GIDS))),
        # a script: its own set-id bits never count, the interpreter's do
        File(path=b"/d/s", type="file", data=b"#!/i\n", mode=draw(st.sampled_from((0o4755, 0o6755, 0o755, 0o700))),
             uid=draw(st.sampled_from(UIDS)), gid=draw(st.sampled_from(GIDS))),
        File(path=b"/d/l", type="symlink", mode=0o777, data=b"p"),
    ]
    mounts: list[Mount] = []
    flags = st.lists(st.sampled_from(("ro", "nosuid", "noexec")), unique=True, max_size=3).map(tuple)
    if draw(st.integers(0, 3)) == 0:
        mounts.append(Mount(path=b"/", flags=draw(flags)))
    if d_on_mount:
        mounts.append(Mount(path=b"/d", flags=draw(flags)))
    ident = draw(st.one_of(st.none(), identity()))
    nnp = draw(st.integers(0, 3)) == 0
    path, cwd = draw(st.sampled_from([(b"/d/p", b"/"), (b"/d/s", b"/"), (b"p", b"/d"), (b"./s", b"/d"),
                                      (b"/d/l", b"/"), (b"/d/../d/p", b"/"), (b"/i", b"/d"), (b"../i", b"/d")]))
    kw = {}
    if ident is not None:
        kw = {"uid": ident["uid"], "gid": ident["gid"], "groups": ident["groups"]}
    if draw(st.integers(0, 4)) == 0:  # through a dirfd the case's root opened
        dirfd, path = draw(st.sampled_from([(b"/d", b"p"), (b"/d", b"s"), (b"/d/p", b""), (b"/d/s", b"")]))
        return Case(files=tuple(files), mounts=tuple(mounts), exec=Exec(
            path=path, argv=(b"x",), envp=(), cwd=cwd, syscall="execveat", dirfd=dirfd,
            flags=("AT_EMPTY_PATH",) if not path else (), no_new_privs=nnp, **kw))
    return Case(files=tuple(files), mounts=tuple(mounts),
                exec=Exec(path=path, argv=(b"x",), envp=(), cwd=cwd, no_new_privs=nnp, **kw))


SECBITS = ("EXEC_RESTRICT_FILE", "EXEC_RESTRICT_FILE_LOCKED", "EXEC_DENY_INTERACTIVE", "EXEC_DENY_INTERACTIVE_LOCKED")


@st.composite
def securebits_cases(draw) -> Case:
    """kselftest check-exec: the EXEC_* securebits set by the caller (root or
    not, with or without no_new_privs), then execve or execveat with or
    without AT_EXECVE_CHECK of a program, a script, a file without x bits,
    a directory or a file on a noexec mount.  Exec never reads the bits:
    the check answers as the exec would, and the program runs with the bits
    still set."""
    base = draw(cred_cases())
    bits = tuple(draw(st.lists(st.sampled_from(SECBITS), unique=True, min_size=1, max_size=4)))
    e = base.exec
    kw = dict(path=e.path, argv=e.argv, envp=e.envp, cwd=e.cwd, uid=e.uid, gid=e.gid, groups=e.groups,
              no_new_privs=e.no_new_privs, securebits=bits)
    check = draw(st.booleans())
    if e.syscall == "execveat" or check:
        dirfd = e.dirfd if e.syscall == "execveat" else None
        flags = tuple(f for f in (e.flags if e.syscall == "execveat" else ())) + (("AT_EXECVE_CHECK",) if check else ())
        return Case(files=base.files, mounts=base.mounts,
                    exec=Exec(syscall="execveat", dirfd=dirfd, flags=tuple(dict.fromkeys(flags)), **kw))
    return Case(files=base.files, mounts=base.mounts, exec=Exec(**kw))


CAP_BITS = (0, 1, 7, 12, 17, 21, 40)  # CAP_CHOWN, DAC_OVERRIDE, SETUID, NET_ADMIN, SYS_RAWIO, SYS_ADMIN, the last
ROOTIDS = (None, None, 0, 1000, 1)


def file_caps():
    mask = st.lists(st.sampled_from(CAP_BITS), unique=True, max_size=3).map(lambda bs: sum(1 << b for b in bs))
    return st.builds(FileCaps, permitted=mask, inheritable=mask, effective=st.booleans(),
                     rootid=st.sampled_from(ROOTIDS))


@st.composite
def filecaps_cases(draw) -> Case:
    """File capabilities (security.capability, LTP filecaps, kselftest
    capabilities): a probe with or without them -- revision 2, or 3 with
    the namespace's root id or another id (ignored) -- set-uid-root or
    not, run directly or as a script's interpreter (the script's own
    capabilities never count) by root or another user, under no_new_privs,
    on a nosuid mount or not; fP with CAP_SYS_RAWIO, which the bounding
    set lacks, makes an effective file EPERM."""
    caps = draw(st.one_of(st.none(), file_caps(), file_caps()))
    files = [
        File(path=b"/d", type="dir", mode=0o755),
        # set-uid files owned by root and by another user: with capabilities
        # too, a real root's exec of a set-uid-1000 one keeps the bounding
        # set (handle_privileged_root) where the file's alone would not do
        File(path=b"/d/p", type="probe", tag="P", mode=draw(st.sampled_from((0o755, 0o4755, 0o4755, 0o2755, 0o711))),
             uid=draw(st.sampled_from((0, 1000))), gid=draw(st.sampled_from((0, 1000))), caps=caps),
        File(path=b"/d/s", type="file", data=b"#!/d/p\n", mode=draw(st.sampled_from((0o755, 0o4755))),
             caps=draw(st.one_of(st.none(), file_caps()))),
    ]
    mounts = (Mount(path=b"/d", flags=draw(st.sampled_from((("nosuid",), ("nosuid",), ("noexec",), ())))),) \
        if draw(st.integers(0, 2)) == 0 else ()
    ident = draw(st.one_of(st.none(), identity()))
    kw = {} if ident is None else {"uid": ident["uid"], "gid": ident["gid"], "groups": ident["groups"]}
    if draw(st.integers(0, 3)) == 0:
        # the corner of handle_privileged_root: root runs a file set-uid to
        # another user that has capabilities -- the real root still gets the
        # bounding set, the file's effective flag decides pE'
        fc = draw(file_caps())
        files[1] = File(path=b"/d/p", type="probe", tag="P", mode=0o4755, uid=1000, caps=FileCaps(
            permitted=fc.permitted & ~(1 << 17), inheritable=fc.inheritable, effective=fc.effective, rootid=None))
        kw, mounts = {}, ()
    return Case(files=tuple(files), mounts=mounts, exec=Exec(
        path=draw(st.sampled_from((b"/d/p", b"/d/p", b"/d/s"))), argv=(b"x",), envp=(),
        no_new_privs=draw(st.integers(0, 3)) == 0, **kw))
