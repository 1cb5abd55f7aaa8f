"""The case's file system and path lookup, mirroring fs/namei.c.

Only what exec can observe is modelled: a tree of directories, regular
files, symlinks and FIFOs on tmpfs mounts, looked up by the case's root
user (CAP_DAC_OVERRIDE: directory search permission never fails) or, for
the exec call itself, by the case's identity (exec.uid/gid/groups, see
model/creds.py): then may_lookup() needs search permission on every
directory a component is looked up in (EACCES), "." and ".." included.
Mounts (case `mounts`): each node lives on the innermost mount whose path
is its own or a parent's; may_open() refuses MAY_EXEC of a regular file on
a noexec mount (path_noexec: EACCES), and bprm_fill_uid ignores set-id bits
on a nosuid one.
Rules (checked on the host kernel by suites/test_paths.py):
- getname: an empty name is ENOENT unless the caller allows it (LOOKUP_EMPTY);
  a name of PATH_MAX (4096) bytes or more is ENAMETOOLONG.
- link_path_walk: each component but the last must end up a directory
  (ENOTDIR), after following symlinks; a missing one is ENOENT; a component
  longer than NAME_MAX is ENAMETOOLONG when the file system looks it up.
- ".." at the root stays at the root (the case's chroot).
- Symlinks: at most MAXSYMLINKS (40) are followed in one lookup, else ELOOP;
  an absolute target restarts at the root; a relative one at the link's
  directory.
- The last component: a trailing slash forces following and requires a
  directory (ENOTDIR); without LOOKUP_FOLLOW a final symlink is opened as
  itself and may_open refuses it with ELOOP.
- A race (seen on the 6.18 host under load, and in a container): do_filp_open()
  first walks in RCU mode and, on -ECHILD, walks again in ref mode with the
  same nameidata, whose total_link_count is set once in set_nameidata() and
  never reset.  reserve_stack() counts a link before anything can fail, and
  the RCU attempt fails whenever try_to_unlazy() finds mount_lock's seqcount
  moved (any mount or umount anywhere on the machine) -- at a link whose
  atime needs updating, or at the end of the walk.  So a lookup that follows
  L links may be charged anywhere up to 2L: with 2L > MAXSYMLINKS, ELOOP is
  a possible outcome (FS.racy_eloop).  (Seen: 40 fresh links on the host,
  39 in a container.)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .errors import Errno, InvalidCase

if TYPE_CHECKING:
    from contract.case import File, FileCaps, Mount

    from .creds import Cred
    from .profiles import Profile

PATH_MAX = 4096
NAME_MAX = 255
MAXSYMLINKS = 40


class Node:
    __slots__ = ("kind", "mode", "data", "tag", "children", "parent", "name", "path", "writers", "uid", "gid",
                 "mnt_flags", "dead", "caps")

    def __init__(self, kind: str, mode: int, parent: Node | None, name: bytes,
                 data: bytes = b"", tag: str | None = None, path: bytes = b""):
        self.kind = kind  # "dir", "reg", "lnk", "fifo", "chr", "blk", "sock", "pipe"
        self.mode = mode
        self.data = data  # file contents, or symlink target
        self.tag = tag  # probe tag; None for a plain file
        self.children: dict[bytes, Node] = {}  # nodes made so far (see FS.child)
        self.parent = parent if parent is not None else self
        self.name = name  # the dentry name
        self.path = path  # "" for the root
        self.writers = 0  # open write descriptors (inode->i_writecount > 0)
        self.uid = 0
        self.gid = 0
        self.mnt_flags: tuple[str, ...] = ()  # flags of the mount it lives on
        self.dead = False  # a removed directory: names in it are never found (ENOENT)
        self.caps: FileCaps | None = None  # security.capability (contract.case.FileCaps)

    @property
    def is_probe(self) -> bool:
        return self.tag is not None


# A pipe stands for fds 0-2, which the executor connects to pipes.
PIPE = Node("pipe", 0o600, None, b"pipe:")
_KIND = {"probe": "reg", "file": "reg", "dir": "dir", "symlink": "lnk", "fifo": "fifo", "chardev": "chr",
         "blockdev": "blk", "socket": "sock"}


class FS:
    """The case's files, indexed by path; nodes are made when a lookup
    reaches them (most cases touch a few of their files)."""

    def __init__(self, files: Iterable[File], mounts: tuple[Mount, ...] = ()) -> None:
        from contract.case import File
        self.files: dict[bytes, File] = {}
        self.mounts = tuple(mounts)
        self.cred: Cred | None = None  # who looks up: None is the case's root (no search checks)
        implicit: set[bytes] = set()  # parents created by mkdir -p
        files = list(files)
        listed = {f.path.rstrip(b"/") for f in files}
        for m in self.mounts:  # a mount point is made like a parent directory
            if m.path != b"/" and m.path not in listed:
                files.append(File(path=m.path, type="dir", mode=0o755))
        for f in files:
            p = f.path.rstrip(b"/")
            if p in self.files:
                raise InvalidCase(f"{f.path!r} listed twice")
            self.files[p] = f
            i = p.rfind(b"/")
            while i > 0:
                q = p[:i]
                if q in implicit:
                    break
                implicit.add(q)
                i = p.rfind(b"/", 0, i)
        for q in implicit:
            parent = self.files.get(q)
            if parent is not None and parent.type != "dir":
                raise InvalidCase(f"{q!r} is a parent of other files but not a directory")
        self.implicit = implicit
        root = self.files.get(b"")
        if root is not None and root.type != "dir":
            raise InvalidCase("only a directory can be /")
        self.root = Node("dir", root.mode if root is not None else 0o755, None, b"/")
        self._attrs(self.root, root, b"/")

    def child(self, d: Node, name: bytes) -> Node | None:
        n = d.children.get(name)
        if n is not None:
            return n
        p = d.path + b"/" + name
        f = self.files.get(p)
        if f is not None:
            n = Node(_KIND[f.type], f.mode, d, name, f.data, f.tag if f.type == "probe" else None, p)
            n.writers = int(f.open_for_write)
        elif p in self.implicit:
            n = Node("dir", 0o755, d, name, path=p)
        else:
            return None
        self._attrs(n, f, p)
        d.children[name] = n
        return n

    def _attrs(self, n: Node, f: File | None, p: bytes) -> None:
        from contract.case import _mount_of
        if f is not None:
            n.uid, n.gid = getattr(f, "uid", 0), getattr(f, "gid", 0)
            n.caps = getattr(f, "caps", None)
        n.mnt_flags = _mount_of(self.mounts, p or b"/").flags

    # ------------------------------------------------------------ changes after the open

    def after_open(self, kind: str, a: bytes, b: bytes) -> None:
        """unlink/rename/rmdir by the case's root, once the dirfd is open: a
        node already reached (an open file, the dirfd) keeps existing; an
        unlinked file's exe link reads "PATH (deleted)" (d_path), a renamed
        one's its new path; names in a removed directory are ENOENT."""
        from dataclasses import replace
        try:
            node = self.lookup(self.root, a, follow=False)
        except Errno as e:
            raise InvalidCase(f"exec.after_open: {kind} {a!r} ({e.name})") from None
        if node.kind in ("chr", "blk"):  # a bind mount of the target's node: unlink and rename say EBUSY
            raise InvalidCase(f"exec.after_open: {kind} {a!r} is a mount point (EBUSY)")
        if node is self.root or (kind == "rmdir") != (node.kind == "dir"):
            raise InvalidCase(f"exec.after_open: {kind} {a!r} is not possible on a {node.kind}")
        old = node.path
        if kind == "rmdir" and any(p.startswith(old + b"/") for p in (*self.files, *self.implicit)):
            raise InvalidCase(f"exec.after_open: rmdir {a!r}: not empty")
        node.parent.children.pop(node.name, None)
        f = self.files.pop(old, None)
        self.implicit.discard(old)
        if kind == "rename":
            parent_path, _, name = b.rstrip(b"/").rpartition(b"/")
            try:
                parent = self.lookup(self.root, parent_path or b"/", follow=True)
            except Errno as e:
                raise InvalidCase(f"exec.after_open: rename to {b!r} ({e.name})") from None
            if parent.kind != "dir" or self.child(parent, name) is not None or not name:
                raise InvalidCase(f"exec.after_open: rename to {b!r}: not a new name in a directory")
            node.parent, node.name, node.path = parent, name, parent.path + b"/" + name
            if f is not None:
                self.files[node.path] = replace(f, path=node.path)
            parent.children[name] = node
        else:
            node.path = old + b" (deleted)"
            node.dead = kind == "rmdir"

    def may_lookup(self, d: Node) -> None:
        """may_lookup(): search permission on a directory, for the caller."""
        if self.cred is not None:
            from .creds import permission
            if not permission(d, self.cred):
                raise Errno("EACCES")

    # ------------------------------------------------------------ lookup

    fdnode: Node | None = None  # the dirfd's node, when exec.after_open needs it resolved first
    racy_eloop = False  # see the module docstring: set by a lookup near the link budget

    def lookup(self, start: Node, path: bytes, follow: bool) -> Node:
        """Resolve a non-empty path from `start` (path_lookupat + open_last_lookups)."""
        self._links = 0
        try:
            return self._walk(start, path, follow)
        finally:
            if 2 * self._links > MAXSYMLINKS >= self._links:
                self.racy_eloop = True

    def _walk(self, start: Node, path: bytes, follow: bool) -> Node:
        cur = self.root if path.startswith(b"/") else start
        parts = [c for c in path.split(b"/") if c]
        if not parts:
            return cur
        last = parts.pop()
        for c in parts:  # link_path_walk: every component but the last
            self.may_lookup(cur)
            if c == b".":
                continue
            if c == b"..":
                cur = cur.parent
                continue
            nxt = None if cur.dead else cur.children.get(c) or self.child(cur, c)
            if nxt is None:
                raise Errno("ENAMETOOLONG" if len(c) > NAME_MAX else "ENOENT")
            if nxt.kind == "lnk":
                nxt = self._follow(nxt)
            if nxt.kind != "dir":
                raise Errno("ENOTDIR")
            cur = nxt
        trailing = path.endswith(b"/")
        self.may_lookup(cur)
        if last == b".":
            return cur
        if last == b"..":
            return cur.parent
        nxt = None if cur.dead else cur.children.get(last) or self.child(cur, last)
        if nxt is None:
            raise Errno("ENAMETOOLONG" if len(last) > NAME_MAX else "ENOENT")
        if nxt.kind == "lnk" and (follow or trailing):
            nxt = self._follow(nxt)
        if trailing and nxt.kind != "dir":
            raise Errno("ENOTDIR")
        return nxt

    def _follow(self, link: Node) -> Node:
        self._links += 1
        if self._links > MAXSYMLINKS:
            raise Errno("ELOOP")
        return self._walk(link.parent, link.data, True)


