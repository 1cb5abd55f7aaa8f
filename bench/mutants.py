"""Mutation check of the generated properties: does the suite notice when
the model is wrong?

    .venv/bin/python bench/mutants.py [--target sandbox] [--profile ci] [--seed 0] [-j 2] [-k SUBSTR]
                                      [--list] [--all-suites]

Each mutant is one textual change to a file of model/ (MUTANTS below: the
file, the exact text, its replacement, what rule it breaks).  For each, the
project is copied to a temporary directory (git's tracked files, plus a
link to build/ for the compiled executor and probes), the change applied
there -- never in the checkout -- and the generated properties of the area
the mutant touches (AREAS below: the @given tests that exercise that rule,
cheapest first) run against the target (-x, one pytest worker per mutant,
-j mutants at a time, the derandomized `ci` profile by default).  A failing
run kills the mutant when the failure is a disagreement with the target
(AssertionError); any other failure is an error, counted neither way.
--all-suites runs every generated property instead
(all suites but the pinned cases and the corpus; slow: ~150 s a survivor).
Only @given tests are selected: no pinned case can kill a mutant.
Mutants marked equivalent=True cannot be told apart from the model by any
exec outcome and are left out of the score.  Prints one line per mutant and
the kill rate of the non-equivalent ones.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # harness (sweep_dead), as the other bench scripts


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    why: str
    equivalent: bool = False


M = Mutant
MUTANTS = [
    # ---- fs/exec.c: bprm_stack_limits, copy_strings, get_arg_page
    M("arg-max-floor", "model/exec.py", "limit = max(limit, ARG_MAX)", "limit = max(limit, ARG_MAX // 2)",
      "the 128 KiB floor of the argument space"),
    M("arg-max-floor-gone", "model/exec.py", "limit = max(limit, ARG_MAX)", "limit = limit",
      "no floor at all"),
    M("stk-lim-3-4", "model/exec.py", "limit = STK_LIM // 4 * 3", "limit = STK_LIM // 2",
      "the 6 MiB cap (3/4 of _STK_LIM)"),
    M("rlimit-quarter", "model/exec.py", "limit = min(limit, rl // 4)", "limit = min(limit, rl // 3)",
      "a quarter of RLIMIT_STACK"),
    M("argc-min-1", "model/exec.py", "ptrs = (max(argc, 1) if", "ptrs = (argc if",
      "argc counted as at least one pointer (dcd46d897adb)"),
    M("ptr-limit-le", "model/exec.py", "if limit <= ptr_size:", "if limit < ptr_size:",
      "E2BIG when the pointers fill the space exactly", equivalent=True),
    # equivalent: with no space left the filename (pushed next, nothing in
    # between can fail) overflows it: E2BIG all the same
    M("strlen-limit", "model/exec.py", "if n > MAX_ARG_STRLEN:", "if n >= MAX_ARG_STRLEN:",
      "MAX_ARG_STRLEN counts the NUL"),
    M("used-gt-limit", "model/exec.py", "if self.used > self.limit:", "if self.used >= self.limit:",
      "the strings may fill the space exactly"),
    M("page-8-plus-used", "model/exec.py", "pages = -(-(8 + self.used) // PAGE_SIZE)",
      "pages = -(-(self.used) // PAGE_SIZE)", "the stack page's top 8 bytes"),
    M("first-page-free", "model/exec.py", "pages > 1 and pages * PAGE_SIZE", "pages > 0 and pages * PAGE_SIZE",
      "the first stack page needs no growth"),
    M("empty-argv0", "model/exec.py", "if not argv and profile.has(\"dcd46d897adb\"):", "if False:",
      "argc == 0 gets an empty argv[0]"),
    M("open-first", "model/exec.py", "open_first = profile.has(\"978ffcbf00d8\")", "open_first = False",
      "6.8 opens the file before copying strings"),
    M("depth-5", "model/exec.py", "if depth > 5:", "if depth > 4:", "five rewrites at most"),
    M("fd-name", "model/exec.py", "return b\"/dev/fd/%d/\" % fd + path, True, False",
      "return b\"/dev/fd/%d\" % fd + path, True, False", "the /dev/fd/N/path name"),
    M("cloexec-inaccessible", "model/exec.py", "if from_fd and e.dirfd_cloexec:", "if False:",
      "a close-on-exec dirfd name is inaccessible to interpreters"),
    M("comm-15", "model/exec.py", "comm[:TASK_COMM_LEN - 1]", "comm[:TASK_COMM_LEN]", "comm holds 15 bytes"),
    M("unknown-flags", "model/exec.py", "if flags & ~allowed:", "if flags & ~allowed & ~0x8000:",
      "EINVAL for unknown execveat flags"),
    # ---- fs/namei.c
    M("path-max", "model/namei.py", "if len(path) >= PATH_MAX:", "if len(path) > PATH_MAX:",
      "PATH_MAX counts the NUL"),
    M("name-max-middle", "model/namei.py",
      "                raise Errno(\"ENAMETOOLONG\" if len(c) > NAME_MAX else \"ENOENT\")",
      "                raise Errno(\"ENOENT\")", "NAME_MAX on a missing middle component"),
    M("name-max-last", "model/namei.py",
      "            raise Errno(\"ENAMETOOLONG\" if len(last) > NAME_MAX else \"ENOENT\")",
      "            raise Errno(\"ENOENT\")", "NAME_MAX on a missing last component"),
    M("maxsymlinks", "model/namei.py", "if self._links > MAXSYMLINKS:", "if self._links >= MAXSYMLINKS:",
      "40 links may be followed"),
    M("trailing-follow", "model/namei.py", "if nxt.kind == \"lnk\" and (follow or trailing):",
      "if nxt.kind == \"lnk\" and follow:", "a trailing slash follows a final symlink"),
    M("trailing-notdir", "model/namei.py",
      "        if trailing and nxt.kind != \"dir\":\n            raise Errno(\"ENOTDIR\")",
      "        if False:\n            pass", "a trailing slash needs a directory"),
    M("dotdot-last", "model/namei.py", "        if last == b\"..\":\n            return cur.parent",
      "        if last == b\"..\":\n            return cur", "a path ending in .."),
    M("middle-notdir", "model/namei.py",
      "            if nxt.kind != \"dir\":\n                raise Errno(\"ENOTDIR\")",
      "            if nxt.kind not in (\"dir\", \"reg\"):\n                raise Errno(\"ENOTDIR\")",
      "a regular file as a middle component"),
    M("nofollow-eloop", "model/namei.py", "    if node.kind == \"lnk\":\n        raise Errno(\"ELOOP\")",
      "    if node.kind == \"lnk\":\n        raise Errno(\"EACCES\")", "may_open of a symlink is ELOOP"),
    M("root-needs-x", "model/namei.py", "if not node.mode & 0o111:  # root needs at least one x bit",
      "if not node.mode & 0o100:  # root needs at least one x bit", "root needs any x bit, not the owner's"),
    M("noexec", "model/namei.py", "    if \"noexec\" in node.mnt_flags:\n        raise Errno(\"EACCES\")",
      "    if False:\n        pass", "path_noexec"),
    M("search-perm", "model/namei.py",
      "            if not permission(d, self.cred):\n                raise Errno(\"EACCES\")",
      "            pass", "may_lookup: search permission"),
    M("etxtbsy", "model/namei.py", "if node.writers and not profile.has(\"2a010c412853\"):", "if False:",
      "deny_write_access"),
    # ---- model/creds.py: bprm_fill_uid, cap_bprm_creds_from_file, generic_permission
    # setid_bits() is bprm_fill_uid()'s one test: each of these mutants
    # changes the euid/egid and PER_CLEAR_ON_SETID alike
    M("nosuid", "model/creds.py", "if \"nosuid\" in node.mnt_flags or cred.nnp or",
      "if cred.nnp or", "set-id bits ignored on a nosuid mount"),
    M("nnp-setid", "model/creds.py", "if \"nosuid\" in node.mnt_flags or cred.nnp or",
      "if \"nosuid\" in node.mnt_flags or", "no_new_privs ignores set-id bits"),
    M("sgid-needs-xgrp", "model/creds.py", "mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP\n",
      "bool(mode & S_ISGID)\n", "S_ISGID without S_IXGRP is no setgid (and sets no per_clear)"),
    M("real-root-caps", "model/creds.py", "if euid == 0 or cred.uid == 0:", "if euid == 0:",
      "a real root keeps the permitted set"),
    M("eff-only-euid", "model/creds.py", "        if euid == 0:\n            effective = True",
      "        if euid == 0 or cred.uid == 0:\n            effective = True", "only an effective root gets pE"),
    M("secure-setid", "model/creds.py", "secure = is_setid or", "secure =", "AT_SECURE for a set-id exec"),
    M("secure-nonroot", "model/creds.py", "secure = is_setid or (cred.uid != 0 and", "secure = is_setid or (False and",
      "AT_SECURE for a non-root caller gaining capabilities"),
    M("setid-vs-real", "model/creds.py",
      "is_setid = euid != cred.uid or egid != cred.gid", "is_setid = euid != cred.uid",
      "a setgid exec is setid too"),
    M("dac-class", "model/creds.py", "    elif cred.in_group(node.gid):\n        bits = mode >> 3",
      "    elif cred.in_group(node.gid) and mode & 0o010:\n        bits = mode >> 3",
      "only the caller's class counts (group bits without x deny)"),
    M("dac-groups", "model/creds.py", "return gid == self.gid or gid in self.groups", "return gid == self.gid",
      "supplementary groups count"),
    M("cap-override-x", "model/creds.py", "return node.kind == \"dir\" or bool(mode & 0o111)", "return True",
      "CAP_DAC_OVERRIDE needs an x bit to execute"),
    M("securebits-kept", "model/creds.py", "\"securebits\": cred.securebits}", "\"securebits\": 0}",
      "securebits survive exec (only SECURE_KEEP_CAPS is cleared)"),
    # ---- mm/memfd.c
    M("memfd-noexec-seal", "model/exec.py", "0o666 if \"MFD_NOEXEC_SEAL\" in flags else 0o777", "0o777",
      "MFD_NOEXEC_SEAL clears the x bits"),
    M("memfd-mount", "model/exec.py", "    return n\n", "    n.mnt_flags = src.mnt_flags\n    return n\n",
      "a memfd lives on the shm mount, not the source file's"),
    M("memfd-noexec-sysctl", "model/exec.py", "\"MFD_NOEXEC_SEAL\" if sysctl >= 1 else \"MFD_EXEC\"",
      "\"MFD_EXEC\"", "vm.memfd_noexec=1 makes a flagless memfd MFD_NOEXEC_SEAL (only a guest can set it: "
      "--target qemu)"),
    M("bset-rawio", "model/creds.py", "BSET = CAP_FULL & ~(1 << CAP_SYS_RAWIO)", "BSET = CAP_FULL",
      "the bounding set (the executor drops CAP_SYS_RAWIO)"),
    # ---- security/commoncap.c: get_file_caps, handle_privileged_root (files[].caps)
    M("fcaps-nosuid", "model/creds.py", "if fc is None or \"nosuid\" in node.mnt_flags or fc.rootid",
      "if fc is None or fc.rootid", "file capabilities ignored on a nosuid mount"),
    M("fcaps-rootid", "model/creds.py", " or fc.rootid not in (None, 0):", ":",
      "a v3 xattr whose root id is not the namespace's root is ignored"),
    M("fcaps-eperm", "model/creds.py", "if fc.effective and fc.permitted & ~permitted:", "if False:",
      "an effective file needing a capability outside the bounding set is EPERM"),
    M("fcaps-eperm-always", "model/creds.py", "if fc.effective and fc.permitted & ~permitted:",
      "if fc.permitted & ~permitted:", "only with the effective flag"),
    M("fcaps-bset", "model/creds.py", "permitted = BSET & fc.permitted", "permitted = fc.permitted",
      "pP' = bounding & fP"),
    M("fcaps-suid-root", "model/creds.py", "if not (has_fcap and euid == 0 and cred.uid != 0):", "if True:",
      "a set-uid-root file with capabilities gives a non-root caller only the file's"),
    M("fcaps-effective", "model/creds.py", "return permitted, fc.effective, True", "return permitted, True, True",
      "the effective flag decides pE'"),
    # ---- fs/namei.c may_open: non-regular files
    M("nonreg-sock", "model/namei.py", "    if node.kind != \"reg\":\n        raise Errno(\"EACCES\")  # directory",
      "    if node.kind not in (\"reg\", \"sock\"):\n        raise Errno(\"EACCES\")  # directory",
      "a socket is no regular file"),
    M("nonreg-chr", "model/namei.py", "    if node.kind != \"reg\":\n        raise Errno(\"EACCES\")  # directory",
      "    if node.kind not in (\"reg\", \"chr\"):\n        raise Errno(\"EACCES\")  # directory",
      "a character device is no regular file", equivalent=True),
    # equivalent: the chardev's model mode (0644) has no x bit, so root's
    # may_open says EACCES all the same, and another caller's permission too
    # ---- binfmt_elf load addresses (ADDR_NO_RANDOMIZE)
    M("addr-et-dyn-base", "model/binfmt_elf.py", "ELF_ET_DYN_BASE = NATIVE.task_size // 3 * 2",
      "ELF_ET_DYN_BASE = NATIVE.task_size // 3 * 2 + PAGE", "ELF_ET_DYN_BASE"),
    M("addr-align", "model/binfmt_elf.py", "want = dyn_base & ~(align - 1) if align else",
      "want = dyn_base if align else", "a PIE's base masked to maximum_alignment"),
    M("addr-align-pow2", "model/binfmt_elf.py", "if p.type == PT_LOAD and p.align and p.align & (p.align - 1) == 0:",
      "if p.type == PT_LOAD and p.align:", "non-power-of-two p_align is skipped"),
    M("addr-gap-min", "model/binfmt_elf.py", "gap = min(max(gap, SIZE_128M), task // 6 * 5)",
      "gap = min(gap, task // 6 * 5)", "the 128 MiB floor of the stack gap"),
    M("addr-gap-max", "model/binfmt_elf.py", "gap = min(max(gap, SIZE_128M), task // 6 * 5)",
      "gap = max(gap, SIZE_128M) % (1 << 47)", "the 5/6 ceiling of the stack gap"),
    M("addr-guard-gap", "model/binfmt_elf.py", "        gap += STACK_GUARD_GAP", "        gap += 0",
      "stack_guard_gap in the mmap gap"),
    M("addr-phdr-first", "model/binfmt_elf.py", "                phdr = eh.phoff - p.offset + p.vaddr\n",
      "                phdr = eh.phoff - p.offset + p.vaddr\n                break\n",
      "AT_PHDR through the last PT_LOAD holding e_phoff"),
    M("addr-interp-size", "model/binfmt_elf.py", "at_base = top - _total_size(iloads) - _pagestart(iloads[0].vaddr)",
      "at_base = top - PAGE - _pagestart(iloads[0].vaddr)", "an interpreter right below the mmap base"),
    M("addr-static-pie-align", "model/binfmt_elf.py", "start = top & ~(align - 1)  # MAP_FIXED_NOREPLACE",
      "start = top  # MAP_FIXED_NOREPLACE", "a static PIE's mmap address masked to its alignment (3545deff0ec7)"),
    M("addr-static-pie-align-always", "model/binfmt_elf.py",
      "if align > PAGE and bprm.profile.has(\"3545deff0ec7\"):", "if align > PAGE:",
      "before 3545deff0ec7 a static PIE's alignment is ignored (dies on a 5.10 guest; equivalent on 6.11+)"),
    M("addr-static-pie-vaddr", "model/binfmt_elf.py", "            bias = _pagestart(start - loads[0].vaddr)",
      "            bias = _pagestart(start - (loads[0].vaddr if start == top else 0))",
      "the masked address is the first PT_LOAD's, less its p_vaddr"),
    M("addr-compat-dyn-base", "model/binfmt_elf.py", "dyn_base = COMPAT_ELF_ET_DYN_BASE if h.ia32 else",
      "dyn_base = 0x400000 if h.ia32 else", "an ia32 PIE at COMPAT_ELF_ET_DYN_BASE, not x86's ia32 ELF_ET_DYN_BASE"),
    M("addr-compat-mmap-base", "model/binfmt_elf.py", "base = mmap_base(rlimit_stack, h.task_size)",
      "base = mmap_base(rlimit_stack, 0xC0000000 if h.ia32 else h.task_size)",
      "mmap_compat_base from task_size_32bit()"),
    M("addr-per-clear-owner", "model/creds.py", "    if suid or sgid:\n        return True",
      "    if suid and node.uid != cred.uid or sgid:\n        return True",
      "per_clear for a set-uid file the caller owns too"),
    M("addr-per-clear-caps", "model/creds.py", "    return bool(_new_permitted(node, cred) & ~cred.permitted)",
      "    return False", "per_clear for a capability-gaining exec (__cap_gained)"),
    M("addr-per-clear-nnp", "model/creds.py", "    if suid or sgid:\n        return True",
      "    if suid or sgid or node.mode & S_ISUID and cred.nnp and permission(node, cred):\n        return True",
      "no_new_privs: bprm_fill_uid() honours no set-id bit, so no per_clear either"),
    M("addr-secureexec-stack", "model/binfmt_elf.py", "            rlimit_stack = STK_LIM\n",
      "            pass\n", "a secureexec caps RLIMIT_STACK at _STK_LIM before the mmap base"),
    # ---- binfmt_script
    M("script-arg", "model/binfmt_script.py", "new = [name] + ([arg] if arg is not None else []) + [bprm.interp]",
      "new = [name] + [bprm.interp]", "the #! argument"),
    M("script-argv0", "model/binfmt_script.py", "    bprm.remove_arg_zero()\n    new", "    new",
      "argv[0] is replaced"),
    M("script-blank", "model/binfmt_script.py", "_TERMINATOR = re.compile(rb\"[ \\t\\0]\")",
      "_TERMINATOR = re.compile(rb\"[ \\0]\")", "tab ends the interpreter name"),
    # ---- binfmt_elf
    M("phdr-64k", "model/binfmt_elf.py", "if size == 0 or size > 65536 or", "if size == 0 or size >= 65536 or",
      "the 64 KiB program-header limit"),
    M("mmap-min", "model/binfmt_elf.py", "if addr < MMAP_MIN_ADDR or", "if addr <= MMAP_MIN_ADDR or",
      "a segment exactly at mmap_min_addr"),
    M("phentsize", "model/binfmt_elf.py", "if eh.phentsize != h.phdr.size:", "if eh.phentsize < h.phdr.size:",
      "e_phentsize must be exact"),
    # ---- fs/exec.c: begin_new_exec's AT_EXECFD under exec.rlimit_nofile
    M("execfd-dirfd-held", "model/exec.py",
      "    if e.syscall == \"execveat\" and isinstance(e.dirfd, bytes) and not e.dirfd_cloexec:",
      "    if False:", "execveat's dirfd (fd 3) is still held unless close-on-exec"),
    M("execfd-limit-off-by-one", "model/exec.py", "set(range(case.exec.rlimit_nofile))",
      "set(range(case.exec.rlimit_nofile - 1))", "the execfd needs a free descriptor strictly below the limit"),
    # ---- exec.concurrent: each sibling's call gives the single call's outcome
    M("concurrent-one-fewer", "model/exec.py", "out_ = [dict(one) for _ in range(case.exec.concurrent - 1)]",
      "out_ = [dict(one) for _ in range(case.exec.concurrent - 2)]", "the caller is one of the N: N-1 siblings"),
    M("concurrent-exec-excludes", "model/exec.py", "out_ = [dict(one) for _ in range(case.exec.concurrent - 1)]",
      "out_ = [dict(one) if one['outcome'] != 'exec' else {'outcome': 'error', 'errno': 'ETXTBSY'} "
      "for _ in range(case.exec.concurrent - 1)]",
      "an exec in progress denies no other exec of the file (only writers)"),
    M("de-thread-tid", "model/exec.py", "return 1 if case.exec.concurrent == 1 else 2 + index",
      "return 2 if case.exec.concurrent == 1 else 2 + case.exec.concurrent + index",
      "de_thread: the program takes the leader's pid, not the calling thread's TID"),
]


# The generated properties that exercise each mutant's rule, cheapest (most
# likely to kill) first.  "file.py" means every @given test of that file;
# "file.py::name" one test.  A mutant not listed runs every generated property.
B = "test_boundaries.py::"
ARGS = ["test_argv_envp.py"]
PATHS = ["test_paths.py"]
AREAS: dict[str, list[str]] = {
    "arg-max-floor": [B + "test_arg_max_floor"] + ARGS,
    "arg-max-floor-gone": [B + "test_arg_max_floor"] + ARGS,
    "stk-lim-3-4": ARGS + [B + "test_arg_max_floor"],
    "rlimit-quarter": ARGS + [B + "test_arg_max_floor"],
    "argc-min-1": ARGS + [B + "test_arg_max_floor"],
    "ptr-limit-le": ARGS + [B + "test_arg_max_floor"],
    "strlen-limit": [B + "test_arg_strlen_limit"] + ARGS,
    "used-gt-limit": ARGS + [B + "test_arg_max_floor"],
    "page-8-plus-used": [B + "test_stack_page_growth"] + ARGS,
    "first-page-free": [B + "test_stack_under_one_page", B + "test_stack_page_growth"] + ARGS,
    "empty-argv0": ARGS + ["test_execveat.py"],
    "open-first": ARGS + PATHS + ["test_execveat.py"],
    "depth-5": ["test_shebang.py::test_interpreter_chain", "test_shebang.py", "test_binfmt_misc.py"],
    "fd-name": ["test_execveat.py"],
    "cloexec-inaccessible": ["test_execveat.py"],
    "comm-15": PATHS + ["test_execveat.py"] + ARGS,
    "unknown-flags": ["test_execveat.py"],
    "path-max": PATHS,
    "name-max-middle": [B + "test_name_max_components"] + PATHS,
    "name-max-last": [B + "test_name_max_components"] + PATHS,
    "maxsymlinks": ["test_paths.py::test_symlink_limit"] + PATHS,
    "trailing-follow": [B + "test_trailing_slash_nofollow"] + PATHS + ["test_execveat.py"],
    "trailing-notdir": PATHS + [B + "test_trailing_slash_nofollow"],
    "dotdot-last": [B + "test_dotdot_cwd_dirfd"] + PATHS,
    "middle-notdir": PATHS,
    "nofollow-eloop": ["test_execveat.py"] + PATHS,
    "etxtbsy": ["test_pinned_exec.py::test_text_busy_generated"],
    "script-arg": ["test_shebang.py"],
    "script-argv0": ["test_shebang.py"],
    "script-blank": ["test_shebang.py"],
    "phdr-64k": [B + "test_phdr_table_limit", "test_elf.py"],
    "mmap-min": [B + "test_mmap_min_addr_edge", "test_elf.py"],
    "phentsize": ["test_elf.py"],
    "memfd-noexec-seal": ["test_memfd.py"],
    "memfd-mount": ["test_memfd.py"],
    "memfd-noexec-sysctl": ["test_memfd.py"],
    "securebits-kept": ["test_creds.py::test_securebits_and_check"],
    "nonreg-sock": ["test_nonregular.py"],
    "nonreg-chr": ["test_nonregular.py"],
    "execfd-dirfd-held": ["test_binfmt_misc.py::test_execfd_descriptor_limit"],
    "execfd-limit-off-by-one": ["test_binfmt_misc.py::test_execfd_descriptor_limit"],
    "concurrent-one-fewer": ["test_concurrent.py"],
    "de-thread-tid": ["test_concurrent.py::test_from_thread", "test_concurrent.py"],
    "concurrent-exec-excludes": ["test_concurrent.py"],
}
CREDS = ("model/creds.py",)
for _m in MUTANTS:
    if _m.name.startswith("fcaps-"):
        AREAS.setdefault(_m.name, ["test_creds.py::test_file_capabilities"])
    if _m.name.startswith("addr-"):
        AREAS.setdefault(_m.name, ["test_load_address.py"])
    if _m.file in CREDS or _m.name in ("root-needs-x", "noexec", "search-perm"):
        AREAS.setdefault(_m.name, ["test_creds.py"])


def given_tests(rel: str, base: Path = ROOT) -> list[str]:
    """The @given tests of suites/REL (or REL itself when it names one)."""
    if "::" in rel:
        return ["suites/" + rel]
    lines = (base / "suites" / rel).read_text().splitlines()
    out = []
    for i, ln in enumerate(lines):
        if ln.startswith("def test_"):
            j = i - 1
            while j >= 0 and lines[j].startswith("@"):
                if lines[j].startswith("@given("):
                    out.append(f"suites/{rel}::{ln[4:ln.index('(')]}")
                    break
                j -= 1
    return out


def selection(m: Mutant | None, base: Path = ROOT) -> list[str]:
    if m is None or m.name not in AREAS:
        files = sorted(p.name for p in (base / "suites").glob("test_*.py") if p.name != "test_corpus.py")
        rels = files
    else:
        rels = AREAS[m.name]
    out: list[str] = []
    for r in rels:
        for t in given_tests(r, base):
            if t not in out:
                out.append(t)
    return out


def copy_tree(dst: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in files.decode().split("\0"):
        if not rel or not (ROOT / rel).is_file():
            continue
        p = dst / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, p)
    # the untracked files of the working tree (new suites before a commit)
    for d in ("model", "generators", "suites", "harness"):
        for src in (ROOT / d).rglob("*.py"):
            p = dst / src.relative_to(ROOT)
            if not p.exists():
                p.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, p)
    (dst / "build").symlink_to(ROOT / "build")


def run_suite(tree: Path, args, tests: list[str]) -> tuple[int, float, str]:
    # COLUMNS: pytest cuts the short summary line to the terminal's width,
    # which could cut "AssertionError" off a long test id (an "error" then)
    env = dict(os.environ, EXECSPEC_PROFILE=args.profile, EXECSPEC_FAILURES=str(tree / "failures"), COLUMNS="400")
    cmd = [sys.executable, "-m", "pytest", *tests, "-p", "no:xdist", "-x", "-q", "-p", "no:cacheprovider",
           f"--hypothesis-seed={args.seed}", "--target", args.target]
    if args.kernel:
        cmd += ["--kernel", args.kernel]
    t = time.monotonic()
    try:
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - t, "timeout"
    failed = next((ln for ln in r.stdout.splitlines() if ln.startswith("FAILED")), "")
    return r.returncode, time.monotonic() - t, failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default="sandbox")
    ap.add_argument("--kernel", default=None)
    ap.add_argument("--profile", default="ci", help="Hypothesis profile (ci, dev, thorough)")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("-j", type=int, default=2, help="mutants run at a time (each in its own copy)")
    ap.add_argument("-k", default=None, help="only mutants whose name contains this (comma: any of these)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--all-suites", action="store_true", help="every generated property for every mutant")
    ap.add_argument("--baseline", action="store_true", help="also run the unmutated model first")
    args = ap.parse_args()
    todo = [m for m in MUTANTS if not args.k or any(k in m.name for k in args.k.split(","))]
    if args.list:
        for m in todo:
            print(f"{m.name:22} {m.file:24} {m.why}{' (equivalent)' if m.equivalent else ''}")
            print(f"{'':22} {' '.join(t.split('/', 1)[1] for t in selection(m))}")
        return 0
    import queue
    from concurrent.futures import ThreadPoolExecutor

    from harness.targets.simulator import sweep_dead
    sweep_dead("execspec-mutants-")  # the copies of a killed run (named as pid_dir() names them)
    with tempfile.TemporaryDirectory(prefix="execspec-mutants-", suffix=f"-{os.getpid()}") as tmp:
        trees: queue.Queue[Path] = queue.Queue()
        for n in range(max(1, args.j)):
            tree = Path(tmp) / f"tree{n}"
            copy_tree(tree)
            trees.put(tree)
        if args.baseline:
            tree = trees.get()
            rc, secs, failed = run_suite(tree, args, selection(None, tree))
            trees.put(tree)
            print(f"baseline: rc={rc} in {secs:.0f} s {failed}", flush=True)
            if rc != 0:
                print("the unmutated model fails: fix that first", file=sys.stderr)
                return 2
        for m in todo:
            n = (ROOT / m.file).read_text().count(m.old)
            if n != 1:
                print(f"{m.name}: the text to mutate occurs {n} times in {m.file}; fix the list", file=sys.stderr)
                return 2

        def one(m: Mutant) -> tuple[Mutant, int, float, str]:
            tree = trees.get()
            f = tree / m.file
            orig = f.read_text()
            f.write_text(orig.replace(m.old, m.new))
            try:
                tests = selection(None if args.all_suites else m, tree)
                return (m, *run_suite(tree, args, tests))
            finally:
                f.write_text(orig)
                trees.put(tree)

        killed = survived = 0
        survivors = []
        with ThreadPoolExecutor(max(1, args.j)) as pool:
            for m, rc, secs, failed in pool.map(one, todo):
                # a kill is a disagreement with the target, not a Hypothesis
                # error (health check, Unsatisfiable) nor a crash
                if rc == 1 and "AssertionError" not in failed:
                    rc = -2
                verdict = "killed" if rc == 1 else "SURVIVED" if rc == 0 else f"error rc={rc}"
                if m.equivalent:
                    verdict += " (equivalent)"
                else:
                    killed += rc == 1
                    survived += rc == 0
                    if rc == 0:
                        survivors.append(m.name)
                print(f"{m.name:22} {verdict:9} {secs:5.0f} s  {failed[:110]}", flush=True)
        total = killed + survived
        print(f"kill rate: {killed}/{total} = {100 * killed / max(total, 1):.1f} % of non-equivalent mutants "
              f"(target {args.target}, profile {args.profile}, seed {args.seed}"
              f"{', all suites' if args.all_suites else ', area properties'})"
              f"{'; survivors: ' + ' '.join(survivors) if survivors else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
