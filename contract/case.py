"""Cases and outcomes as defined by shared/case-format.md (version 1).

Byte strings stay `bytes` in memory; JSON uses a plain string when the bytes
are valid UTF-8 and {"b64": ...} otherwise, so every byte but NUL round-trips.
A malformed case raises CaseError naming the offending field; nothing runs.
Optional extensions are listed in docs/case-format-extensions.md.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FILE_TYPES = ("probe", "file", "dir", "symlink", "fifo", "chardev", "blockdev", "socket")
# Non-regular files a target makes without privilege: "chardev" and
# "blockdev" are bind mounts of the target's own /dev/null and /dev/loop0
# (never a node made with mknod, which a user namespace refuses anyway),
# "socket" a unix socket bound at the path.
DEVICE_NODES = {"chardev": "/dev/null", "blockdev": "/dev/loop0"}
SOCKET_NAME_MAX = 107  # sockaddr_un.sun_path holds the name (the target binds in the parent directory)
# Every AT_* name of the kernel's include/uapi/linux/fcntl.h (the *at() flag
# namespace, read in Debian's linux-source-7.3), so a corpus may name any of
# them; names that share a value (AT_REMOVEDIR, AT_EACCESS, AT_HANDLE_FID) are
# the same bits to execveat.  AT_FDCWD is a dirfd value, accepted as its bits
# (-100).  The auxiliary-vector types of auxvec.h (AT_BASE, AT_FLAGS, ...)
# share the prefix but are not flags: refused, saying so.
# The securebits of AT_EXECVE_CHECK (include/uapi/linux/securebits.h, 6.14):
# advice to interpreters, which exec itself never reads.
SECUREBITS = {"EXEC_RESTRICT_FILE": 1 << 8, "EXEC_RESTRICT_FILE_LOCKED": 1 << 9,
              "EXEC_DENY_INTERACTIVE": 1 << 10, "EXEC_DENY_INTERACTIVE_LOCKED": 1 << 11}

# memfd_create() flags of exec.memfd (include/uapi/linux/memfd.h); MFD_CLOEXEC
# is exec.dirfd_cloexec.  MFD_EXEC / MFD_NOEXEC_SEAL came in 6.3 (105ff5339f49).
MEMFD_FLAGS = {"MFD_ALLOW_SEALING": 0x2, "MFD_NOEXEC_SEAL": 0x8, "MFD_EXEC": 0x10}

# exec.rlimit_nofile at most fs.nr_open's default (1 << 20): setrlimit refuses more
MAX_RLIMIT_NOFILE = 1 << 20

# personality(2) flags of exec.personality (include/uapi/linux/personality.h)
PERSONALITY_FLAGS = {"ADDR_NO_RANDOMIZE": 0x0040000}

EXEC_FLAGS = {
    "AT_SYMLINK_NOFOLLOW": 0x100, "AT_EMPTY_PATH": 0x1000, "AT_EXECVE_CHECK": 0x10000,
    "AT_FDCWD": -100, "AT_REMOVEDIR": 0x200, "AT_EACCESS": 0x200, "AT_HANDLE_FID": 0x200,
    "AT_SYMLINK_FOLLOW": 0x400, "AT_NO_AUTOMOUNT": 0x800, "AT_RECURSIVE": 0x8000,
    "AT_STATX_SYNC_TYPE": 0x6000, "AT_STATX_SYNC_AS_STAT": 0x0000, "AT_STATX_FORCE_SYNC": 0x2000,
    "AT_STATX_DONT_SYNC": 0x4000, "AT_RENAME_NOREPLACE": 0x1, "AT_RENAME_EXCHANGE": 0x2,
    "AT_RENAME_WHITEOUT": 0x4, "AT_HANDLE_MNT_ID_UNIQUE": 0x1, "AT_HANDLE_CONNECTABLE": 0x2,
}
AUXV_TYPES = frozenset({
    "AT_NULL", "AT_IGNORE", "AT_EXECFD", "AT_PHDR", "AT_PHENT", "AT_PHNUM", "AT_PAGESZ", "AT_BASE",
    "AT_FLAGS", "AT_ENTRY", "AT_NOTELF", "AT_UID", "AT_EUID", "AT_GID", "AT_EGID", "AT_PLATFORM",
    "AT_HWCAP", "AT_CLKTCK", "AT_SECURE", "AT_BASE_PLATFORM", "AT_RANDOM", "AT_HWCAP2",
    "AT_RSEQ_FEATURE_SIZE", "AT_RSEQ_ALIGN", "AT_HWCAP3", "AT_HWCAP4", "AT_EXECFN", "AT_MINSIGSTKSZ"})
DEFAULT_RLIMIT_STACK = 8 << 20
RLIM_INFINITY = -1
# harness.build.PROBES lists the first two (every executor loads them); the
# rest are the userspace callers of "search" cases and what they need
# (harness/userspace), loaded only by the executors that run those.
# pie64k/pie2m/pie2m_at64k: the static-PIE probe with PT_LOAD p_align 64 KiB
# or 2 MiB (and its first p_vaddr at 64 KiB); static32/pie32: the probe built
# for ia32 (harness/build.py).
CORE_PROBE_VARIANTS = ("static", "pie", "pie64k", "pie2m", "pie2m_at64k", "static32", "pie32")
PROBE_VARIANTS = CORE_PROBE_VARIANTS + ("fallback", "dash", "bash", "busybox", "ld.so", "libc", "libtinfo")
# exec.via of a "search" case: who looks exec.path up in PATH (model/userspace.py)
SEARCH_VIAS = ("execvp", "execvpe", "posix_spawnp", "dash", "bash", "busybox")


def _limits() -> dict[str, int]:
    # contract/caselimits.h, read here without importing harness.build (no compiler needed)
    from pathlib import Path
    out = {}
    for line in (Path(__file__).resolve().parent / "caselimits.h").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "#define" and parts[2].isdigit():
            out[parts[1]] = int(parts[2])
    return out


LIMITS = _limits()
TAG_MAX = LIMITS["MAX_TAG"]  # the probe's tag slot holds 63 bytes plus NUL


class CaseError(ValueError):
    """A case or outcome that does not follow the case format; `field` names where."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.field = where


CAP_LAST_CAP = 40  # CAP_CHECKPOINT_RESTORE (5.9 to 7.3)
CAP_MASK = (1 << (CAP_LAST_CAP + 1)) - 1