def getname(path: bytes | None, allow_empty: bool) -> bytes:
    """getname_flags(): the user string checks that come before any lookup."""
    if path is None:
        raise Errno("EFAULT")
    if len(path) >= PATH_MAX:
        raise Errno("ENAMETOOLONG")
    if not path and not allow_empty:
        raise Errno("ENOENT")
    return path


def deny_write_access(node: Node, profile: Profile) -> None:
    """do_open_execat()/open_exec() after may_open: a file open for writing
    cannot be executed, nor be anyone's interpreter (ETXTBSY).  The check
    covers every file exec opens: the program, a #! or binfmt_misc
    interpreter (also an F rule's, at registration), an ELF PT_INTERP.
    2a010c412853 (6.11) dropped it; its revert (3b832035387f, 6.13) came
    back to 6.11.11 and 6.12.2 (profiles.KNOWN_BACKPORTS)."""
    if node.writers and not profile.has("2a010c412853"):
        raise Errno("ETXTBSY")


def open_exec(fs: FS, cwd: Node, name: bytes, profile: Profile) -> Node:
    """open_exec() of a kernel-held name (a #!, PT_INTERP or binfmt_misc
    interpreter), relative to the caller's cwd: getname_kernel() refuses
    PATH_MAX and more but not "" -- the walk of an empty name ends at the
    cwd, a directory, hence EACCES (seen on 6.18) -- then do_open_execat()."""
    if len(name) >= PATH_MAX:
        raise Errno("ENAMETOOLONG")
    node = fs.lookup(cwd, name, follow=True) if name else cwd
    may_open_exec(node, fs.cred)
    deny_write_access(node, profile)
    return node


