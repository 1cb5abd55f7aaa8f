"""The reference model of Linux exec, one module per kernel source file.

    model.predict(case, "6.18")  ->  outcome dict (case-format outcome)

Modules: exec (fs/exec.c), namei (fs/namei.c, the lookup part),
binfmt_script, binfmt_elf, binfmt_misc; profiles says which behaviours a
kernel has.
"""
from __future__ import annotations

from typing import Any

from contract.case import Case

from .binfmt_misc import NotModelled
from .errors import Errno, InvalidCase
from .exec import predict as _predict
from .profiles import Profile, profile

__all__ = ["predict", "profile", "Profile", "Errno", "InvalidCase", "NotModelled"]


def predict(case: Case, kernel: str | Profile = "newest") -> dict[str, Any]:
    """Predicted outcome; InvalidCase if the case can't be set up as written."""
    prof = kernel if isinstance(kernel, Profile) else profile(kernel)
    try:
        if case.exec.syscall == "search":  # the userspace caller, then the kernel
            from .userspace import predict as search_predict
            return search_predict(case, prof)
        return _predict(case, prof)
    except NotModelled as e:
        return {"outcome": "unmodelled", "reason": str(e)}
