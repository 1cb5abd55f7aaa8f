"""python -m harness repro CASE.json [--kernel auto|PROFILE] [--target T] [--c] [-o FILE]
python -m harness bug-report FAILURE.json --target T [--kernel auto|PROFILE]

A standalone reproducer for one case, short enough to paste into a mail
(well under 200 lines, no line over 998 characters): nothing of this
project is needed on the machine under test, only sh, cc, gzip and base64.

The shell script prints `uname -r`, recreates the case's files (printf;
the probe -- the harness's libc-free program that reports its argv, envp,
AT_EXECFN, comm -- once per variant, gzip + base64, its tag patched in with
dd), then compiles and runs harness/native/repro.c with the case's data: a
new user + mount namespace, rules only in a private binfmt_misc instance
(Linux >= 6.7; never the global one), the exact execve/execveat call, and
the outcome in the case format's canonical JSON
(contract.case.canonical_outcome).  Its digest is compared with the digests
of every outcome contract.case.diff_outcomes accepts (alternatives
included), and of what the model predicts with each feature of
model/profiles.py toggled, so the verdict says which side is the odd one
out: the kernel (no kernel the model describes behaves so) or the model
(its profile for this kernel wrongly has or lacks a commit).

Before writing, the case is minimised against --target (delta debugging,
harness/minimise.py) as long as the disagreement stays the same.  --c
writes one C file with the files built in instead.
"""
from __future__ import annotations

import argparse
import base64
import errno as errno_mod
import gzip
import itertools
import json
import os
import signal as signal_mod
import sys
import textwrap
from pathlib import Path

import model
from contract.case import (
    LIMITS,
    PROBE_VARIANTS,
    Case,
    CaseError,
    File,
    MiscUnlink,
    MiscWrite,
    accepted_forms,
    canonical_outcome,
    diff_fields,
    diff_outcomes,
    load_cases,
)
from model.profiles import FEATURES, Profile

from . import build

TEMPLATE = Path(__file__).resolve().parent / "native" / "repro.c"
MAX_LINE = 998  # RFC 5322: the longest line a mail may carry
WIDTH = 500  # data lines (C string literals, printf, base64) are cut at about this many characters
_MARK = b"\x01EXECSPEC-PROBE-TAG\x01"


def probe_image(variant: str) -> bytes:
    return build.probe_paths()[PROBE_VARIANTS.index(variant or "static")].read_bytes()


def tag_offset(variant: str) -> int:
    return probe_image(variant).index(_MARK) + len(_MARK) + 1


def probe_bytes(f: File) -> bytes:
    img = probe_image(f.variant)
    off = tag_offset(f.variant)
    return img[:off] + f.tag.encode()[:63].ljust(64, b"\0") + img[off + 64:]


def file_bytes(f: File) -> bytes:
    return probe_bytes(f) if f.type == "probe" else f.data


# ---------------------------------------------------------------- the verdicts

