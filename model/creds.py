"""Credentials on exec: fs/exec.c bprm_fill_uid() and security/commoncap.c
cap_bprm_creds_from_file(), plus the DAC checks (fs/namei.c
generic_permission) a caller that is not the case's root meets.

The caller (Cred) is what the targets make (harness/native/executor.c):
real = effective = saved uid and gid, the supplementary groups the case
lists, no ambient or inheritable capabilities, and a bounding set of every
capability up to CAP_LAST_CAP but CAP_SYS_RAWIO (dropped by the executor on
every target).  uid 0 keeps the full permitted and effective sets of its
user namespace's root (the setresuid() from root to root changes nothing);
any other uid has none (setresuid() to all-nonzero ids clears them).

Rules, in my words:
- generic_permission(): the owner's bits if the fsuid owns the inode, else
  the group's bits if its gid is the fsgid or a supplementary group, else
  the others'; only that one class is looked at.  Failing that, a caller
  with CAP_DAC_OVERRIDE passes, except that a non-directory must have at
  least one execute bit to be executed; a directory search also passes with
  CAP_DAC_READ_SEARCH.
- bprm_fill_uid(file): the new euid/egid start as the caller's.  Nothing
  changes on a nosuid mount (mnt_may_suid), under no_new_privs, or without
  a set-id bit.  S_ISUID makes the euid the file's owner; S_ISGID makes the
  egid the file's group, but only together with S_IXGRP (without it the bit
  means mandatory locking).  The file is bprm->file when the creds are
  computed (begin_new_exec), i.e. the last file of the binfmt chain: a
  script's set-id bits are ignored, its interpreter's count.
- cap_bprm_creds_from_file(): the new permitted set comes from the file's
  capabilities (get_file_caps, file_caps() below: security.capability,
  case field files[].caps), then, unless SECURE_NOROOT,
  when the new euid or the real uid is the namespace's root it becomes
  bounding | inheritable, and the effective flag is raised only when the
  euid is root.  "setid" means the new euid differs from the old real uid
  or the new egid from the old real gid.  With no_new_privs a setid or
  capability-gaining exec keeps euid = uid, egid = gid and intersects the
  permitted set with the old one.  The saved ids follow the effective ones.
  The effective set is the permitted set when the flag is raised, else the
  (empty) ambient set.  AT_SECURE is set for a setid exec, or when the real
  uid is not root and the program gets an effective flag or any permitted
  capability beyond the ambient set.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import Errno

if TYPE_CHECKING:
    from contract.case import Exec

    from .namei import Node

CAP_LAST_CAP = 40  # CAP_CHECKPOINT_RESTORE, from 5.9 to 7.3
CAP_SYS_RAWIO = 17
CAP_FULL = (1 << (CAP_LAST_CAP + 1)) - 1
BSET = CAP_FULL & ~(1 << CAP_SYS_RAWIO)  # what the executor leaves in the bounding set

S_ISUID, S_ISGID, S_IXGRP = 0o4000, 0o2000, 0o010
MAY_EXEC = 1


@dataclass(frozen=True)
class Cred:
    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = ()
    nnp: bool = False
    securebits: int = 0  # prctl(PR_SET_SECUREBITS): only the EXEC_* bits here

    @property
    def permitted(self) -> int:
        return CAP_FULL if self.uid == 0 else 0

    def in_group(self, gid: int) -> bool:
        return gid == self.gid or gid in self.groups


ROOT = Cred()


def caller(exec_: Exec) -> Cred:
    """The identity of the exec call (contract.case.Exec)."""
    return Cred(uid=exec_.uid or 0, gid=exec_.gid or 0, groups=tuple(exec_.groups or ()), nnp=exec_.no_new_privs,
                securebits=exec_.securebits_mask)


def permission(node: Node, cred: Cred) -> bool:
    """inode_permission(MAY_EXEC): execute for a file, search for a directory."""
    mode = node.mode
    if cred.uid == node.uid:
        bits = mode >> 6
    elif cred.in_group(node.gid):
        bits = mode >> 3
    else:
        bits = mode
    if bits & 1:
        return True
    if cred.permitted:  # CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH
        return node.kind == "dir" or bool(mode & 0o111)
    return False


def file_caps(node: Node, cred: Cred) -> tuple[int, bool, bool]:
    """get_file_caps() + bprm_caps_from_vfs_caps(): (pP', fE, has_fcap) from
    the file's security.capability.  Nothing on a nosuid mount
    (mnt_may_suid).  get_vfs_caps_from_disk() ignores the xattr (ENODATA)
    unless its root id is root of the caller's user namespace or of one of
    its ancestors (rootid_owns_currentns): a revision 2 xattr's is the file
    system's namespace root, a revision 3 one names it -- the case's uid 0
    here, any other id is nobody's root (the case's namespace maps no host
    root, and a guest's ids are the real ones).  pP' = (bounding & fP) |
    (pI & fI), the caller's pI being empty; with the effective flag set, an
    fP bit the bounding set lacks (CAP_SYS_RAWIO: the executor drops it)
    makes the exec fail with EPERM ("insufficient to execute correctly");
    without the flag the program just runs without it."""
    fc = node.caps
    if fc is None or "nosuid" in node.mnt_flags or fc.rootid not in (None, 0):
        return 0, False, False
    permitted = BSET & fc.permitted  # | (pI & fI): pI is empty
    if fc.effective and fc.permitted & ~permitted:
        raise Errno("EPERM")
    return permitted, fc.effective, True


def per_clear_on_setid(node: Node, cred: Cred) -> bool:
    """Whether bprm->per_clear gets PER_CLEAR_ON_SETID, so begin_new_exec()
    clears ADDR_NO_RANDOMIZE (and READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT,
    MMAP_PAGE_ZERO) from the personality.  bprm_fill_uid() sets it for any
    S_ISUID, and for S_ISGID with S_IXGRP, that it honours (a suid mount, no
    no_new_privs, the file executable) -- before it looks at the owner, so
    also when the euid does not change (the caller owns the file).
    cap_bprm_creds_from_file() sets it when the new permitted set is not a
    subset of the old one (__cap_gained), checked before no_new_privs takes
    the gain back."""
    suid, sgid = setid_bits(node, cred)
    if suid or sgid:
        return True
    return bool(_new_permitted(node, cred) & ~cred.permitted)


def setid_bits(node: Node, cred: Cred) -> tuple[bool, bool]:
    """bprm_fill_uid(): whether S_ISUID and S_ISGID count -- only off nosuid
    mounts, without no_new_privs, for a file the caller may execute, and
    S_ISGID only with S_IXGRP (without it the bit means mandatory locking).
    Each one that counts sets the euid/egid and PER_CLEAR_ON_SETID alike."""
    mode = node.mode
    if "nosuid" in node.mnt_flags or cred.nnp or not mode & (S_ISUID | S_ISGID) or not permission(node, cred):
        return False, False
    return bool(mode & S_ISUID), mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP


def _new_permitted(node: Node, cred: Cred) -> int:
    """The permitted set after handle_privileged_root(), before no_new_privs."""
    return _creds(node, cred)[2]


def _creds(node: Node, cred: Cred) -> tuple[int, int, int, bool]:
    """bprm_fill_uid() + get_file_caps() + handle_privileged_root():
    (euid, egid, permitted, effective flag)."""
    euid, egid = cred.uid, cred.gid
    suid, sgid = setid_bits(node, cred)
    if suid:
        euid = node.uid
    if sgid:
        egid = node.gid
    permitted, effective, has_fcap = file_caps(node, cred)
    # handle_privileged_root(): a set-uid-root file that also has file
    # capabilities, run by a user that is not root, gets only the file's
    # capabilities; otherwise root (real or effective) gets the bounding
    # set | inheritable (empty), and the effective flag if it is the euid.
    if not (has_fcap and euid == 0 and cred.uid != 0):
        if euid == 0 or cred.uid == 0:
            permitted = BSET
        if euid == 0:
            effective = True
    return euid, egid, permitted, effective


def exec_creds(node: Node, cred: Cred) -> dict[str, Any]:
    """bprm_fill_uid() + cap_bprm_creds_from_file() for the file `node`:
    the outcome's credential fields."""
    euid, egid, permitted, effective = _creds(node, cred)
    is_setid = euid != cred.uid or egid != cred.gid
    gained = bool(permitted & ~cred.permitted)
    if (is_setid or gained) and cred.nnp:  # LSM_UNSAFE_NO_NEW_PRIVS
        euid, egid = cred.uid, cred.gid
        permitted &= cred.permitted
    cap_eff = permitted if effective else 0
    secure = is_setid or (cred.uid != 0 and (effective or bool(permitted)))
    return {"uid": cred.uid, "euid": euid, "suid": euid, "gid": cred.gid, "egid": egid, "sgid": egid,
            "cap_eff": cap_eff, "at_secure": int(secure),
            # securebits survive exec; cap_bprm_creds_from_file() clears only
            # SECURE_KEEP_CAPS.  SECBIT_EXEC_RESTRICT_FILE / _DENY_INTERACTIVE
            # are advice to interpreters (AT_EXECVE_CHECK): exec never reads them.
            "securebits": cred.securebits}