@dataclass(frozen=True)
class FileCaps:
    """security.capability of a file (include/uapi/linux/capability.h
    vfs_ns_cap_data): permitted and inheritable masks, the effective flag,
    and the namespace root id (VFS_CAP_REVISION_3) or None (revision 2)."""
    permitted: int = 0
    inheritable: int = 0
    effective: bool = False
    rootid: int | None = None


@dataclass(frozen=True)
class File:
    path: bytes
    type: str
    mode: int
    data: bytes = b""  # file contents, or a symlink's target
    tag: str = ""
    variant: str = "static"  # which probe program (harness.build.PROBES)
    # held open O_WRONLY by the target from before the binfmt_misc writes
    # until the exec, so deny_write_access() sees i_writecount > 0 (ETXTBSY)
    open_for_write: bool = False
    uid: int = 0  # owner inside the case's user namespace (0..ID_COUNT-1)
    gid: int = 0
    caps: FileCaps | None = None  # security.capability, set last (chown and writes clear it)


@dataclass(frozen=True)
class Exec:
    path: bytes | None
    argv: tuple[bytes, ...] | None
    envp: tuple[bytes, ...] | None
    cwd: bytes = b"/"
    syscall: str = "execve"
    dirfd: bytes | int | None = None  # bytes: a path opened as fd 3; int: a raw fd number
    flags: tuple[str, ...] = ()
    dirfd_cloexec: bool = False
    dirfd_opath: bool = False
    rlimit_stack: int = DEFAULT_RLIMIT_STACK  # RLIM_INFINITY (-1) for unlimited
    via: str | None = None  # syscall "search": the caller (SEARCH_VIAS)
    search_path: bytes | None = None  # syscall "search": PATH in the caller's environment (None: unset)
    # The identity that makes the call (real = effective = saved), set after
    # the cwd, the dirfd and the writers are opened as the case's root; None
    # keeps that root (uid 0, gid 0, no supplementary groups).
    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] | None = None
    no_new_privs: bool = False
    # securebits the caller sets with prctl(PR_SET_SECUREBITS) just before the
    # call (names of SECUREBITS; 6.14+, settable without CAP_SETPCAP)
    securebits: tuple[str, ...] = ()
    # the dirfd is a memfd (memfd_create("execspec", these flags)) holding a
    # copy of the file at `dirfd`, not that file; None: an ordinary open
    memfd: tuple[str, ...] | None = None
    # done by the case's root after the dirfd is opened, before the call:
    # ("unlink", path, b""), ("rename", from, to), ("rmdir", path, b"")
    after_open: tuple[tuple[str, bytes, bytes], ...] = ()
    # vm.memfd_noexec (0-2) written in the case's PID namespace before the
    # memfd_create(); None leaves it (0 in a fresh namespace of a 0 parent)
    memfd_noexec: int | None = None
    # personality(2) flags set just before the call (PERSONALITY_FLAGS)
    personality: tuple[str, ...] = ()
    # RLIMIT_NOFILE set just before the call (None leaves the target's); it
    # bounds the descriptor begin_new_exec() gives a binfmt_misc O/C
    # interpreter (AT_EXECFD)
    rlimit_nofile: int | None = None
    # exec.concurrent: how many processes make the call at once (1: just the
    # caller); the outcome then lists the N-1 siblings' outcomes too
    concurrent: int = 1
    # exec.from_thread: a second thread of the caller makes the call
    # (de_thread); its `exec` outcomes carry `pid`
    from_thread: bool = False

    @property
    def personality_bits(self) -> int:
        m = 0
        for f in self.personality:
            m |= PERSONALITY_FLAGS[f]
        return m

    @property
    def memfd_bits(self) -> int:
        m = 0
        for f in self.memfd or ():
            m |= MEMFD_FLAGS[f]
        return m

    @property
    def securebits_mask(self) -> int:
        m = 0
        for b in self.securebits:
            m |= SECUREBITS[b]
        return m

    @property
    def has_identity(self) -> bool:
        return self.uid is not None or self.gid is not None or self.groups is not None

    @property
    def flag_bits(self) -> int:
        bits = 0
        for f in self.flags:
            bits |= EXEC_FLAGS[f] if f in EXEC_FLAGS else int(f, 0)
        return bits & 0xFFFFFFFF  # the int the syscall takes


@dataclass(frozen=True)
class MiscWrite:
    """A write to a binfmt_misc control file: "status" or an entry's name."""
    file: bytes
    data: bytes


@dataclass(frozen=True)
class MiscUnlink:
    """unlink(2) of a name in the binfmt_misc instance (an entry: removed on 7.3+)."""
    file: bytes


MOUNT_FLAGS = ("ro", "nosuid", "noexec")


@dataclass(frozen=True)
class Mount:
    """A mount in the case's root: "/" is the root mount itself (flags only);
    any other path is a fresh tmpfs mounted there before the files are made
    (so the files under it live on it); the flags are applied once every
    file exists (MS_REMOUNT|MS_BIND)."""
    path: bytes
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    files: tuple[File, ...]
    exec: Exec
    binfmt_misc: tuple[bytes | MiscWrite | MiscUnlink, ...] = ()  # registrations, control writes, unlinks
    name: str | None = None
    binfmt_misc_read: tuple[bytes, ...] = ()  # entries whose text the outcome reports
    mounts: tuple[Mount, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------- byte strings

def encode_bytes(b: bytes) -> Any:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(b).decode("ascii")}


def decode_bytes(v: Any, where: str, allow_nul: bool = False) -> bytes:
    if isinstance(v, bytes):
        b = v
    elif isinstance(v, str):
        try:
            b = v.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise CaseError(where, "holds a lone surrogate (\\ud800-\\udfff), which is no byte string; "
                                   "use {\"b64\": ...} for bytes that are not UTF-8") from None
    elif isinstance(v, dict) and set(v) == {"b64"} and isinstance(v["b64"], str):
        try:
            b = base64.b64decode(v["b64"], validate=True)
        except (binascii.Error, ValueError) as e:
            raise CaseError(where, f"bad base64: {e}") from None
    else:
        raise CaseError(where, f"expected a string or {{\"b64\": ...}}, got {type(v).__name__}")
    if not allow_nul and b"\0" in b:
        raise CaseError(where, "contains a NUL byte, which cannot pass through execve")
    return b


# ---------------------------------------------------------------- loading

def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise CaseError(where, f"expected an object, got {type(v).__name__}")
    return v


def _no_unknown(d: dict[str, Any], known: Iterable[str], where: str) -> None:
    extra = set(d) - set(known)
    if extra:
        raise CaseError(f"{where}.{sorted(extra)[0]}", "unknown field")


