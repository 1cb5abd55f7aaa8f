"""The userspace half of exec: PATH search and the POSIX ENOEXEC fallback of
glibc's execvp/execvpe and posix_spawnp, dash, bash and busybox sh, each run
for real inside the case root (harness/userspace) and predicted by
model/userspace.py on top of the kernel model.  Pinned: one case per
behaviour where the five callers differ (the table in the README)."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings

from contract.case import SEARCH_VIAS, case_from_json
from generators.search import search_cases

# The callers run for real: in the sandbox target's executor, or in a qemu
# guest whose initramfs carries them (harness/qemu/initramfs.py); a target
# without them (docker, uml, a simulator) skips the module whole, saying why.
pytestmark = pytest.mark.needs("callers")


# A search case on a TCG guest costs about 0.4 s (a dynamically linked shell
# starting under emulation, ten times the sandbox): guests run a quarter of
# the profile's examples, the pinned shapes all.
_GUEST = os.environ.get("EXECSPEC_SUITE_TARGET", "").partition(":")[0] in ("qemu", "uml")


def _prop(via):
    @given(search_cases(via))
    def test(conform, case):
        conform(case)
    test.__name__ = f"test_search_{via}"
    if _GUEST:
        test = settings(max_examples=max(10, settings().max_examples // 4))(test)
    return test


for _via in SEARCH_VIAS:
    globals()[f"test_search_{_via}"] = _prop(_via)


P = {"path": "/bin/prog", "type": "probe", "tag": "P"}
L = {"path": "/usr/local/bin/prog", "type": "probe", "tag": "L"}
T = {"path": "/bin/t", "type": "probe", "tag": "T"}
SH = {"path": "/bin/sh", "type": "probe", "tag": "sh"}
SELF = {"path": "/proc/self/exe", "type": "probe", "tag": "self"}
SCRIPT = {"path": "/bin/scr", "type": "file", "mode": "0755", "data": 'exec /bin/t "$0" "$@"\n'}
NOEXEC = {"path": "/a/prog", "type": "file", "mode": "0644", "data": "x"}
SHAPES = {
    "found-after-eacces": ([P, NOEXEC], "prog", "/a:/bin", "/"),
    "only-eacces": ([NOEXEC], "prog", "/a:/bin", "/"),
    "not-found": ([P], "nope", "/a:/bin", "/"),
    "script-no-shebang": ([T, SH, SELF, SCRIPT], "scr", "/a:/bin", "/"),
    "script-no-bin-sh": ([T, SCRIPT], "scr", "/a:/bin", "/"),
    "binary-nul": ([T, SH, SELF, {"path": "/bin/b", "type": "file", "mode": "0755", "data": {"b64": "AAECAw=="}}],
                   "b", "/bin", "/"),
    "control-byte": ([T, SH, SELF, {"path": "/bin/b", "type": "file", "mode": "0755", "data": "\u0001x\n"}],
                     "b", "/bin", "/"),
    "empty-file": ([T, SH, SELF, {"path": "/bin/e", "type": "file", "mode": "0755", "data": ""}], "e", "/bin", "/"),
    "PATH-unset": ([P, L], "prog", None, "/"),
    "empty-element": ([P], "prog", ":/x", "/bin"),
    "relative-slash": ([P], "bin/prog", "/a", "/"),
}


def _shape_case(name, via):
    files, word, path, cwd = SHAPES[name]
    ex = {"syscall": "search", "via": via, "path": word, "argv": ["A0", "1"], "envp": ["K=V"], "cwd": cwd}
    if path is not None:
        ex["PATH"] = path
    return case_from_json({"files": files, "exec": ex})


@pytest.mark.parametrize("via", SEARCH_VIAS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_fallback_shape(conform, shape, via):
    conform(_shape_case(shape, via), pinned=True)