def fnv64(text: str) -> int:
    h = 0xcbf29ce484222325
    for b in text.encode("ascii"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def resolve_kernel(kernel: str, target=None) -> Profile:
    """--kernel auto: the kernel the target runs (the host's for the sandbox)."""
    if kernel == "auto":
        kernel = target.kernel if target is not None else os.uname().release
    return model.profile(kernel)


def _title(commit: str) -> str:
    f = FEATURES[commit]
    return f'{commit} ("{f.title}", mainline {f.since[0]}.{f.since[1]})'


def _toggled(prof: Profile, commits: tuple[str, ...]) -> Profile:
    name = prof.name + "".join(("-" if prof.has(c) else "+") + c for c in commits)
    return Profile(name=name, version=prof.version, features=prof.features ^ frozenset(commits))


def predictions(case: Case, prof: Profile) -> list[tuple[tuple[str, ...], dict]]:
    """((), the profile's prediction), then (commits, the prediction with
    those features toggled) for each set of features that changes it: the
    single features that do, then their combinations (up to 5 features)."""
    base = model.predict(case, prof)
    seen = [sorted(accepted_forms(base))]
    out: list[tuple[tuple[str, ...], dict]] = [((), base)]

    def consider(commits: tuple[str, ...]) -> bool:
        try:
            p = model.predict(case, _toggled(prof, commits))
        except model.InvalidCase:
            return False
        forms = sorted(accepted_forms(p))
        if p["outcome"] == "unmodelled" or forms == seen[0]:
            return False
        if forms not in seen:
            seen.append(forms)
            out.append((commits, p))
        return True
    relevant = [c for c in FEATURES if consider((c,))]
    for k in range(2, min(len(relevant), 5) + 1):
        for combo in itertools.combinations(relevant, k):
            consider(combo)
    return out


def verdict_texts(prof: Profile, preds: list[tuple[tuple[str, ...], dict]]) -> tuple[list[str], str]:
    """One verdict per prediction, and the one when none matches."""
    texts = [f"verdict: the kernel agrees with the model (profile {prof.name})"]
    for commits, _ in preds[1:]:
        kernel = " and ".join(f"{'without' if prof.has(c) else 'with'} {_title(c)}" for c in commits)
        model_ = " and ".join(f"{'has' if prof.has(c) else 'lacks'} {c}" for c in commits)
        texts.append(f"verdict: the MODEL is the odd one out: this kernel behaves as the model predicts for a kernel "
                     f"{kernel}, but the model's profile {prof.name} {model_} (a backport or revert the model "
                     "does not know of, or the wrong profile: model/profiles.py)")
    related = ", ".join(_title(c) for c in dict.fromkeys(c for cs, _ in preds[1:] for c in cs))
    odd = ("verdict: the KERNEL is the odd one out: it differs from the model's profile "
           f"{prof.name} and from every kernel the model describes; "
           + (f"the model ties this case's outcome to {related}" if related
              else "no commit the model knows changes this case's outcome"))
    return texts, odd


def judge(case: Case, prof: Profile, observed: dict, observable=None) -> str:
    """The reproducer's verdict, computed here with the one comparison."""
    preds = predictions(case, prof)
    texts, odd = verdict_texts(prof, preds)
    for (_, p), text in zip(preds, texts):
        if not diff_outcomes(p, observed, observable):
            return text
    return odd


# ---------------------------------------------------------------- C and shell text

def cstr(b: bytes | str | None, width: int = WIDTH) -> str:
    """A C string literal (octal escapes outside printable ASCII), cut into
    pieces of about `width` characters on lines of their own."""
    if b is None:
        return "NULL"
    if isinstance(b, str):
        b = b.encode()
    toks = ["\\" + chr(c) if c in b'"\\?' else chr(c) if 32 <= c < 127 else f"\\{c:03o}" for c in b]
    pieces, cur = [], ""
    for t in toks:
        if len(cur) + len(t) > width:
            pieces.append(cur)
            cur = ""
        cur += t
    pieces.append(cur)
    return "\n\t".join(f'"{p}"' for p in pieces)


def _vec(v: tuple[bytes, ...] | None) -> str:
    if v is None:
        return "NULL"
    items = [cstr(x) for x in v] + ["NULL"]
    return "(char *[]){" + (", ".join(items) if sum(map(len, items)) < 300 else "\n\t" + ",\n\t".join(items)) + "}"


def _names() -> tuple[str, str]:
    """errno and signal names exactly as harness.protocol names them (Python's own tables)."""
    sigs = {}
    for n in range(1, 65):
        try:
            sigs[n] = signal_mod.Signals(n).name
        except ValueError:
            pass
    return tuple(_wrap([f'[{n}] = "{s}"' for n, s in sorted(t.items())])  # type: ignore[return-value]
                 for t in (errno_mod.errorcode, sigs))


def _wrap(items: list[str], width: int = 900) -> str:
    lines, cur = [], ""
    for it in items:
        if cur and len(cur) + len(it) + 2 > width:
            lines.append(cur + ",")
            cur = ""
        cur = f"{cur}, {it}" if cur else it
    lines.append(cur)
    return "\n\t".join(lines)


def case_data(case: Case, prof: Profile) -> str:
    """The C declarations repro.c expects: the case, the model's outcomes, the names."""
    e = case.exec
    from .targets.base import EXTENSIONS, case_extensions
    if case_extensions(case):
        raise CaseError("case", "the reproducer does not express " + ", ".join(
            EXTENSIONS[x] for x in sorted(case_extensions(case))) + " yet")
    preds = predictions(case, prof)
    if preds[0][1]["outcome"] == "unmodelled":
        raise CaseError("case", f"the model does not model it: {preds[0][1]['reason']}")
    texts, odd = verdict_texts(prof, preds)
    accept = [(bool(drop), fnv64(text), i) for i, (_, p) in enumerate(preds) for drop, text in accepted_forms(p)]
    regs = [(op.file, op.data) if isinstance(op, MiscWrite) else (op.file, None) if isinstance(op, MiscUnlink)
            else (b"register", op) for op in case.binfmt_misc]
    errnos, signals = _names()
    rl = "RLIM_INFINITY" if e.rlimit_stack == -1 else str(e.rlimit_stack)
    binfmt = bool(case.binfmt_misc or case.binfmt_misc_read)
    writers = [f.path for f in case.files if f.open_for_write]
    d = [f"#define PROC_FD {LIMITS['PROC_FD']}",
         f"static const char *path = {cstr(e.path)}, *cwd = {cstr(e.cwd or b'/')}, *dirfd_path = "
         f"{cstr(e.dirfd if isinstance(e.dirfd, bytes) else None)};",
         f"static char **argv = {_vec(e.argv)};",
         f"static char **envp = {_vec(e.envp)};",
         f"static const int is_at = {int(e.syscall == 'execveat')}, flags = {e.flag_bits:#x}, dirfd_num = "
         f"{e.dirfd if isinstance(e.dirfd, int) else -100}, dirfd_opath = {int(e.dirfd_opath)}, dirfd_cloexec = "
         f"{int(e.dirfd_cloexec)};",
         f"static const rlim_t rlimit_stack = {rl};"]
    if binfmt:
        d += ["static const struct reg { const char *name, *data; size_t len; } regs[] = {"
              + ", ".join(f"{{{cstr(n)}, {'NULL' if v is None else cstr(v)}, {0 if v is None else len(v)}}}"
                          for n, v in regs) + "};",
              "static const char *reads[] = {" + ", ".join(cstr(r) for r in sorted(set(case.binfmt_misc_read))) + "};"]
    if writers:
        d.append("static const char *writers[] = {" + ", ".join(cstr(w) for w in writers) + "};")
    d += [f"/* what the model predicts (profile {prof.name}) and, for each verdict, "
          "the digests of the outcomes it accepts */",
          f"static const char *model_says = {cstr(canonical_outcome(preds[0][1]))};",
          "static const unsigned long long accepted[][3] = {" + ", ".join(f"{{{int(dr)}, {h:#x}ULL, {i}}}"
                                                                        for dr, h, i in accept) + "};",
          "static const char *verdicts[] = {\n\t" + ",\n\t".join(cstr(t, MAX_LINE - 20) for t in texts + [odd]) + "};",
          f"static const char *const errnos[] = {{{errnos}}};",
          f"static const char *const signals[] = {{{signals}}};"]
    return "\n".join(d)


def c_source(case: Case, prof: Profile, extra: str = "", inline: bool = True) -> str:
    head, tail = TEMPLATE.read_text().split("/* @CASE@ */\n")
    head = head[head.index("*/\n") + 3:]  # the script's own comments say what it is
    drop = {"//@B": not (case.binfmt_misc or case.binfmt_misc_read),
            "//@W": not any(f.open_for_write for f in case.files)}
    keep: list[str] = []
    for ln in (head + case_data(case, prof) + "\n" + extra + tail).split("\n"):
        mark = ln[-4:]
        if ln.startswith("/* @lines ending") or drop.get(mark):
            continue
        keep.append(ln[:-5] if mark in drop else ln)
    text = "\n".join(keep)
    return build.inline_headers(text) if inline else text  # the one C core (bprm_call.h, ...), built in


def _q(b: bytes) -> str:
    """Bytes for a printf format inside single quotes: octal escapes outside [A-Za-z0-9._/, ].
    '-' is escaped too: a format (or a chunk of one) starting with it is an option to printf."""
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/, ")
    return "".join(chr(c) if c in safe else f"\\{c:03o}" for c in b)


def _chunks(s: str, width: int = WIDTH) -> list[str]:
    """`s` (octal-escaped) cut at about `width` characters, never inside an escape."""
    out: list[str] = []
    i = 0
    while i < len(s) or not out:
        j = min(len(s), i + width)
        while j < len(s) and "\\" in s[max(i, j - 3):j]:
            j -= 1
        out.append(s[i:j])
        i = j
    return out


def describe_call(case: Case) -> str:
    e = case.exec

    def s(b: bytes | None) -> str:
        if b is None:
            return "NULL"
        t = json.dumps(b.decode("utf-8", "backslashreplace"))
        return t if len(t) <= 40 else t[:30] + f'..." ({len(b)} bytes)'

    def v(x: tuple[bytes, ...] | None) -> str:
        if x is None:
            return "NULL"
        items = [s(a) for a in x[:6]] + ([f"... {len(x)} in all"] if len(x) > 6 else [])
        return "[" + ", ".join(items) + "]"
    if e.syscall == "execveat":
        if isinstance(e.dirfd, bytes):
            how = "|".join(["O_PATH" if e.dirfd_opath else "O_RDONLY"] + (["O_CLOEXEC"] if e.dirfd_cloexec else []))
            d = f"fd 3 = open({s(e.dirfd)}, {how})"
        else:
            d = "AT_FDCWD" if e.dirfd is None else str(e.dirfd)
        call = f"execveat({d}, {s(e.path)}, {v(e.argv)}, {v(e.envp)}, {' | '.join(e.flags) or '0'})"
    else:
        call = f"execve({s(e.path)}, {v(e.argv)}, {v(e.envp)})"
    return call + (f" in cwd {s(e.cwd)}" if e.cwd not in (b"/", None) else "")


def shell(case: Case, prof: Profile, source: str) -> str:
    lines = ["#!/bin/sh",
             f"# execspec reproducer ({os.path.basename(source)}{', ' + case.name if case.name else ''}): "
             f"{describe_call(case)}"[:MAX_LINE],
             "# Needs sh, cc, gzip, base64; unprivileged where user namespaces are allowed.  Exit status: "
             "0 the kernel agrees with the model, 1 it differs, 77 no private binfmt_misc (Linux < 6.7).",
             "set -eu",
             'echo "kernel: $(uname -r) $(uname -v)"',
             'w=$(mktemp -d /tmp/execspec-repro.XXXXXX)',
             """trap 'chmod -R u+rwx "$w" 2>/dev/null; rm -rf "$w"' EXIT""",
             'r=$w/root && mkdir "$r"']
    variants = sorted({f.variant or "static" for f in case.files if f.type == "probe"})
    for var in variants:
        b64 = base64.b64encode(gzip.compress(probe_image(var), 9, mtime=0)).decode()
        lines.append(f"# the probe ({var}; harness/native/probe.c): prints the argv, envp, auxv and comm it was given")
        lines.append(f"base64 -d <<'EOF' | gzip -d > \"$w/probe-{var}\"")
        lines += [b64[i:i + WIDTH] for i in range(0, len(b64), WIDTH)]
        lines.append("EOF")
    lines.append("# the case's files (parents 0755, directory modes set last, the last listed first)")
    dirs = []
    for f in case.files:
        qp = f"\"$r\"'{_q(f.path)}'"
        parent = f.path.rstrip(b"/").rsplit(b"/", 1)[0]
        mk = f"mkdir -p \"$r\"'{_q(parent)}' && " if parent else ""
        if f.type == "dir":
            lines.append(f"mkdir -p {qp}")
            dirs.append(f"chmod {f.mode:o} {qp}")
        elif f.type == "symlink":
            lines.append(f"{mk}ln -s \"$(printf '{_q(f.data)}')\" {qp}")
        elif f.type == "fifo":
            lines.append(f"{mk}mkfifo -m {f.mode:o} {qp}")
        elif f.type == "probe":
            tag = _q(f.tag.encode()[:63])
            patch = (f" && printf '{tag}' | dd of={qp} bs=1 seek={tag_offset(f.variant)} conv=notrunc 2>/dev/null"
                     if f.tag else "")
            lines.append(f"{mk}cp \"$w/probe-{f.variant or 'static'}\" {qp}{patch} && chmod {f.mode:o} {qp}")
        else:
            chunks = _chunks(_q(f.data))
            writes = [f"{mk}printf '{chunks[0]}' > {qp}"] + [f"printf '{c}' >> {qp}" for c in chunks[1:]]
            writes[-1] += f" && chmod {f.mode:o} {qp}"
            lines += writes
    # as harness/native/materialise.h: the last listed first, so a parent's mode never blocks its child's chmod
    for d in dirs[::-1]:
        if lines[-1].startswith("chmod ") and len(lines[-1]) + len(d) < WIDTH:
            lines[-1] += "; " + d  # one line for several: the reproducer must fit a mail
        else:
            lines.append(d)
    lines += ["cat > \"$w/repro.c\" <<'EXECSPEC_EOF'", c_source(case, prof).rstrip("\n"), "EXECSPEC_EOF",
              'cc -O1 -o "$w/repro" "$w/repro.c" || exit 2',
              'st=0 && "$w/repro" "$r" || st=$?',
              'exit $st', ""]
    return "\n".join(lines)


_C_MAIN = r'''#undef main
#include <ftw.h>
#include "materialise.h"
static int rm_one(const char *p, const struct stat *s, int t, struct FTW *f)
{ (void)s, (void)t, (void)f; return remove(p) && errno != ENOENT ? -1 : 0; }
int main(void) /* the case's files in a fresh directory (as the executor makes them), the reproducer in a child */
{
	char tmpl[] = "/tmp/execspec-repro.XXXXXX", root[64], p[8192]; const char *step = NULL; int ws, rootfd;
	if (!mkdtemp(tmpl)) die("mkdtemp");
	snprintf(root, sizeof root, "%s/root", tmpl), mkdir(root, 0755), umask(0);
	if ((rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) die(root);
	for (size_t i = 0; i < N(files) && !step; i++) {
		const struct file *f = &files[i];
		struct case_inode ino = {f->kind, f->mode, 0, 0, {f->data}, {f->len}};
		char tag[64] = {0}; /* a probe: its image with the tag slot filled */
		if (f->tag) strncpy(tag, f->tag, 63), ino.len[0] = f->tag_off, ino.data[1] = tag, ino.len[1] = 64,
			ino.data[2] = f->data + f->tag_off + 64, ino.len[2] = f->len - f->tag_off - 64;
		snprintf(p, sizeof p, "%s", f->path), step = materialise_inode(rootfd, p, &ino);
	}
	for (size_t i = N(files); i-- > 0 && !step;) { /* directory modes last, the last listed first */
		struct case_inode ino = {'d', files[i].mode};
		if (files[i].kind == 'd')
			snprintf(p, sizeof p, "%s", files[i].path), step = materialise_dir_mode(rootfd, p, &ino);
	}
	if (step) die(step);
	pid_t w = fork();
	if (w == 0) { char *a[] = {"repro", root, NULL}; exit(repro_main(2, a)); }
	waitpid(w, &ws, 0), nftw(tmpl, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 2;
}
'''


def c_file(case: Case, prof: Profile) -> str:
    """One C file: the reproducer with the case's files (the probe once per variant) built in."""
    variants = sorted({f.variant or "static" for f in case.files if f.type == "probe"})
    ex = ["#define main repro_main",
          "struct file { char kind; const char *path; int mode; const char *data; size_t len; const char *tag; "
          "long tag_off; };"]
    for var in variants:
        ex.append(f"static const char probe_{var}[] = {cstr(probe_image(var), 120)};")
    rows = []
    for f in case.files:
        kind = {"probe": "f", "file": "f", "dir": "d", "symlink": "l", "fifo": "i"}[f.type]
        if f.type == "probe":
            data, n, tag = f"probe_{f.variant or 'static'}", f"sizeof probe_{f.variant or 'static'} - 1", cstr(f.tag)
            off = tag_offset(f.variant)
        else:
            b = f.data if kind in "fl" else b""
            data, n, tag, off = cstr(b), str(len(b)), "NULL", 0
        rows.append(f"{{'{kind}', {cstr(f.path)}, 0{f.mode:o}, {data}, {n}, {tag}, {off}}}")
    ex.append("static const struct file files[] = {\n\t" + ",\n\t".join(rows) + "};")
    return build.inline_headers(c_source(case, prof, "\n".join(ex) + "\n", inline=False) + _C_MAIN)


# ---------------------------------------------------------------- commands

def _load_one(path: str) -> Case:
    with open(path, "rb") as f:  # bytes: load_cases names bad UTF-8
        cases = load_cases(f.read(), source=path)
    if len(cases) != 1:
        raise CaseError(path, f"holds {len(cases)} cases; a reproducer is for one")
    return cases[0]


def _minimised(case: Case, target, prof: Profile) -> Case:
    from .minimise import minimise
    small = minimise(case, target, prof)
    if small != case:
        print(f"# minimised against {target.name}: {len(case.files)} -> {len(small.files)} files, "
              f"{len(case.exec.argv or ())} -> {len(small.exec.argv or ())} args, "
              f"{len(case.exec.envp or ())} -> {len(small.exec.envp or ())} env entries", file=sys.stderr)
    return small


def _open_target(name: str | None, kernel: str):
    if not name:
        return None
    from .targets import get_target
    return get_target(name, None if kernel == "auto" else kernel, None)


def cmd_repro(args: argparse.Namespace) -> int:
    from .targets import TargetBroken, TargetUnavailable
    try:
        case = _load_one(args.case)
        target = None if args.no_minimise else _open_target(args.target, args.kernel)
    except (OSError, CaseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (TargetUnavailable, TargetBroken) as e:
        print(f"warning: not minimised ({e})", file=sys.stderr)
        target = None
    try:
        prof = resolve_kernel(args.kernel, target)
        if target is not None:
            case = _minimised(case, target, prof)
        text = c_file(case, prof) if args.c else shell(case, prof, args.case)
    except (CaseError, model.InvalidCase, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if target is not None:
            target.close()
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="ascii") as f:
            f.write(text)
    return 0


def _wrapped(label: str, text: str, width: int = 76) -> list[str]:
    out = [f"{label}{text[:width - len(label)]}"]
    rest = text[width - len(label):]
    out += ["    " + rest[i:i + width - 4] for i in range(0, len(rest), width - 4)]
    return out


def bug_report(case: Case, target, prof: Profile, source: str) -> tuple[str, int]:
    """A plain-text report (ASCII, lines <= 998) and 0, or why there is none and 1."""
    case = _minimised(case, target, prof)
    expected = model.predict(case, prof)
    if expected["outcome"] == "unmodelled":
        return f"the model does not model this case: {expected['reason']}\n", 1
    observed = target.run(case)
    diff = diff_outcomes(expected, observed, target.observable)
    if not diff:
        return f"{target.describe()} agrees with the model (profile {prof.name}) on {source}: nothing to report\n", 1
    verdict = judge(case, prof, observed, target.observable)
    preds = predictions(case, prof)
    release = getattr(target, "release", None) or target.kernel
    version = os.uname().version if target.name in ("sandbox", "docker") else "(see the target)"
    fields = ", ".join(diff_fields(diff))
    commits = list(dict.fromkeys(c for cs, _ in preds[1:] for c in cs))
    subject = (f"exec: {describe_call(case)[:110]}: {fields} differ from the model on {release}"
               + (f" ({', '.join(commits[:2])})" if commits else ""))
    lines = [f"Subject: {subject}", "",
             f"Kernel: {release}", f"        {version}", f"Target: {target.describe()}",
             f"Call:   {describe_call(case)}", "", "What happened:"]
    lines += _wrapped("  ", canonical_outcome(observed))
    lines += ["", f"What the execspec model says (profile {prof.name}):"]
    lines += _wrapped("  ", canonical_outcome(expected))
    for alt in expected.get("alternatives", ()):
        lines += _wrapped("  or ", canonical_outcome(alt))
    lines += ["", "Differences:"] + [ln[:MAX_LINE] for ln in diff] + [""]
    lines += textwrap.wrap(verdict.replace("verdict: ", "Verdict: "), 76, break_on_hyphens=False)
    for c in commits:
        f = FEATURES[c]
        lines.append(f"  {c} {f.title} (mainline {f.since[0]}.{f.since[1]}; this profile "
                     f"{'has' if prof.has(c) else 'lacks'} it)")
    lines += ["", "Reproducer (sh repro.sh; needs cc, gzip, base64 and user namespaces;",
              "exit status 0 = agrees, 1 = differs):", "", "-- >8 --", shell(case, prof, source).rstrip("\n"),
              "-- 8< --", ""]
    text = "\n".join(lines)
    return text.encode("ascii", "backslashreplace").decode("ascii"), 0


def cmd_bug_report(args: argparse.Namespace) -> int:
    from .targets import TargetBroken, TargetUnavailable, get_target
    try:
        case = _load_one(args.failure)
        target = get_target(args.target, None if args.kernel == "auto" else args.kernel, None)
    except (OSError, CaseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (TargetUnavailable, TargetBroken) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    try:
        text, rc = bug_report(case, target, resolve_kernel(args.kernel, target), args.failure)
    finally:
        target.close()
    (sys.stdout if rc == 0 else sys.stderr).write(text)
    return rc


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("repro", help="write a standalone reproducer (shell, or C with --c) for one case")
    r.add_argument("case", help="a case file holding one case")
    r.add_argument("--kernel", default="auto",
                   help="the model profile the verdict compares with (default auto: the target's kernel, "
                        "the host's when no target)")
    r.add_argument("--target", default="sandbox",
                   help="where the case is minimised (delta debugging) before writing; default sandbox")
    r.add_argument("--no-minimise", action="store_true", help="write the case as it is")
    r.add_argument("--c", action="store_true", help="one self-contained C file instead of a shell script")
    r.add_argument("-o", "--output", default=None, help="where to write it (default: stdout)")
    r.set_defaults(func=cmd_repro)
    b = sub.add_parser("bug-report", help="a plain-text bug report for a failing case, reproducer inline")
    b.add_argument("failure", help="a case file holding one case (e.g. failures/<test>.json)")
    from .targets import TARGETS
    b.add_argument("--target", required=True, help=TARGETS)
    b.add_argument("--kernel", default="auto", help="the model profile (default auto: the target's kernel)")
    b.set_defaults(func=cmd_bug_report)