def _mode(v: Any, default: int, where: str) -> int:
    if v is None:
        return default
    if not isinstance(v, str):
        raise CaseError(where, f"expected an octal string such as \"0755\", got {v!r}")
    try:
        m = int(v, 8)
    except ValueError:
        raise CaseError(where, f"not an octal mode: {v!r}") from None
    if not 0 <= m <= 0o7777:
        raise CaseError(where, f"mode out of range: {v!r}")
    return m


def _vector(v: Any, where: str) -> tuple[bytes, ...] | None:
    if v is None:
        return None
    if not isinstance(v, list):
        raise CaseError(where, "expected a list or null")
    return tuple(decode_bytes(s, f"{where}[{i}]") for i, s in enumerate(v))


def _file(d: Any, where: str) -> File:
    d = _obj(d, where)
    _no_unknown(d, ("path", "type", "mode", "data", "tag", "target", "variant", "open_for_write", "uid", "gid",
                    "caps"), where)
    if "path" not in d:
        raise CaseError(f"{where}.path", "missing")
    path = decode_bytes(d["path"], f"{where}.path")
    if not path.startswith(b"/"):
        raise CaseError(f"{where}.path", "must be absolute inside the case root")
    if any(c in (b"", b".", b"..") for c in path.strip(b"/").split(b"/")) and path.strip(b"/"):
        raise CaseError(f"{where}.path", "has an empty, '.' or '..' component")
    if len(path) >= LIMITS["MAX_PATH"]:
        raise CaseError(f"{where}.path", f"{len(path)} bytes: a file the target creates must fit PATH_MAX "
                                         f"({LIMITS['MAX_PATH']} with its NUL)")
    if any(len(c) > LIMITS["MAX_NAME"] for c in path.split(b"/")):
        raise CaseError(f"{where}.path", f"has a component over NAME_MAX ({LIMITS['MAX_NAME']} bytes)")
    t = d.get("type")
    if t not in FILE_TYPES:
        raise CaseError(f"{where}.type", f"expected one of {', '.join(FILE_TYPES)}, got {t!r}")
    if t != "dir" and (path == b"/" or path.endswith(b"/")):
        raise CaseError(f"{where}.path", f"a {t} cannot be at / or have a trailing slash (only a dir can)")
    if t in DEVICE_NODES:
        for k in ("mode", "uid", "gid"):
            if k in d:
                raise CaseError(f"{where}.{k}", f"a {t} is a bind of the target's {DEVICE_NODES[t]}: its mode "
                                                "and owner are that node's, never changed")
    if t == "socket" and len(path.rsplit(b"/", 1)[-1]) > SOCKET_NAME_MAX:
        raise CaseError(f"{where}.path", f"a socket's name is at most {SOCKET_NAME_MAX} bytes (sun_path)")
    mode = _mode(d.get("mode"), 0o755 if t in ("probe", "dir") else 0o644, f"{where}.mode")
    data, tag = b"", ""
    if t == "file":
        data = decode_bytes(d.get("data", ""), f"{where}.data", allow_nul=True)
    elif "data" in d:
        raise CaseError(f"{where}.data", "only files of type \"file\" have data")
    if t == "symlink":
        if "target" not in d:
            raise CaseError(f"{where}.target", "missing for a symlink")
        data = decode_bytes(d["target"], f"{where}.target")
        if not data:
            raise CaseError(f"{where}.target", "empty (symlink(2) refuses it)")
    elif "target" in d:
        raise CaseError(f"{where}.target", "only symlinks have a target")
    if t == "probe":
        tag = d.get("tag", "")
        if not isinstance(tag, str) or "\0" in tag or len(tag.encode("utf-8", "replace")) > TAG_MAX:
            raise CaseError(f"{where}.tag", f"expected a string of at most {TAG_MAX} bytes")
        try:
            tag.encode()
        except UnicodeEncodeError:
            raise CaseError(f"{where}.tag", "holds a lone surrogate") from None
    elif "tag" in d:
        raise CaseError(f"{where}.tag", "only probes have a tag")
    variant = d.get("variant", "static")
    if "variant" in d and t != "probe":
        raise CaseError(f"{where}.variant", "only probes have a variant")
    if variant not in PROBE_VARIANTS:
        raise CaseError(f"{where}.variant", f"expected one of {', '.join(PROBE_VARIANTS)}, got {variant!r}")
    ofw = d.get("open_for_write", False)
    if not isinstance(ofw, bool):
        raise CaseError(f"{where}.open_for_write", f"expected true or false, got {ofw!r}")
    if ofw and t not in ("file", "probe"):
        raise CaseError(f"{where}.open_for_write", "only a regular file (file or probe) can be held open for writing")
    uid, gid = _id(d.get("uid", 0), f"{where}.uid"), _id(d.get("gid", 0), f"{where}.gid")
    caps = None
    if "caps" in d:
        if t not in ("file", "probe"):
            raise CaseError(f"{where}.caps", "only a regular file (file or probe) has file capabilities")
        caps = _caps(d["caps"], f"{where}.caps")
    return File(path=path, type=t, mode=mode, data=data, tag=tag, variant=variant, open_for_write=ofw,
                uid=uid, gid=gid, caps=caps)


def _caps(v: Any, where: str) -> FileCaps:
    v = _obj(v, where)
    _no_unknown(v, ("permitted", "inheritable", "effective", "rootid"), where)
    masks = []
    for k in ("permitted", "inheritable"):
        m = v.get(k, 0)
        if not isinstance(m, int) or isinstance(m, bool) or not 0 <= m <= CAP_MASK:
            raise CaseError(f"{where}.{k}", f"expected a capability bit mask 0..{CAP_MASK:#x} (bits 0..{CAP_LAST_CAP})")
        masks.append(m)
    eff = v.get("effective", False)
    if not isinstance(eff, bool):
        raise CaseError(f"{where}.effective", f"expected true or false, got {eff!r}")
    rootid = None if v.get("rootid") is None else _id(v["rootid"], f"{where}.rootid")
    return FileCaps(permitted=masks[0], inheritable=masks[1], effective=eff, rootid=rootid)


MAX_GROUPS = 32


def _id(v: Any, where: str) -> int:
    """A uid or gid inside the case's user namespace: the targets map
    0..ID_COUNT-1 (harness/native/caselimits.h), nothing else."""
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < LIMITS["ID_COUNT"]:
        raise CaseError(where, f"expected an id 0..{LIMITS['ID_COUNT'] - 1} (the ids a case's user "
                               f"namespace maps), got {v!r}")
    return v


