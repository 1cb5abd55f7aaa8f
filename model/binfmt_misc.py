"""fs/binfmt_misc.c — placeholder until the binfmt_misc issue lands.

Cases with registrations are reported as not modelled (NotModelled), never
guessed: the suites skip them and the CLI says so.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Errno

if TYPE_CHECKING:
    from .exec import Bprm


class NotModelled(Exception):
    pass


class Instance:
    """One binfmt_misc instance (per user namespace since 6.7)."""

    def __init__(self) -> None:
        self.entries: list = []

    def register(self, reg: bytes, fs, cwd, profile) -> None:
        raise NotModelled("binfmt_misc registrations are not modelled yet")


def load_misc_binary(bprm: "Bprm", buf: bytes) -> dict:
    if not bprm.misc or not bprm.misc.entries:
        raise Errno("ENOEXEC")
    raise NotModelled("binfmt_misc matching is not modelled yet")
