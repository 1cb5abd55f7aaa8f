"""The case's file system and path lookup, mirroring fs/namei.c.

Only what exec can observe is modelled: a tree of directories, regular
files, symlinks and FIFOs on one tmpfs, looked up by the case's root user
(CAP_DAC_OVERRIDE: directory search permission never fails).
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
"""
from __future__ import annotations

from typing import Iterable

from .errors import Errno, InvalidCase

PATH_MAX = 4096
NAME_MAX = 255
MAXSYMLINKS = 40


class Node:
    __slots__ = ("kind", "mode", "data", "tag", "children", "parent", "name")

    def __init__(self, kind: str, mode: int, parent: "Node | None", name: bytes,
                 data: bytes = b"", tag: str | None = None):
        self.kind = kind  # "dir", "reg", "lnk", "fifo", "pipe"
        self.mode = mode
        self.data = data  # file contents, or symlink target
        self.tag = tag  # probe tag; None for a plain file
        self.children: dict[bytes, Node] = {}
        self.parent = parent if parent is not None else self
        self.name = name  # the dentry name

    @property
    def is_probe(self) -> bool:
        return self.tag is not None


# A pipe stands for fds 0-2, which the executor connects to pipes.
PIPE = Node("pipe", 0o600, None, b"pipe:")


class FS:
    def __init__(self, files: Iterable) -> None:
        self.root = Node("dir", 0o755, None, b"/")
        for f in files:
            self._add(f)

    def _add(self, f) -> None:
        comps = [c for c in f.path.split(b"/") if c]
        if not comps:
            if f.type == "dir":
                self.root.mode = f.mode
                return
            raise InvalidCase("only a directory can be /")
        cur = self.root
        for c in comps[:-1]:
            nxt = cur.children.get(c)
            if nxt is None:
                nxt = cur.children[c] = Node("dir", 0o755, cur, c)
            elif nxt.kind != "dir":
                raise InvalidCase(f"{f.path!r}: a parent is not a directory")
            cur = nxt
        name = comps[-1]
        if len(name) > NAME_MAX or any(len(c) > NAME_MAX for c in comps):
            raise InvalidCase(f"{f.path!r}: component longer than NAME_MAX")
        old = cur.children.get(name)
        if old is not None:
            if f.type == "dir" and old.kind == "dir":
                old.mode = f.mode  # listed after a child created it
                return
            raise InvalidCase(f"{f.path!r} listed twice")
        kind = {"probe": "reg", "file": "reg", "dir": "dir", "symlink": "lnk", "fifo": "fifo"}[f.type]
        tag = f.tag if f.type == "probe" else None
        cur.children[name] = Node(kind, f.mode, cur, name, f.data, tag)

    # ------------------------------------------------------------ lookup

    def lookup(self, start: Node, path: bytes, follow: bool, links: list[int] | None = None) -> Node:
        """Resolve a non-empty path from `start` (path_lookupat + open_last_lookups)."""
        if links is None:
            links = [0]
        cur = self.root if path.startswith(b"/") else start
        comps = [c for c in path.split(b"/") if c]
        if not comps:
            return cur
        trailing = path.endswith(b"/")
        last = len(comps) - 1
        for i, c in enumerate(comps):
            if c == b".":
                nxt = cur
            elif c == b"..":
                nxt = cur.parent
            else:
                nxt = cur.children.get(c)
                if nxt is None:
                    raise Errno("ENAMETOOLONG" if len(c) > NAME_MAX else "ENOENT")
            if i == last:
                if nxt.kind == "lnk" and (follow or trailing) and c not in (b".", b".."):
                    nxt = self._follow(nxt, links)
                if trailing and nxt.kind != "dir":
                    raise Errno("ENOTDIR")
                return nxt
            if nxt.kind == "lnk":
                nxt = self._follow(nxt, links)
            if nxt.kind != "dir":
                raise Errno("ENOTDIR")
            cur = nxt
        raise AssertionError("unreachable")

    def _follow(self, link: Node, links: list[int]) -> Node:
        links[0] += 1
        if links[0] > MAXSYMLINKS:
            raise Errno("ELOOP")
        return self.lookup(link.parent, link.data, True, links)


def getname(path: bytes | None, allow_empty: bool) -> bytes:
    """getname_flags(): the user string checks that come before any lookup."""
    if path is None:
        raise Errno("EFAULT")
    if len(path) >= PATH_MAX:
        raise Errno("ENAMETOOLONG")
    if not path and not allow_empty:
        raise Errno("ENOENT")
    return path


def may_open_exec(node: Node) -> None:
    """may_open(MAY_EXEC|MAY_OPEN) for the case's root user."""
    if node.kind == "lnk":
        raise Errno("ELOOP")
    if node.kind != "reg":
        raise Errno("EACCES")  # directory, FIFO, pipe
    if not node.mode & 0o111:  # root needs at least one x bit
        raise Errno("EACCES")