def _exec(d: Any, where: str) -> Exec:
    d = _obj(d, where)
    known = ("path", "argv", "envp", "cwd", "syscall", "dirfd", "flags", "dirfd_cloexec",
             "dirfd_opath", "rlimit_stack", "via", "PATH", "uid", "gid", "groups", "no_new_privs", "after_open",
             "securebits", "memfd", "personality", "memfd_noexec", "rlimit_nofile", "concurrent",
             "from_thread")
    _no_unknown(d, known, where)
    for k in ("path", "argv", "envp"):
        if k not in d:
            raise CaseError(f"{where}.{k}", "missing")
    path = None if d["path"] is None else decode_bytes(d["path"], f"{where}.path")
    syscall = d.get("syscall", "execve")
    if syscall not in ("execve", "execveat", "search"):
        raise CaseError(f"{where}.syscall", f"expected \"execve\", \"execveat\" or \"search\", got {syscall!r}")
    via, search_path = None, None
    if syscall == "search":
        via = d.get("via")
        if via not in SEARCH_VIAS:
            raise CaseError(f"{where}.via", f"a search names its caller: one of {', '.join(SEARCH_VIAS)}, got {via!r}")
        if path is None:
            raise CaseError(f"{where}.path", "a search needs a name (it is a C string to every caller)")
        if d["argv"] is None:
            raise CaseError(f"{where}.argv", "a search passes argv to a library or a shell: a list, not null")
        if d["envp"] is None:
            raise CaseError(f"{where}.envp", "a search's caller has an environment: a list, not null")
        if "PATH" in d and d["PATH"] is not None:
            search_path = decode_bytes(d["PATH"], f"{where}.PATH")
    else:
        for k in ("via", "PATH"):
            if k in d:
                raise CaseError(f"{where}.{k}", "only meaningful with \"syscall\": \"search\"")
    dirfd: bytes | int | None = None
    flags: tuple[str, ...] = ()
    if syscall == "execveat":
        raw = d.get("dirfd", "AT_FDCWD")
        if raw == "AT_FDCWD":
            dirfd = None
        elif isinstance(raw, int) and not isinstance(raw, bool):
            if not -2**31 <= raw < 2**31:
                raise CaseError(f"{where}.dirfd", f"{raw} is no int: a descriptor number is 32-bit")
            if LIMITS["RESERVED_FD_MIN"] <= raw <= LIMITS["RESERVED_FD_MAX"]:
                raise CaseError(f"{where}.dirfd", f"descriptors {LIMITS['RESERVED_FD_MIN']}-"
                                f"{LIMITS['RESERVED_FD_MAX']} are the harness's own (status pipe, "
                                "writers, the probe's procfs); pick another number")
            dirfd = raw
        else:
            dirfd = decode_bytes(raw, f"{where}.dirfd")
        fl = d.get("flags", [])
        if not isinstance(fl, list):
            raise CaseError(f"{where}.flags", "expected a list of names")
        for i, f in enumerate(fl):
            if isinstance(f, str) and f in AUXV_TYPES:
                raise CaseError(f"{where}.flags[{i}]", f"{f} is an auxiliary-vector type (auxvec.h), not an *at() flag")
            if not isinstance(f, str) or (f not in EXEC_FLAGS and not _is_int(f)):
                raise CaseError(f"{where}.flags[{i}]", f"unknown flag {f!r} (names: {', '.join(EXEC_FLAGS)}, "
                                "or a number such as \"0x8000\")")
        flags = tuple(fl)
    else:
        for k in ("dirfd", "flags", "dirfd_cloexec", "dirfd_opath", "memfd"):
            if k in d:
                raise CaseError(f"{where}.{k}", "only meaningful with \"syscall\": \"execveat\"")
    for k in ("dirfd_cloexec", "dirfd_opath"):
        if not isinstance(d.get(k, False), bool):
            raise CaseError(f"{where}.{k}", "expected true or false")
        if d.get(k) and not isinstance(dirfd, bytes):
            raise CaseError(f"{where}.{k}", "needs a dirfd path")
    cwd = decode_bytes(d.get("cwd", "/"), f"{where}.cwd")
    if not cwd.startswith(b"/"):
        raise CaseError(f"{where}.cwd", "must be absolute")
    for k, v in (("cwd", cwd), ("dirfd", dirfd)):
        if isinstance(v, bytes) and len(v) >= LIMITS["MAX_PATH"]:
            raise CaseError(f"{where}.{k}", f"longer than PATH_MAX ({LIMITS['MAX_PATH']})")
    rl = d.get("rlimit_stack", DEFAULT_RLIMIT_STACK)
    if rl == "unlimited":
        rl = RLIM_INFINITY
    elif not isinstance(rl, int) or isinstance(rl, bool) or not 0 <= rl < 2**64 - 1:
        raise CaseError(f"{where}.rlimit_stack", "expected a byte count below 2**64 - 1 (RLIM_INFINITY) "
                                                 "or \"unlimited\"")
    uid = None if "uid" not in d else _id(d["uid"], f"{where}.uid")
    gid = None if "gid" not in d else _id(d["gid"], f"{where}.gid")
    groups = None
    if "groups" in d:
        if not isinstance(d["groups"], list):
            raise CaseError(f"{where}.groups", "expected a list of gids")
        if len(d["groups"]) > MAX_GROUPS:
            raise CaseError(f"{where}.groups", f"{len(d['groups'])} groups; at most {MAX_GROUPS}")
        groups = tuple(_id(g, f"{where}.groups[{i}]") for i, g in enumerate(d["groups"]))
    nnp = d.get("no_new_privs", False)
    if not isinstance(nnp, bool):
        raise CaseError(f"{where}.no_new_privs", f"expected true or false, got {nnp!r}")
    memfd = d.get("memfd")
    if memfd is not None:
        if not isinstance(memfd, list) or any(f not in MEMFD_FLAGS for f in memfd) or len(set(memfd)) != len(memfd):
            raise CaseError(f"{where}.memfd", f"expected a list of distinct names from {', '.join(MEMFD_FLAGS)}")
        if "MFD_EXEC" in memfd and "MFD_NOEXEC_SEAL" in memfd:
            raise CaseError(f"{where}.memfd", "MFD_EXEC and MFD_NOEXEC_SEAL together: memfd_create refuses (EINVAL)")
        if not isinstance(dirfd, bytes) or d.get("dirfd_opath"):
            raise CaseError(f"{where}.memfd", "needs a dirfd path (the file copied into the memfd), not dirfd_opath")
        if d.get("after_open"):
            raise CaseError(f"{where}.memfd", "not with after_open (the memfd has no name to change)")
        memfd = tuple(sorted(memfd, key=MEMFD_FLAGS.__getitem__))
    mnx = d.get("memfd_noexec")
    if mnx is not None:
        if memfd is None:
            raise CaseError(f"{where}.memfd_noexec", "only with exec.memfd (the sysctl decides memfd_create's flags)")
        if not isinstance(mnx, int) or isinstance(mnx, bool) or not 0 <= mnx <= 2:
            raise CaseError(f"{where}.memfd_noexec", f"expected 0, 1 or 2, got {mnx!r}")
    pers = d.get("personality", [])
    if not isinstance(pers, list) or any(f not in PERSONALITY_FLAGS for f in pers) or len(set(pers)) != len(pers):
        raise CaseError(f"{where}.personality",
                        f"expected a list of distinct names from {', '.join(PERSONALITY_FLAGS)}")
    if pers and syscall == "search":
        raise CaseError(f"{where}.personality", "not with a search (the caller execs more than once)")
    nofile = d.get("rlimit_nofile")
    if nofile is not None:
        if not isinstance(nofile, int) or isinstance(nofile, bool) or not 0 <= nofile <= MAX_RLIMIT_NOFILE:
            raise CaseError(f"{where}.rlimit_nofile", f"expected a descriptor count 0..{MAX_RLIMIT_NOFILE}")
        if syscall == "search":
            raise CaseError(f"{where}.rlimit_nofile", "not with a search (the caller opens files between its execs)")
    conc = d.get("concurrent", 1)
    if not isinstance(conc, int) or isinstance(conc, bool) or not 1 <= conc <= LIMITS["MAX_CONCURRENT"]:
        raise CaseError(f"{where}.concurrent", f"expected a process count 2..{LIMITS['MAX_CONCURRENT']} "
                                               f"(absent: 1), got {conc!r}")
    if conc > 1 and syscall == "search":
        raise CaseError(f"{where}.concurrent", "not with a search (its callers are userspace programs)")
    thread = d.get("from_thread", False)
    if not isinstance(thread, bool):
        raise CaseError(f"{where}.from_thread", f"expected true or false, got {thread!r}")
    if thread and syscall == "search":
        raise CaseError(f"{where}.from_thread", "not with a search (its callers are userspace programs)")
    sb = d.get("securebits", [])
    if not isinstance(sb, list) or any(b not in SECUREBITS for b in sb) or len(set(sb)) != len(sb):
        raise CaseError(f"{where}.securebits", f"expected a list of distinct names from {', '.join(SECUREBITS)}")
    ops = []
    raw_ops = d.get("after_open", [])
    if not isinstance(raw_ops, list) or len(raw_ops) > 8:
        raise CaseError(f"{where}.after_open", "expected a list of at most 8 operations")
    for i, op in enumerate(raw_ops):
        w = f"{where}.after_open[{i}]"
        op = _obj(op, w)
        if len(op) != 1 or next(iter(op)) not in ("unlink", "rename", "rmdir"):
            raise CaseError(w, "expected {\"unlink\": PATH}, {\"rename\": [FROM, TO]} or {\"rmdir\": PATH}")
        kind, v = next(iter(op.items()))
        if kind == "rename":
            if not isinstance(v, list) or len(v) != 2:
                raise CaseError(f"{w}.rename", "expected [FROM, TO]")
            a, b = (decode_bytes(x, f"{w}.rename[{j}]") for j, x in enumerate(v))
        else:
            a, b = decode_bytes(v, f"{w}.{kind}"), b""
        for x in (a, b) if kind == "rename" else (a,):
            if not x.startswith(b"/") or len(x) >= LIMITS["MAX_PATH"]:
                raise CaseError(f"{w}.{kind}", "expected an absolute path shorter than PATH_MAX")
        ops.append((kind, a, b))
    return Exec(path=path, argv=_vector(d["argv"], f"{where}.argv"),
                envp=_vector(d["envp"], f"{where}.envp"), cwd=cwd, syscall=syscall,
                dirfd=dirfd, flags=flags, dirfd_cloexec=d.get("dirfd_cloexec", False),
                dirfd_opath=d.get("dirfd_opath", False), rlimit_stack=rl, via=via, search_path=search_path,
                uid=uid, gid=gid, groups=groups, no_new_privs=nnp, after_open=tuple(ops),
                securebits=tuple(sorted(sb, key=SECUREBITS.__getitem__)), memfd=memfd, memfd_noexec=mnx,
                personality=tuple(sorted(pers, key=PERSONALITY_FLAGS.__getitem__)), rlimit_nofile=nofile,
                concurrent=conc, from_thread=thread)


