"""The executor's wire format (harness/native/executor.c) and the probe's report.

Every frame is records of u8 type, u32 little-endian length, payload.  The
encoder here and parse_case() in executor.c must agree record for record.
"""
from __future__ import annotations

import errno as errno_mod
import re
import signal as signal_mod
import struct

from contract.case import (
    PERSONALITY_FLAGS,
    PROBE_VARIANTS,
    SIBLING_OUTCOMES,
    Case,
    MiscUnlink,
    MiscWrite,
    canonical_outcome,
    uses_creds,
)

MOUNT_BITS = {"ro": 1, "nosuid": 2, "noexec": 4}  # executor.c: struct cmount
KIND = {"probe": b"p", "file": b"f", "dir": b"d", "symlink": b"l", "fifo": b"i", "chardev": b"c", "blockdev": b"b",
        "socket": b"s"}
_REC = struct.Struct("<cI")


def _rec(out: list[bytes], t: bytes, payload: bytes = b"") -> None:
    out.append(_REC.pack(t, len(payload)))
    out.append(payload)


def encode_case(c: Case, timeout_ms: int = 10000) -> bytes:
    out: list[bytes] = []
    for f in c.files:
        data = bytes([PROBE_VARIANTS.index(f.variant)]) + f.tag.encode() if f.type == "probe" else f.data
        _rec(out, b"f", KIND[f.type] + struct.pack("<II", f.mode, len(f.path)) + f.path
             + struct.pack("<I", len(data)) + data)
    for i, f in enumerate(c.files):
        if f.uid or f.gid:
            _rec(out, b"o", struct.pack("<III", i, f.uid, f.gid))
    for i, f in enumerate(c.files):
        if f.caps is not None:  # u32 index, u32 revision (2 or 3), u32 effective, u64 fP, u64 fI, u32 rootid
            fc = f.caps
            _rec(out, b"C", struct.pack("<IIIQQI", i, 2 if fc.rootid is None else 3, int(fc.effective),
                                        fc.permitted, fc.inheritable, fc.rootid or 0))
    for m in c.mounts:
        bits = sum(MOUNT_BITS[x] for x in m.flags)
        _rec(out, b"M", struct.pack("<I", bits) + m.path)
    for f in c.files:
        if f.open_for_write:
            _rec(out, b"W", f.path)
    for r in c.binfmt_misc:
        if isinstance(r, MiscWrite):
            _rec(out, b"w", struct.pack("<I", len(r.file)) + r.file + r.data)
        elif isinstance(r, MiscUnlink):
            _rec(out, b"u", r.file)
        else:
            _rec(out, b"b", r)
    for name in c.binfmt_misc_read:
        _rec(out, b"R", name)
    e = c.exec
    _rec(out, b"c", e.cwd)
    if e.path is None:
        _rec(out, b"X")
    else:
        _rec(out, b"x", e.path)
    if e.argv is None:
        _rec(out, b"A")
    else:
        for a in e.argv:
            _rec(out, b"a", a)
    if e.envp is None:
        _rec(out, b"E")
    else:
        for a in e.envp:
            _rec(out, b"e", a)
    if e.syscall == "execveat":
        _rec(out, b"s", b"\x01")
        if isinstance(e.dirfd, bytes):
            _rec(out, b"d", e.dirfd)
        elif isinstance(e.dirfd, int):
            _rec(out, b"N", struct.pack("<i", e.dirfd))
        if e.dirfd_cloexec:
            _rec(out, b"D")
        if e.dirfd_opath:
            _rec(out, b"O")
        if e.memfd is not None:  # u32 memfd_create flags: fd 3 is a memfd holding a copy of `d`
            _rec(out, b"G", struct.pack("<I", e.memfd_bits))
        if e.memfd_noexec is not None:  # u32: vm.memfd_noexec of the case's PID namespace
            _rec(out, b"V", struct.pack("<I", e.memfd_noexec))
        _rec(out, b"F", struct.pack("<I", e.flag_bits & 0xFFFFFFFF))
    if e.has_identity:
        groups = e.groups or ()
        _rec(out, b"I", struct.pack(f"<II{len(groups)}I", e.uid or 0, e.gid or 0, *groups))
    if e.no_new_privs:
        _rec(out, b"P")
    if e.personality:  # u32: personality(2) just before the call
        _rec(out, b"y", struct.pack("<I", e.personality_bits))
    if e.rlimit_nofile is not None:  # u32: RLIMIT_NOFILE just before the call
        _rec(out, b"n", struct.pack("<I", e.rlimit_nofile))
    if e.securebits:  # u32: prctl(PR_SET_SECUREBITS) just before the call
        _rec(out, b"Y", struct.pack("<I", e.securebits_mask))
    for k, a, b in e.after_open:  # u8 op, u32 len(a), a, b
        _rec(out, b"Q", {"unlink": b"u", "rename": b"r", "rmdir": b"d"}[k] + struct.pack("<I", len(a)) + a + b)
    if e.concurrent > 1:  # u32: processes making the call at once
        _rec(out, b"J", struct.pack("<I", e.concurrent))
    if e.from_thread:  # a second thread makes the call
        _rec(out, b"T")
    _rec(out, b"r", struct.pack("<Q", 0xFFFFFFFFFFFFFFFF if e.rlimit_stack < 0 else e.rlimit_stack))
    _rec(out, b"t", struct.pack("<I", timeout_ms))
    return b"".join(out)