def may_open_exec(node: Node, cred: Cred | None = None) -> None:
    """may_open(MAY_EXEC|MAY_OPEN): the type, path_noexec() for a regular
    file, then inode_permission() -- for the case's root (cred None) at
    least one x bit, else model/creds.py permission().

    The type comes first, before any permission or mount flag: a directory
    is EACCES for MAY_EXEC; a block or character device is EACCES when
    may_open_dev() refuses it (nodev) and otherwise falls through to the
    FIFO and socket case, EACCES for MAY_EXEC too (633fb6ac3980, 5.8, moved
    the S_ISREG check of do_open_execat up here; before, the open went on
    and do_open_execat's S_ISREG test said EACCES after it).  So a device,
    a socket, a FIFO and a pipe are EACCES for every caller on every
    profile, AT_EXECVE_CHECK included (kselftest exec/non-regular.c,
    check-exec.c; seen on 6.18)."""
    if node.kind == "lnk":
        raise Errno("ELOOP")
    if node.kind != "reg":
        raise Errno("EACCES")  # directory, device, FIFO, socket, pipe
    if "noexec" in node.mnt_flags:
        raise Errno("EACCES")
    if cred is None:
        if not node.mode & 0o111:  # root needs at least one x bit
            raise Errno("EACCES")
        return
    from .creds import permission
    if not permission(node, cred):
        raise Errno("EACCES")