def _is_int(s: str) -> bool:
    try:
        int(s, 0)
        return True
    except ValueError:
        return False


def case_from_json(d: Any, where: str = "case") -> Case:
    d = _obj(d, where)
    _no_unknown(d, ("name", "files", "binfmt_misc", "binfmt_misc_read", "exec", "tags", "mounts"), where)
    files = d.get("files", [])
    if not isinstance(files, list):
        raise CaseError(f"{where}.files", "expected a list")
    if len(files) > LIMITS["MAX_FILES"]:
        raise CaseError(f"{where}.files", f"{len(files)} files; at most {LIMITS['MAX_FILES']}")
    fs = tuple(_file(f, f"{where}.files[{i}]") for i, f in enumerate(files))
    kinds: dict[bytes, str] = {}
    for i, f in enumerate(fs):
        p = f.path.rstrip(b"/") or b"/"
        if p in kinds:
            raise CaseError(f"{where}.files[{i}].path", "listed twice")
        kinds[p] = f.type
    for i, f in enumerate(fs):
        # A file can only live under a directory: under a listed file it
        # cannot be made, and under a symlink it would be made wherever the
        # link points (the case's root is the only place a target may write).
        parts = f.path.rstrip(b"/").split(b"/")
        for k in range(2, len(parts)):
            parent = b"/".join(parts[:k])
            if kinds.get(parent, "dir") != "dir":
                raise CaseError(f"{where}.files[{i}].path", f"its parent {parent.decode(errors='replace')} "
                                f"is a {kinds[parent]}, not a directory")
    if sum(f.open_for_write for f in fs) > LIMITS["MAX_WOPEN"]:
        raise CaseError(f"{where}.files", f"more than {LIMITS['MAX_WOPEN']} files open_for_write")
    regs = d.get("binfmt_misc", [])
    if not isinstance(regs, list):
        raise CaseError(f"{where}.binfmt_misc", "expected a list")
    if len(regs) > LIMITS["MAX_OPS"]:
        raise CaseError(f"{where}.binfmt_misc", f"{len(regs)} writes; at most {LIMITS['MAX_OPS']}")
    bm = tuple(_misc_op(r, f"{where}.binfmt_misc[{i}]") for i, r in enumerate(regs))
    reads = d.get("binfmt_misc_read", [])
    if not isinstance(reads, list):
        raise CaseError(f"{where}.binfmt_misc_read", "expected a list of entry names")
    if len(reads) > LIMITS["MAX_READS"]:
        raise CaseError(f"{where}.binfmt_misc_read", f"{len(reads)} reads; at most {LIMITS['MAX_READS']}")
    rd = tuple(decode_bytes(r, f"{where}.binfmt_misc_read[{i}]") for i, r in enumerate(reads))
    for i, r in enumerate(rd):
        if len(r) > LIMITS["MAX_NAME"]:
            raise CaseError(f"{where}.binfmt_misc_read[{i}]", f"an entry name is at most {LIMITS['MAX_NAME']} bytes")
    if "exec" not in d:
        raise CaseError(f"{where}.exec", "missing")
    name = d.get("name")
    if name is not None and not isinstance(name, str):
        raise CaseError(f"{where}.name", "expected a string")
    extra = {"tags": d["tags"]} if "tags" in d else {}
    mounts = _mounts(d.get("mounts", []), kinds, f"{where}.mounts")
    for i, f in enumerate(fs):
        if f.open_for_write and "ro" in _mount_of(mounts, f.path).flags:
            raise CaseError(f"{where}.files[{i}].open_for_write", "the file is on a read-only mount (EROFS)")
    return Case(files=fs, exec=_exec(d["exec"], f"{where}.exec"), binfmt_misc=bm, name=name, extra=extra,
                binfmt_misc_read=rd, mounts=mounts)