def records(body: bytes) -> list[tuple[bytes, bytes]]:
    out, off = [], 0
    while off < len(body):
        if len(body) - off < 5:
            raise ProtocolError("truncated record header in an executor frame")
        t, n = _REC.unpack_from(body, off)
        off += 5
        if n > len(body) - off:
            raise ProtocolError("a record runs past the end of its executor frame")
        out.append((t, body[off:off + n]))
        off += n
    return out


class ProtocolError(RuntimeError):
    pass


def errno_name(n: int) -> str:
    return errno_mod.errorcode.get(n, str(n))


def signal_name(n: int) -> str:
    try:
        return signal_mod.Signals(n).name
    except ValueError:
        return str(n)


ADDR_NO_RANDOMIZE = PERSONALITY_FLAGS["ADDR_NO_RANDOMIZE"]


def parse_report(data: bytes, creds: bool = False, addrs: bool = False, pid: bool = False) -> dict | None:
    """The probe's report as an `exec` outcome, or None if it isn't a complete one.
    `creds`: add the credential fields (case.CRED_FIELDS) the probe reports;
    `addrs`: add AT_PHDR, AT_ENTRY and AT_BASE (case.ADDR_FIELDS);
    `pid`: add getpid() (exec.from_thread cases)."""
    try:
        recs = records(data)
    except (struct.error, ProtocolError):
        return None
    if not recs or recs[-1][0] != b"Z" or recs[0][0] != b"T":
        return None
    o: dict = {"outcome": "exec", "tag": recs[0][1].decode("utf-8", "replace"),
               "argv": [], "envp": [], "execfd": False}
    variant, at_base, seen_comm = False, 0, False
    personality: int | None = None
    auxv: dict = {}
    for t, p in recs[1:-1]:
        if t == b"a":
            o["argv"].append(p)
        elif t == b"e":
            o["envp"].append(p)
        elif t == b"X":
            o["execfn"] = p
        elif t == b"C":
            o["comm"] = p
            seen_comm = True  # the auxiliary vector's records come before it
        elif t == b"D":
            o["execfd"] = True
        elif t == b"V":
            variant = True
        elif t == b"B" and len(p) == 8:
            at_base = struct.unpack("<Q", p)[0]
            auxv["at_base_addr"] = at_base
        elif t == b"H" and len(p) == 8:  # AT_PHDR
            auxv["at_phdr"] = struct.unpack("<Q", p)[0]
        elif t == b"Y" and len(p) == 8 and not seen_comm:  # AT_ENTRY ('Y' after comm: securebits)
            auxv["at_entry"] = struct.unpack("<Q", p)[0]
        elif t == b"F" and len(p) == 8:
            o["at_flags"] = struct.unpack("<Q", p)[0]
        elif t == b"L":  # /proc/self/exe, where the target gives the probe a procfs
            o["exe"] = p
        elif t == b"U" and len(p) == 24 and creds:  # getresuid, getresgid
            o.update(zip(("uid", "euid", "suid", "gid", "egid", "sgid"), struct.unpack("<6I", p)))
        elif t == b"K" and len(p) == 8 and creds:  # capget: the effective set
            o["cap_eff"] = struct.unpack("<Q", p)[0]
        elif t == b"S" and len(p) == 8 and creds:  # AT_SECURE
            o["at_secure"] = struct.unpack("<Q", p)[0]
        elif t == b"Y" and len(p) == 8 and creds and seen_comm:  # prctl(PR_GET_SECUREBITS)
            o["securebits"] = struct.unpack("<Q", p)[0]
        elif t == b"Q" and len(p) == 8:  # personality(0xffffffff)
            personality = struct.unpack("<Q", p)[0]
        elif t == b"P" and len(p) == 8 and pid:
            o["pid"] = struct.unpack("<Q", p)[0]
    if variant:  # only probe variants report it, so older outcomes keep their shape
        o["at_base"] = at_base != 0
    if addrs:
        if personality is not None:
            o["personality"] = personality
        # the addresses only while ADDR_NO_RANDOMIZE survived the exec (a
        # set-id or capability-gaining one clears it): else they are random
        if personality is None or personality & ADDR_NO_RANDOMIZE:
            o.update({k: auxv.get(k, 0) for k in ("at_phdr", "at_entry", "at_base_addr")})
    return o


