"""How the model signals an errno, and cases it cannot judge."""
from __future__ import annotations


class Errno(Exception):
    """A system call in the model fails with this errno (symbolic name)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class InvalidCase(ValueError):
    """The case cannot be set up as written (e.g. its dirfd or cwd does not exist)."""