MAX_MOUNTS = 16
_ROOT_MOUNT = Mount(path=b"/")


def _mount_of(mounts: tuple[Mount, ...], path: bytes) -> Mount:
    """The mount a file of the case lives on: the last listed whose path is
    the file's or one of its parents' (mounts nest in list order)."""
    p = path.rstrip(b"/") or b"/"
    found = _ROOT_MOUNT
    for m in mounts:
        if m.path == b"/" or p == m.path or p.startswith(m.path + b"/"):
            found = m
    return found


def _mounts(v: Any, kinds: dict[bytes, str], where: str) -> tuple[Mount, ...]:
    if not isinstance(v, list):
        raise CaseError(where, "expected a list of {\"path\": DIR, \"flags\": [...]}")
    if len(v) > MAX_MOUNTS:
        raise CaseError(where, f"{len(v)} mounts; at most {MAX_MOUNTS}")
    out: list[Mount] = []
    for i, m in enumerate(v):
        w = f"{where}[{i}]"
        m = _obj(m, w)
        _no_unknown(m, ("path", "flags"), w)
        if "path" not in m:
            raise CaseError(f"{w}.path", "missing")
        path = decode_bytes(m["path"], f"{w}.path")
        if not path.startswith(b"/") or (path != b"/" and (path.endswith(b"/") or any(
                c in (b"", b".", b"..") for c in path[1:].split(b"/")))):
            raise CaseError(f"{w}.path", "expected a normalised absolute directory path (\"/\" is the root mount)")
        if len(path) >= LIMITS["MAX_PATH"] or any(len(c) > LIMITS["MAX_NAME"] for c in path.split(b"/")):
            raise CaseError(f"{w}.path", "too long for a directory the target creates")
        parts = path.split(b"/")
        for k in range(2, len(parts) + 1):
            q = b"/".join(parts[:k])
            if kinds.get(q, "dir") != "dir":
                raise CaseError(f"{w}.path", f"{q.decode(errors='replace')} is a {kinds[q]}, not a directory")
        if any(o.path == path for o in out):
            raise CaseError(f"{w}.path", "mounted twice")
        if path == b"/" and out:
            raise CaseError(f"{w}.path", "the root mount (\"/\") must come first")
        for o in out:
            if o.path != b"/" and o.path.startswith(path + b"/"):
                raise CaseError(f"{w}.path", f"an earlier mount ({o.path.decode(errors='replace')}) lies under it; "
                                             "list outer mounts first")
        fl = m.get("flags", [])
        if not isinstance(fl, list) or any(f not in MOUNT_FLAGS for f in fl) or len(set(fl)) != len(fl):
            raise CaseError(f"{w}.flags", f"expected a list of distinct names from {', '.join(MOUNT_FLAGS)}")
        out.append(Mount(path=path, flags=tuple(fl)))
    return tuple(out)


def uses_creds(c: Case) -> bool:
    """Whether the case's `exec` outcomes carry the credential fields
    (CRED_FIELDS): it uses an identity, no_new_privs, file ownership,
    a set-id mode bit, file capabilities, a mount or securebits."""
    e = c.exec
    return bool(e.has_identity or e.no_new_privs or e.securebits or c.mounts
                or any(f.uid or f.gid or f.mode & 0o6000 or f.caps is not None for f in c.files))


# What the program runs with (getresuid/getresgid, capget's effective set,
# AT_SECURE, PR_GET_SECUREBITS): reported only for a case that uses_creds().
CRED_FIELDS = ("uid", "euid", "suid", "gid", "egid", "sgid", "cap_eff", "at_secure", "securebits")
# AT_PHDR, AT_ENTRY and AT_BASE as numbers: reported only for a case with
# exec.personality ADDR_NO_RANDOMIZE, where they are predictable, and only
# while the exec kept ADDR_NO_RANDOMIZE; `personality` (what the new program
# runs with) tells whether it did.
ADDR_FIELDS = ("at_phdr", "at_entry", "at_base_addr", "personality")


def _misc_op(v: Any, where: str) -> bytes | MiscWrite | MiscUnlink:
    """A registration string, {"write": FILE, "data": BYTES} for status/entry
    files, or {"unlink": NAME}."""
    if isinstance(v, dict) and "unlink" in v:
        _no_unknown(v, ("unlink",), where)
        return MiscUnlink(file=decode_bytes(v["unlink"], f"{where}.unlink"))
    if isinstance(v, dict) and "b64" not in v:
        _no_unknown(v, ("write", "data"), where)
        if "write" not in v or "data" not in v:
            raise CaseError(where, "a control write needs \"write\" (status or an entry name) and \"data\"")
        name = decode_bytes(v["write"], f"{where}.write")
        if len(name) > LIMITS["MAX_NAME"]:
            raise CaseError(f"{where}.write", f"an entry name is at most {LIMITS['MAX_NAME']} bytes")
        return MiscWrite(file=name, data=decode_bytes(v["data"], f"{where}.data", allow_nul=True))
    return decode_bytes(v, where, allow_nul=True)