def _setup_field(idx: int, step: str) -> str:
    """The case field behind a setup failure (executor.c: fail(sfd, 's', idx, ...))."""
    if idx >= 0:
        return f"files[{idx}]"
    if idx == -3:
        return "exec.rlimit_stack"
    if idx == -4:
        return "exec.dirfd"
    if idx == -6:
        return "exec.uid/gid/groups/no_new_privs/securebits"
    if idx == -7:
        return "mounts"
    if idx == -9:
        return "exec.after_open"
    if idx <= -10:
        return f"files (open_for_write #{-10 - idx})"
    if step == "chdir cwd":
        return "exec.cwd"
    return "(target setup)"


def decode_response(body: bytes, case: Case | None = None) -> dict:
    """Executor response → outcome dict (internal form, bytes for byte strings).
    With the case: the credential fields when it uses_creds()."""
    recs = records(body)
    creds = case is not None and uses_creds(case)
    addrs = case is not None and bool(case.exec.personality)
    pid = case is not None and case.exec.from_thread
    o = _decode(recs, creds=creds, addrs=addrs, pid=pid)
    siblings = [_decode(records(p), creds=creds, addrs=addrs, pid=pid) for t, p in recs if t == b"J"]
    if siblings and o["outcome"] in SIBLING_OUTCOMES:
        o["concurrent"] = sorted(siblings, key=lambda s: canonical_outcome(s))
    entries: dict = {}
    name = b""
    for t, p in recs:  # binfmt_misc entry texts read back before the exec
        if t == b"n":
            name = p
        elif t == b"T":
            entries[name] = p
        elif t == b"N":
            entries[name] = {"errno": errno_name(struct.unpack("<i", p)[0])}
    if entries and o["outcome"] not in ("register-error", "skip"):
        o["binfmt_misc_entries"] = entries
    return o


def _decode(recs: list[tuple[bytes, bytes]], creds: bool = False, addrs: bool = False, pid: bool = False) -> dict:
    kind, vals, msg, report = b"", (0, 0), "", b""
    for t, p in recs:
        if t == b"o":
            kind = p
        elif t == b"v":
            vals = struct.unpack("<ii", p)
        elif t == b"m":
            msg = p.decode("utf-8", "replace")
        elif t == b"p":
            report = p
    if kind == b"e":
        return {"outcome": "error", "errno": errno_name(vals[0])}
    if kind == b"r":
        return {"outcome": "register-error", "index": vals[0], "errno": errno_name(vals[1]) if vals[1] else msg}
    if kind == b"x":
        st = vals[0]
        if st & 0x7F == 0:  # WIFEXITED
            code = (st >> 8) & 0xFF
            if code == 0:
                rep = parse_report(report, creds, addrs, pid)
                if rep is not None:
                    return rep
            return {"outcome": "exit", "status": code}
        if st & 0x7F != 0x7F:
            return {"outcome": "signal", "signal": signal_name(st & 0x7F)}
    if kind == b"c":
        return {"outcome": "returned", "value": vals[0]}
    if kind == b"t":
        return {"outcome": "timeout"}
    if kind == b"k":
        return {"outcome": "skip", "reason": f"{msg}: {errno_name(vals[1])}"}
    if kind == b"s":
        # a case the target could not set up: name the case field it came from
        return {"outcome": "case-error", "field": _setup_field(vals[0], msg),
                "error": f"{msg}: {errno_name(vals[1]) if vals[1] else 'failed'}"}
    if kind == b"l":
        return {"outcome": "output-limit", "bytes": vals[0]}
    if kind == b"f":
        raise ProtocolError(f"the executor refused the case frame ({msg or 'malformed'}); "
                            "contract.case validation should have caught this")
    raise ProtocolError(f"unexpected executor response kind {kind!r}")


# Hex lines over a serial port: runs of 16+ equal bytes travel as
# "*" + count (8 hex digits) + byte (2), so megabyte argument-space cases
# cost a few bytes on the wire (harness/native/executor.c reads and writes both).
_RUN = re.compile(rb"(.)\1{15,}", re.S)


def hex_pack(data: bytes) -> bytes:
    out, pos = [], 0
    for m in _RUN.finditer(data):
        out.append(data[pos:m.start()].hex().encode())
        out.append(b"*%08x%02x" % (m.end() - m.start(), data[m.start()]))
        pos = m.end()
    out.append(data[pos:].hex().encode())
    return b"".join(out)


def hex_unpack(text: bytes) -> bytes:
    first, *runs = text.split(b"*")
    out = [bytes.fromhex(first.decode("ascii"))]
    for r in runs:
        if len(r) < 10:
            raise ProtocolError(f"short run token {r[:10]!r}")
        out.append(bytes([int(r[8:10], 16)]) * int(r[:8], 16))
        out.append(bytes.fromhex(r[10:].decode("ascii")))
    return b"".join(out)
