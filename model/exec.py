"""fs/exec.c: execve()/execveat() from the system call to the handler loop.

Order of events (do_execveat_common, alloc_bprm, bprm_execve, exec_binprm):
1. getname(): EFAULT for a NULL path, ENAMETOOLONG at PATH_MAX, ENOENT for ""
   unless AT_EMPTY_PATH.
2. With 978ffcbf00d8 (6.8) the file is opened first (do_open_execat: EINVAL
   for unknown flags, then the lookup and may_open); before it the argument
   strings are copied first, so E2BIG wins over a missing file.
3. count() argv/envp; bprm_stack_limits(): the strings may use
   min(6 MiB, RLIMIT_STACK/4) but at least ARG_MAX (128 KiB), less one
   pointer per string (argc counted as at least 1 with dcd46d897adb);
   E2BIG when the pointers alone fill it.
4. copy_string_kernel(filename), copy_strings(envp), copy_strings(argv):
   each string's length with NUL must be <= MAX_ARG_STRLEN, and all of them
   together must fit the limit, else E2BIG.  The new stack VMA that holds
   them may not grow past RLIMIT_STACK either (get_arg_page), so a stack
   rlimit under ~128 KiB gives E2BIG at page granularity (seen on 6.18).
5. dcd46d897adb (5.18): argc == 0 gets argv[0] = "" (counted too).
6. bprm->filename: the path itself for AT_FDCWD or an absolute path,
   "/dev/fd/N" for AT_EMPTY_PATH with "", else "/dev/fd/N/path"; a name
   made from a close-on-exec fd marks the file inaccessible to interpreters.
7. AT_EXECVE_CHECK (6.14) stops after the credential checks: returns 0.
8. exec_binprm(): up to 5 rewrites by binfmt handlers (depth > 5: ELOOP);
   each pass reads the first BINPRM_BUF_SIZE bytes of the current file and
   asks binfmt_misc, then binfmt_script, then binfmt_elf; a handler's ENOEXEC
   passes to the next, anything else ends the exec.
9. begin_new_exec(): comm is kbasename(bprm->filename) (15 bytes); with
   543841d18060 (6.14) an AT_EMPTY_PATH exec takes the name of the dentry of
   the file finally executed instead.  bprm_creds_from_file() computes the
   new credentials from that last file (model/creds.py).
10. The cwd, the dirfd and the binfmt_misc writes are the case root's; the
   exec call itself is made by the case's identity (exec.uid/gid/groups):
   its lookups check directory search permission and its opens execute
   permission (model/namei.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from contract.case import EXEC_FLAGS, RLIM_INFINITY, SIBLING_OUTCOMES, Case, uses_creds

from . import binfmt_elf, binfmt_misc, binfmt_other, binfmt_script, creds
from .errors import Errno, InvalidCase
from .namei import FS, PIPE, Node, deny_write_access, getname, may_open_exec
from .profiles import Profile

PAGE_SIZE = 4096
MAX_ARG_STRLEN = 32 * PAGE_SIZE
ARG_MAX = 32 * 4096
STK_LIM = 8 << 20
TASK_COMM_LEN = 16
AT_FDCWD = -100


@dataclass
class Bprm:
    """The parts of struct linux_binprm that decide the outcome."""
    fs: FS
    cwd: Node
    profile: Profile
    filename: bytes
    interp: bytes
    file: Node
    argv: list[bytes]
    envp: list[bytes]
    limit: int = 0  # bytes the strings may use (bprm_stack_limits)
    used: int = 0
    stack_rlimit: int = -1  # the stack VMA may not grow past it (get_arg_page)
    path_inaccessible: bool = False
    comm_from_dentry: bool = False
    execfd: bool = False
    have_execfd: bool = False
    preserve_argv0: bool = False
    transparent: bool = False  # BINPRM_FLAGS_TRANSPARENT_INTERP (binfmt_misc T)
    loader: Node | None = None  # a PT_INTERP substitute stashed by binfmt_misc L
    executable: Node | None = None  # the file handed over as AT_EXECFD
    interpreter: Node | None = None
    misc: binfmt_misc.Instance | None = None
    want_creds: bool = False  # the outcome carries the credential fields (contract.case.uses_creds)
    no_randomize: bool = False  # exec.personality ADDR_NO_RANDOMIZE: the outcome carries the load addresses
    case: Case | None = None

    def push_string(self, s: bytes) -> None:
        """copy_string_kernel(): E2BIG for an over-long string or a full stack."""
        n = len(s) + 1
        if n > MAX_ARG_STRLEN:
            raise Errno("E2BIG")
        self.used += n
        if self.used > self.limit:
            raise Errno("E2BIG")
        # get_arg_page() grows the new stack VMA (one page, its top 8 bytes
        # unused) a page at a time; acct_stack_growth() refuses to grow it
        # past RLIMIT_STACK, which bites below the 128 KiB ARG_MAX floor.
        # The first page is there from bprm_mm_init(): no growth, no check,
        # so a limit under one page still lets small strings through.
        pages = -(-(8 + self.used) // PAGE_SIZE)
        if self.stack_rlimit >= 0 and pages > 1 and pages * PAGE_SIZE > self.stack_rlimit:
            raise Errno("E2BIG")

    def remove_arg_zero(self) -> None:
        if self.argv:
            self.used -= len(self.argv[0]) + 1
            del self.argv[0]


def _fd_node(fs: FS, cwd: Node, case: Case) -> Node | None:
    """The object behind the execveat dirfd (None for AT_FDCWD)."""
    e = case.exec
    if e.dirfd is None or e.dirfd == AT_FDCWD:
        return None
    if getattr(fs, "fdnode", None) is not None:  # opened before exec.after_open
        return fs.fdnode
    if isinstance(e.dirfd, int):
        if e.dirfd in (0, 1, 2):
            return PIPE
        # the harness's own descriptors (100-199) are refused by contract.case
        raise Errno("EBADF")
    if not e.dirfd:
        raise InvalidCase("exec.dirfd is an empty path")
    cred, fs.cred = fs.cred, None  # opened by the case's root, before the identity changes
    try:  # opened O_RDONLY by the target before the exec
        node = fs.lookup(cwd, e.dirfd, follow=True)
    except Errno as err:
        raise InvalidCase(f"exec.dirfd {e.dirfd!r} cannot be opened ({err.name})") from None
    finally:
        fs.cred = cred
    if node.kind == "sock" and not e.dirfd_opath:
        # do_dentry_open(): a socket inode's f_op is no_open (ENXIO); O_PATH skips it
        raise InvalidCase(f"exec.dirfd {e.dirfd!r} is a socket: only O_PATH opens it (ENXIO)")
    if node.kind == "blk" and not e.dirfd_opath:
        # the target's /dev/loop0: 0600 root, which the case's root is not
        # on the host (EACCES), and no loop driver in a guest (ENXIO)
        raise InvalidCase(f"exec.dirfd {e.dirfd!r} is a block device: only O_PATH opens it here")
    if e.memfd is not None:
        node = fs.fdnode = memfd_node(node, memfd_flags(e.memfd, e.memfd_noexec or 0))
    return node


def memfd_flags(flags: tuple[str, ...], sysctl: int) -> tuple[str, ...]:
    """check_sysctl_memfd_noexec() (mm/memfd.c, 202e14222fad, 6.6): without
    MFD_EXEC or MFD_NOEXEC_SEAL, vm.memfd_noexec >= 1 means MFD_NOEXEC_SEAL,
    else MFD_EXEC; at 2 anything but MFD_NOEXEC_SEAL is refused (EACCES,
    a memfd_create the target cannot make: the case cannot be set up)."""
    if not {"MFD_EXEC", "MFD_NOEXEC_SEAL"} & set(flags):
        flags = (*flags, "MFD_NOEXEC_SEAL" if sysctl >= 1 else "MFD_EXEC")
    if "MFD_NOEXEC_SEAL" not in flags and sysctl >= 2:
        raise InvalidCase("exec.memfd: memfd_create is EACCES with vm.memfd_noexec=2 without MFD_NOEXEC_SEAL")
    return flags


def memfd_node(src: Node, flags: tuple[str, ...]) -> Node:
    """memfd_create("execspec", flags) filled with a copy of `src` (mm/memfd.c):
    a shmem inode made 0777 and owned by its creator (the case's root), on
    the internal shm mount (never noexec or nosuid), unlinked from birth;
    MFD_NOEXEC_SEAL clears the x bits and seals them (F_SEAL_EXEC), so exec
    is EACCES even for root (no x bit at all).  Without MFD_EXEC or
    MFD_NOEXEC_SEAL, vm.memfd_noexec decides: 0 (the default, which the
    targets keep) is MFD_EXEC."""
    if src.kind != "reg":
        raise InvalidCase("exec.memfd: the dirfd path must be a regular file to copy")
    n = Node("reg", 0o666 if "MFD_NOEXEC_SEAL" in flags else 0o777, None, b"memfd:execspec",
             data=src.data, tag=src.tag, path=b"/memfd:execspec (deleted)")
    return n


def check_execat_flags(case: Case, profile: Profile) -> int:
    """do_open_execat()'s first step: EINVAL for a flag it does not know."""
    allowed = EXEC_FLAGS["AT_SYMLINK_NOFOLLOW"] | EXEC_FLAGS["AT_EMPTY_PATH"]
    if profile.has("a5874fde3c08"):
        allowed |= EXEC_FLAGS["AT_EXECVE_CHECK"]
    flags = case.exec.flag_bits if case.exec.syscall == "execveat" else 0
    if flags & ~allowed:
        raise Errno("EINVAL")
    return flags


def do_open_execat(fs: FS, cwd: Node, case: Case, profile: Profile) -> Node:
    """flags, lookup, may_open."""
    e = case.exec
    flags = check_execat_flags(case, profile)
    path = e.path or b""
    absolute = path.startswith(b"/")
    start = cwd
    if e.syscall == "execveat" and not absolute:
        node = _fd_node(fs, cwd, case)
        if node is not None:
            if path and node.kind != "dir":
                raise Errno("ENOTDIR")
            start = node
    if not path:  # AT_EMPTY_PATH: the fd's own file
        node = start
    else:
        node = fs.lookup(start, path, follow=not flags & EXEC_FLAGS["AT_SYMLINK_NOFOLLOW"])
    may_open_exec(node, fs.cred)
    deny_write_access(node, profile)
    return node


def bprm_stack_limits(case: Case, argc: int, envc: int, profile: Profile) -> int:
    """Bytes available for the strings (argv/envp pointers already taken)."""
    rl = case.exec.rlimit_stack
    limit = STK_LIM // 4 * 3
    if rl != RLIM_INFINITY:
        limit = min(limit, rl // 4)
    limit = max(limit, ARG_MAX)
    ptrs = (max(argc, 1) if profile.has("dcd46d897adb") else argc) + envc
    ptr_size = ptrs * 8
    if limit <= ptr_size:
        raise Errno("E2BIG")
    return limit - ptr_size


def bprm_filename(case: Case) -> tuple[bytes, bool, bool]:
    """alloc_bprm(): (filename, derived from an fd?, comm from the dentry?)."""
    e = case.exec
    path = e.path or b""
    if e.syscall != "execveat" or e.dirfd is None or path.startswith(b"/"):
        return path, False, False
    fd = 3 if isinstance(e.dirfd, bytes) else e.dirfd
    if not path:
        return b"/dev/fd/%d" % fd, True, True
    return b"/dev/fd/%d/" % fd + path, True, False


def predict(case: Case, profile: Profile) -> dict[str, Any]:
    """The outcome the kernel described by `profile` gives for `case`."""
    made: list[FS] = []
    try:
        out = _predict(case, profile, made)
    except Errno as e:
        out = {"outcome": "error", "errno": e.name}
    if made and made[0].racy_eloop and out["outcome"] in ("exec", "error", "signal", "exit") \
            and out.get("errno") != "ELOOP":
        # the RCU-walk retry can spend the link budget twice (namei.py)
        out.setdefault("alternatives", []).append({"outcome": "error", "errno": "ELOOP"})
    if 0 <= case.exec.rlimit_stack < 2 * PAGE_SIZE and out["outcome"] in ("exec", "exit"):
        # Below two pages the new program's first stack fault may need a page
        # the limit refuses (acct_stack_growth): SIGSEGV, depending on where
        # the randomised stack top falls in its page (seen on 6.18: 0 and 4096
        # give either, 8192 never faults for the probe).
        out.setdefault("alternatives", []).append({"outcome": "signal", "signal": "SIGSEGV"})
    if case.exec.from_thread and out["outcome"] == "exec":
        out["pid"] = caller_pid(case, 0)
    if case.exec.concurrent > 1 and out["outcome"] in SIBLING_OUTCOMES:
        out["concurrent"] = siblings(out, case)
    return out


def caller_pid(case: Case, index: int) -> int:
    """exec.from_thread: the pid the program runs with.  de_thread() kills
    the caller's other threads (zap_other_threads) and, the call being made
    by a thread that is not the leader, gives it the leader's pid
    (exchange_tids, transfer_pid): the new program has the caller's pid, not
    its thread's.  The caller is the case init, PID 1 of the case's fresh
    PID namespace, or with exec.concurrent the init's index-th child: they
    are forked first, before any thread, and pids in a fresh namespace are
    allocated in order (alloc_pid's cyclic idr from 1), so 2..N+1."""
    return 1 if case.exec.concurrent == 1 else 2 + index


def siblings(out: dict[str, Any], case: Case) -> list[dict[str, Any]]:
    """exec.concurrent: what the N-1 siblings' calls give.  Each is the
    caller's call from a fork() of the caller's state, and nothing in the
    exec path depends on the task beyond that state: open_exec() and
    deny_write_access() let any number of execs share a file (only writers
    are refused), binfmt_misc's lookup only reads its entries (check_file: under
    read_lock before 7.x, SRCU in 7.3),
    the AT_EXECFD descriptor is the lowest free one of a copy of the same
    table, comm and AT_EXECFN come from the call's own arguments, and the
    probe reports nothing pid-dependent.  So each predicts the caller's
    outcome, keeping its alternatives: the races behind them (the RCU-walk
    retry, the first stack fault) are each sibling's own.  The binfmt_misc
    entry texts were read once, before the fork: the caller's alone; with
    exec.from_thread each keeps its own pid (caller_pid)."""
    one = {k: v for k, v in out.items() if k not in ("binfmt_misc_entries", "concurrent")}
    out_ = [dict(one) for _ in range(case.exec.concurrent - 1)]
    for i, o in enumerate(out_, 1):
        if "pid" in o:
            o["pid"] = caller_pid(case, i)
    return out_


def _predict(case: Case, profile: Profile, made: list[FS]) -> dict[str, Any]:
    fs = FS(case.files, case.mounts)
    made.append(fs)
    try:
        cwd = fs.lookup(fs.root, case.exec.cwd, follow=True)
    except Errno as err:
        raise InvalidCase(f"exec.cwd cannot be entered ({err.name})") from None
    if cwd.kind != "dir":
        raise InvalidCase("exec.cwd is not a directory")

    misc = binfmt_misc.Instance()
    if case.binfmt_misc and not profile.config.binfmt_misc:
        # no instance to mount: the targets cannot run such a case (executor: skip)
        setting = profile.config.get("BINFMT_MISC")
        return {"outcome": "skip", "reason": f"no binfmt_misc in this kernel (CONFIG_BINFMT_MISC={setting}"
                                             + (", module not loaded" if setting == "m" else "")
                                             + "): rules cannot be registered"}
    for i, op in enumerate(case.binfmt_misc):  # registrations and control writes, in order
        try:
            binfmt_misc.apply(misc, op, fs, cwd=fs.root, profile=profile)
        except Errno as err:
            return {"outcome": "register-error", "index": i, "errno": err.name}
    if case.binfmt_misc_read:
        # The entries are read back before the exec, whatever the exec then gives.
        out = predict(replace(case, binfmt_misc_read=()), profile)
        return {**out, "binfmt_misc_entries": misc.read_all(case.binfmt_misc_read)}

    e = case.exec
    if e.after_open:
        if e.syscall == "execveat" and isinstance(e.dirfd, bytes):
            fs.fdnode = _fd_node(fs, cwd, case)
        for kind, a, b in e.after_open:
            fs.after_open(kind, a, b)
    if e.memfd and {"MFD_EXEC", "MFD_NOEXEC_SEAL"} & set(e.memfd) and not profile.has("105ff5339f49"):
        return {"outcome": "skip", "reason": "exec.memfd: no MFD_EXEC / MFD_NOEXEC_SEAL before 6.3"}
    if e.memfd_noexec is not None:
        if not profile.has("105ff5339f49"):
            return {"outcome": "skip", "reason": "exec.memfd_noexec: no vm.memfd_noexec before 6.3"}
        if not profile.has("202e14222fad"):
            # 6.3-6.5: the first semantics (value 2 refused every memfd_create
            # without MFD_NOEXEC_SEAL, values ratcheted up)
            raise binfmt_misc.NotModelled("vm.memfd_noexec before 6.6 (202e14222fad)")
    if e.securebits and not profile.has("a5874fde3c08"):
        # the EXEC_* securebits came with AT_EXECVE_CHECK (same series, 6.14);
        # before, PR_SET_SECUREBITS refuses them (EPERM)
        return {"outcome": "skip", "reason": "exec.securebits: no EXEC_* securebits before 6.14"}
    if e.has_identity or e.no_new_privs or e.securebits:
        fs.cred = creds.caller(e)
    is_at = e.syscall == "execveat"
    bits = e.flag_bits if is_at else 0
    if is_at and profile.has("97da0cea27ab"):
        # Since the struct filename rework (97da0cea27ab) execveat hands
        # getname_uflags()'s result, error and all, to do_open_execat(),
        # which checks the flags before do_file_open() reports the name's
        # error: an unknown flag's EINVAL now wins over ENOENT/EFAULT.
        check_execat_flags(case, profile)
    getname(e.path, allow_empty=bool(bits & EXEC_FLAGS["AT_EMPTY_PATH"]))
    argv = list(e.argv or ())
    envp = list(e.envp or ())
    filename, from_fd, comm_from_dentry = bprm_filename(case)

    open_first = profile.has("978ffcbf00d8")
    file = do_open_execat(fs, cwd, case, profile) if open_first else None

    bprm = Bprm(fs=fs, cwd=cwd, profile=profile, filename=filename, interp=filename,
                file=file or fs.root, argv=[], envp=envp, misc=misc, want_creds=uses_creds(case),
                no_randomize="ADDR_NO_RANDOMIZE" in e.personality, case=case)
    bprm.limit = bprm_stack_limits(case, len(argv), len(envp), profile)
    bprm.stack_rlimit = e.rlimit_stack
    bprm.push_string(filename)
    for s in envp:
        bprm.push_string(s)
    for s in argv:
        bprm.push_string(s)
    bprm.argv = argv
    if not argv and profile.has("dcd46d897adb"):
        bprm.push_string(b"")
        bprm.argv = [b""]

    if file is None:  # before 6.8: bprm_execve() opens the file now
        bprm.file = do_open_execat(fs, cwd, case, profile)
    if from_fd and e.dirfd_cloexec:
        bprm.path_inaccessible = True
    bprm.comm_from_dentry = comm_from_dentry and profile.has("543841d18060")

    if bits & EXEC_FLAGS["AT_EXECVE_CHECK"]:
        return {"outcome": "returned", "value": 0}

    return exec_binprm(bprm)


Handler = Callable[["Bprm", bytes], dict[str, Any]]  # a linux_binfmt's load_binary

HANDLERS: dict[str, Handler] = {"misc": binfmt_misc.load_misc_binary, "script": binfmt_script.load_script,
            "elf": binfmt_elf.load_native_elf, "compat_elf": binfmt_elf.load_compat_elf,
            "elf_fdpic": binfmt_other.load_elf_fdpic, "flat": binfmt_other.load_flat_binary,
            "aout": binfmt_other.load_aout_binary, "em86": binfmt_other.load_em86}


def handlers(profile: Profile) -> list[Handler]:
    """The formats list of this kernel, in search order (model/kconfig.py)."""
    return [HANDLERS[n] for n in profile.config.formats()]


def exec_binprm(bprm: Bprm) -> dict[str, Any]:
    depth = 0
    while True:
        if depth > 5:
            raise Errno("ELOOP")
        result = search_binary_handler(bprm)
        if bprm.interpreter is None:
            return result
        bprm.loader = None  # a stashed PT_INTERP substitute belonged to the replaced file
        if bprm.have_execfd:
            if bprm.execfd:  # a second O/C rewrite (exec_binprm: bprm->executable set)
                raise Errno("ENOEXEC")
            bprm.execfd = True
            bprm.executable = bprm.file
        bprm.file, bprm.interpreter = bprm.interpreter, None
        depth += 1


def search_binary_handler(bprm: Bprm) -> dict[str, Any]:
    buf = bprm_buf(bprm.file, bprm.profile.binprm_buf_size, bprm.fs)
    for handler in handlers(bprm.profile):
        try:
            return handler(bprm, buf)
        except Errno as e:
            if e.name != "ENOEXEC":
                raise
    raise Errno("ENOEXEC")  # an unconsumed loader substitute is dropped with the bprm


def bprm_buf(node: Node, size: int, fs: FS | None = None) -> bytes:
    """prepare_binprm(): the first bytes of the file, NUL-padded.  A probe's
    bytes are those of its variant (`fs` knows which file asked for which)."""
    if node.is_probe:
        f = fs.files.get(node.path) if fs is not None else None
        data = binfmt_elf.probe_header(getattr(f, "variant", "static"))
    else:
        data = node.data
    return data[:size].ljust(size, b"\0")


def identity_file(bprm: Bprm) -> Node:
    """bprm_identity_file(): the file the process presents as (its exe link,
    and comm for an AT_EMPTY_PATH exec): the final file, or with f1ec2b5604a7
    (7.3) the binary itself after a transparent (T) dispatch."""
    if bprm.transparent and bprm.executable is not None and bprm.profile.has("f1ec2b5604a7"):
        return bprm.executable
    return bprm.file


def at_flags(bprm: Bprm) -> int:
    """bprm_at_flags() / create_elf_tables(): AT_FLAGS_TRANSPARENT_INTERP (2)
    for a transparent dispatch (b0f09c07966b, 7.3), else
    AT_FLAGS_PRESERVE_ARGV0 (1) when a P entry kept argv[0] (2347961b11d4,
    5.12); 0 before those and otherwise."""
    if bprm.transparent and bprm.profile.has("b0f09c07966b"):
        return 2
    if bprm.preserve_argv0 and bprm.profile.has("2347961b11d4"):
        return 1
    return 0


def held_descriptors(case: Case) -> set[int]:
    """The descriptors the caller still holds when begin_new_exec() has run
    do_close_on_exec(), by the case format: stdin, stdout, stderr, and
    execveat's dirfd (fd 3) unless it is close-on-exec."""
    e = case.exec
    held = {0, 1, 2}
    if e.syscall == "execveat" and isinstance(e.dirfd, bytes) and not e.dirfd_cloexec:
        held.add(3)
    return held


def begin_new_exec(bprm: Bprm) -> None:
    """begin_new_exec(), past the point of no return, where a case can make
    it fail: a binfmt_misc O/C executable is installed as a descriptor
    (FD_ADD, the lowest free one below RLIMIT_NOFILE).  None free is EMFILE,
    and an error this late kills the task: SIGSEGV (bprm_execve,
    force_fatal_sig)."""
    case = bprm.case
    if not bprm.execfd or case is None or case.exec.rlimit_nofile is None:
        return
    if set(range(case.exec.rlimit_nofile)) <= held_descriptors(case):
        raise binfmt_elf.Signal()


def new_program(bprm: Bprm, runner: Node | None = None) -> dict[str, Any]:
    """begin_new_exec() onwards for a probe: what the probe will report.
    `runner` is the probe that gets control when it is not bprm.file (an
    ELF interpreter); the stack, comm, AT_EXECFN, AT_FLAGS and the exe link
    (mm->exe_file) are still bprm's."""
    ident = identity_file(bprm)
    if bprm.comm_from_dentry:
        comm = ident.name
    else:
        comm = bprm.filename.rsplit(b"/", 1)[-1]
    out = {"outcome": "exec", "tag": (runner or bprm.file).tag, "argv": list(bprm.argv), "envp": list(bprm.envp),
           "execfd": bprm.execfd, "execfn": bprm.filename, "comm": comm[:TASK_COMM_LEN - 1],
           "exe": ident.path, "at_flags": at_flags(bprm)}
    if bprm.want_creds:
        if bprm.misc is not None and any("C" in m.flags for m in bprm.misc.entries):
            # bprm->execfd_creds: the creds come from the binary, not the interpreter
            raise binfmt_misc.NotModelled("credentials with a binfmt_misc C entry")
        out.update(creds.exec_creds(bprm.file, bprm.fs.cred or creds.ROOT))
    return out