def case_to_json(c: Case) -> dict[str, Any]:
    files = []
    for f in c.files:
        o: dict[str, Any] = {"path": encode_bytes(f.path), "type": f.type}
        if f.mode != (0o755 if f.type in ("probe", "dir") else 0o644):
            o["mode"] = f"{f.mode:04o}"
        if f.type == "file":
            o["data"] = encode_bytes(f.data)
        elif f.type == "symlink":
            o["target"] = encode_bytes(f.data)
        elif f.type == "probe":
            o["tag"] = f.tag
            if f.variant != "static":
                o["variant"] = f.variant
        if f.open_for_write:
            o["open_for_write"] = True
        if f.uid:
            o["uid"] = f.uid
        if f.gid:
            o["gid"] = f.gid
        if f.caps is not None:
            fc = f.caps
            o["caps"] = {"permitted": fc.permitted, **({"inheritable": fc.inheritable} if fc.inheritable else {}),
                         **({"effective": True} if fc.effective else {}),
                         **({"rootid": fc.rootid} if fc.rootid is not None else {})}
        files.append(o)
    e = c.exec
    ex: dict[str, Any] = {
        "path": None if e.path is None else encode_bytes(e.path),
        "argv": None if e.argv is None else [encode_bytes(a) for a in e.argv],
        "envp": None if e.envp is None else [encode_bytes(a) for a in e.envp],
    }
    if e.cwd != b"/":
        ex["cwd"] = encode_bytes(e.cwd)
    if e.syscall == "execveat":
        ex["syscall"] = "execveat"
        ex["dirfd"] = "AT_FDCWD" if e.dirfd is None else e.dirfd if isinstance(e.dirfd, int) else encode_bytes(e.dirfd)
        if e.flags:
            ex["flags"] = list(e.flags)
        if e.dirfd_cloexec:
            ex["dirfd_cloexec"] = True
        if e.dirfd_opath:
            ex["dirfd_opath"] = True
        if e.memfd is not None:
            ex["memfd"] = list(e.memfd)
        if e.memfd_noexec is not None:
            ex["memfd_noexec"] = e.memfd_noexec
    if e.syscall == "search":
        ex["syscall"] = "search"
        ex["via"] = e.via
        if e.search_path is not None:
            ex["PATH"] = encode_bytes(e.search_path)
    if e.rlimit_stack != DEFAULT_RLIMIT_STACK:
        ex["rlimit_stack"] = "unlimited" if e.rlimit_stack == RLIM_INFINITY else e.rlimit_stack
    if e.uid is not None:
        ex["uid"] = e.uid
    if e.gid is not None:
        ex["gid"] = e.gid
    if e.groups is not None:
        ex["groups"] = list(e.groups)
    if e.no_new_privs:
        ex["no_new_privs"] = True
    if e.securebits:
        ex["securebits"] = list(e.securebits)
    if e.personality:
        ex["personality"] = list(e.personality)
    if e.rlimit_nofile is not None:
        ex["rlimit_nofile"] = e.rlimit_nofile
    if e.concurrent != 1:
        ex["concurrent"] = e.concurrent
    if e.from_thread:
        ex["from_thread"] = True
    if e.after_open:
        ex["after_open"] = [{k: [encode_bytes(a), encode_bytes(b)]} if k == "rename" else {k: encode_bytes(a)}
                            for k, a, b in e.after_open]
    out: dict[str, Any] = {}
    if c.name is not None:
        out["name"] = c.name
    out.update(c.extra)
    out["files"] = files
    if c.binfmt_misc:
        out["binfmt_misc"] = [encode_bytes(r) if isinstance(r, bytes) else
                              {"unlink": encode_bytes(r.file)} if isinstance(r, MiscUnlink) else
                              {"write": encode_bytes(r.file), "data": encode_bytes(r.data)} for r in c.binfmt_misc]
    if c.binfmt_misc_read:
        out["binfmt_misc_read"] = [encode_bytes(r) for r in c.binfmt_misc_read]
    if c.mounts:
        out["mounts"] = [{"path": encode_bytes(m.path), **({"flags": list(m.flags)} if m.flags else {})}
                         for m in c.mounts]
    out["exec"] = ex
    return out


def parse_json(text: str | bytes, source: str = "case") -> Any:
    """JSON from an untrusted file: every failure is a CaseError naming it."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CaseError(source, f"not UTF-8 text (byte {e.start}); bytes that are not UTF-8 "
                                    "go in {\"b64\": ...}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CaseError(source, f"not JSON: {e}") from None
    except RecursionError:
        raise CaseError(source, "JSON nested too deeply") from None


def load_cases(text: str | bytes, source: str = "case") -> list[Case]:
    """A case file holds one case object or a JSON list of them."""
    out = []
    for c in load_cases_each(text, source):
        if isinstance(c, CaseError):
            raise c
        out.append(c)
    return out


def load_cases_each(text: str | bytes, source: str = "case") -> list[Case | CaseError]:
    """Like load_cases, but a bad case in a list is its own CaseError and
    the others still load (a corpus with one broken case still runs)."""
    d = parse_json(text, source)
    items = list(enumerate(d)) if isinstance(d, list) else [(None, d)]
    out: list[Case | CaseError] = []
    for i, c in items:
        try:
            out.append(case_from_json(c, source if i is None else f"{source}[{i}]"))
        except CaseError as e:
            out.append(e)
        except RecursionError:
            out.append(CaseError(source if i is None else f"{source}[{i}]", "nested too deeply"))
    return out


def dumps_case(c: Case) -> str:
    return json.dumps(case_to_json(c), ensure_ascii=False)


# ---------------------------------------------------------------- outcomes

# The outcomes of the exec call itself: with exec.concurrent each sibling has
# one of them too (anything else ends the case before the siblings exist, or
# ends all of them: a timeout, the output limit).
SIBLING_OUTCOMES = ("exec", "error", "signal", "exit", "returned")

OUTCOME_BYTES = ("argv", "envp", "execfn", "comm", "exe")


def _enc_entries(v: dict[str, Any]) -> dict[str, Any]:
    return {encode_bytes(k) if isinstance(k, bytes) else k: encode_bytes(t) if isinstance(t, bytes) else t
            for k, t in v.items()}


def outcome_to_json(o: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in o.items():
        if isinstance(v, bytes):
            out[k] = encode_bytes(v)
        elif isinstance(v, (list, tuple)) and k in ("argv", "envp"):
            out[k] = [encode_bytes(x) for x in v]
        elif k == "binfmt_misc_entries":
            out[k] = _enc_entries(v)
        elif k == "concurrent":  # the siblings' outcomes (exec.concurrent)
            out[k] = [outcome_to_json(x) for x in v]
        else:
            out[k] = v
    return out


def outcome_from_json(d: Any, where: str = "outcome") -> dict[str, Any]:
    d = _obj(d, where)
    kind = d.get("outcome")
    if kind not in ("exec", "error", "register-error", "signal", "exit", "timeout", "skip",
                    "output-limit", "case-error", "target-error"):
        raise CaseError(f"{where}.outcome", f"unknown outcome {kind!r}")
    out = dict(d)
    for k in ("argv", "envp"):
        if k in d:
            out[k] = [decode_bytes(x, f"{where}.{k}[{i}]") for i, x in enumerate(d[k])]
    for k in ("execfn", "comm", "exe"):
        if k in d:
            out[k] = decode_bytes(d[k], f"{where}.{k}")
    if "binfmt_misc_entries" in d:
        out["binfmt_misc_entries"] = {
            decode_bytes(k, f"{where}.binfmt_misc_entries"): v if isinstance(v, dict) and "errno" in v
            else decode_bytes(v, f"{where}.binfmt_misc_entries[{k}]", allow_nul=True)
            for k, v in d["binfmt_misc_entries"].items()}
    if "concurrent" in d:
        if not isinstance(d["concurrent"], list):
            raise CaseError(f"{where}.concurrent", "expected a list of outcomes")
        out["concurrent"] = [outcome_from_json(x, f"{where}.concurrent[{i}]") for i, x in enumerate(d["concurrent"])]
    return out


def dumps_outcome(o: dict[str, Any]) -> str:
    return json.dumps(outcome_to_json(o), ensure_ascii=False)


def diff_outcomes(expected: dict[str, Any], observed: dict[str, Any],
                  observable: frozenset[str] | None = None) -> list[str]:
    """Field-by-field differences; fields a target cannot observe are skipped.
    An expected outcome may list `alternatives` (outcomes a kernel race can
    also give): matching any of them is no difference."""
    if "concurrent" in expected or "concurrent" in observed:  # the caller, then its siblings
        lines = diff_outcomes(_caller(expected), _caller(observed), observable)
        return lines + _diff_siblings(expected.get("concurrent"), observed.get("concurrent"), observable)
    first, *alts = candidates(expected)
    lines = _diff(first, observed, observable)
    for alt in alts if lines else ():
        if not _diff(alt, observed, observable):
            return []
    return lines


def _caller(o: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in o.items() if k != "concurrent"}


def _diff_siblings(expected: list[dict[str, Any]] | None, observed: list[dict[str, Any]] | None,
                   observable: frozenset[str] | None) -> list[str]:
    """exec.concurrent: the siblings' outcomes as a multiset (their order
    means nothing), each matched against an expected one and its own
    alternatives (a race each sibling may lose on its own)."""
    if expected is None or observed is None or len(expected) != len(observed):
        shown = ["<absent>" if v is None else f"{len(v)} outcomes" for v in (expected, observed)]
        return [f"  concurrent: model={shown[0]} target={shown[1]}"]
    left = list(expected)
    for o in observed:
        match = next((j for j, e in enumerate(left) if not diff_outcomes(e, o, observable)), None)
        if match is None:
            return ["  concurrent: a sibling's outcome matches no prediction; against the first left:",
                    *(f"  {line}" for line in diff_outcomes(left[0], o, observable))]
        left.pop(match)
    return []


def diff_fields(lines: list[str]) -> list[str]:
    """The outcome fields a diff_outcomes() result names, sorted, once each."""
    return sorted({line.split(":", 1)[0].strip() for line in lines})


def outcome_kind(o: dict[str, Any]) -> str:
    """An outcome's kind in words: "exec", "exit", "error ENOENT", "signal SIGSEGV"."""
    k = o.get("outcome", "?")
    return f"{k} {o.get('errno') or o.get('signal') or ''}".strip() if k in ("error", "signal") else k


def candidates(expected: dict[str, Any]) -> list[dict[str, Any]]:
    """The outcomes that agree with `expected`: itself, then its alternatives."""
    return [{k: v for k, v in expected.items() if k != "alternatives"}, *expected.get("alternatives", ())]


def ignored(candidate: dict[str, Any]) -> frozenset[str]:
    """Fields of an observed outcome never compared with `candidate`: the
    contract says the model cannot know a crafted program's exit status."""
    return frozenset({"status"}) if candidate.get("outcome") == "exit" and "status" not in candidate else frozenset()


def _diff(expected: dict[str, Any], observed: dict[str, Any], observable: frozenset[str] | None) -> list[str]:
    if expected.get("outcome") == observed.get("outcome") == "case-error":
        return []  # both refuse the case; each words its reason its own way
    lines = []
    for k in sorted((set(expected) | set(observed)) - ignored(expected)):
        if observable is not None and k not in observable and k != "outcome":
            continue
        a, b = expected.get(k, "<absent>"), observed.get(k, "<absent>")
        if a != b:
            lines.append(f"  {k}: model={_show(a)} target={_show(b)}")
    return lines


def canonical_outcome(o: dict[str, Any], drop: frozenset[str] = frozenset()) -> str:
    """One text per outcome (the case format's JSON, keys sorted, ASCII):
    two outcomes with every field observable agree exactly when their
    canonical texts do.  The reproducer's C (harness/native/repro.c)
    writes the same text and compares digests of it."""
    return json.dumps(outcome_to_json({k: v for k, v in o.items() if k not in drop and k != "alternatives"}),
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def accepted_forms(expected: dict[str, Any]) -> list[tuple[frozenset[str], str]]:
    """What diff_outcomes accepts for a target that observes every field:
    (fields dropped from the observed outcome, the canonical text it must then have)."""
    return [(ignored(c), canonical_outcome(c)) for c in candidates(expected)]


def _show(v: Any) -> str:
    if isinstance(v, dict):
        v = _enc_entries(v)
    elif isinstance(v, bytes):
        v = encode_bytes(v)
    elif isinstance(v, (list, tuple)):
        v = [encode_bytes(x) if isinstance(x, bytes) else x for x in v]
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) < 300 else s[:280] + f"... ({len(s)} chars)"
