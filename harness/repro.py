"""python -m harness repro CASE.json [--kernel PROFILE] [--c] [-o FILE]

Writes a standalone reproducer for one case, to paste into a bug report:
nothing of this project is needed on the machine under test.

- Shell (default): recreates the case's files with printf and octal
  escapes, then compiles (cc) and runs a small launcher that enters a new
  user + mount namespace, mounts a private binfmt_misc instance for the
  registrations (Linux >= 6.7; never the global one: without it the
  reproducer stops), chroots, makes the exact execve/execveat call of the
  case (argv == NULL, non-UTF-8 bytes, dirfd, flags) and prints what
  happened next to what the model predicts.
- C (--c): the same launcher with the files built in: one .c file.

The probe (the harness's libc-free program that reports its argv, envp,
AT_EXECFN, comm) is embedded with its tag; its report is decoded by the
launcher.
"""
from __future__ import annotations

import argparse

import sys

import model

from . import build
from .case import LIMITS, PROBE_VARIANTS, Case, CaseError, File, MiscUnlink, MiscWrite, dumps_outcome, load_cases

_MARK = b"\x01EXECSPEC-PROBE-TAG\x01"


def probe_bytes(f: File) -> bytes:
    img = build.probe_paths()[PROBE_VARIANTS.index(f.variant or "static")].read_bytes()
    off = img.index(_MARK) + 21
    tag = f.tag.encode()[:63].ljust(64, b"\0")
    return img[:off] + tag + img[off + 64:]


def file_bytes(f: File) -> bytes:
    return probe_bytes(f) if f.type == "probe" else f.data


def octal(data: bytes) -> str:
    """printf-safe: every byte outside [A-Za-z0-9._/-] as \\ooo."""
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-, ")
    return "".join(chr(b) if b in safe else f"\\{b:03o}" for b in data)


def c_bytes(data: bytes) -> str:
    """A C string literal (with explicit length elsewhere: NULs allowed)."""
    out, line = [], []
    for b in data:
        line.append(f"\\{b:03o}")
        if len(line) == 32:
            out.append('"' + "".join(line) + '"')
            line = []
    if line or not out:
        out.append('"' + "".join(line) + '"')
    return "\n\t".join(out)


def _vec(name: str, v: tuple[bytes, ...] | None) -> str:
    if v is None:
        return f"static char **{name} = NULL;\n"
    items = "".join(f"\t{c_bytes(s)},\n" for s in v)
    return f"static char *{name}_v[] = {{\n{items}\tNULL\n}};\nstatic char **{name} = {name}_v;\n"


def launcher_c(case: Case, expected: str, embed_files: bool) -> str:
    e = case.exec
    files = ""
    if embed_files:
        rows = []
        for f in case.files:
            kind = {"probe": "f", "file": "f", "dir": "d", "symlink": "l", "fifo": "i"}[f.type]
            data = file_bytes(f) if kind == "f" else f.data if kind == "l" else b""
            rows.append(f"\t{{'{kind}', {c_bytes(f.path)}, 0{f.mode:o}, {c_bytes(data)}, {len(data)}}},\n")
        files = "".join(rows)
    regs = []
    for op in case.binfmt_misc:
        if isinstance(op, MiscWrite):
            regs.append((op.file, op.data))
        elif isinstance(op, MiscUnlink):
            regs.append((op.file, None))
        else:
            regs.append((b"register", op))
    reg_rows = "".join(f"\t{{{c_bytes(n)}, {'NULL' if d is None else c_bytes(d)}, {0 if d is None else len(d)}}},\n"
                       for n, d in regs)
    flags = e.flag_bits
    dirfd_num = e.dirfd if isinstance(e.dirfd, int) else None
    dirfd_path = e.dirfd if isinstance(e.dirfd, bytes) else None
    rl = e.rlimit_stack
    return _TEMPLATE.format(
        proc_fd=LIMITS["PROC_FD"],
        expected=c_bytes(expected.encode()),
        embed=1 if embed_files else 0,
        files=files or "\t{0}\n",
        nfiles=len(case.files) if embed_files else 0,
        regs=reg_rows or "\t{0}\n",
        nregs=len(regs),
        reads="".join(f"\t{c_bytes(r)},\n" for r in case.binfmt_misc_read) or "\tNULL\n",
        nreads=len(case.binfmt_misc_read),
        writers="".join(f"\t{c_bytes(f.path)},\n" for f in case.files if f.open_for_write) or "\tNULL\n",
        nwriters=sum(f.open_for_write for f in case.files),
        path="NULL" if e.path is None else c_bytes(e.path),
        argv=_vec("argv", e.argv),
        envp=_vec("envp", e.envp),
        cwd=c_bytes(e.cwd or b"/"),
        is_at=1 if e.syscall == "execveat" else 0,
        flags=flags,
        dirfd_num=-100 if dirfd_num is None else dirfd_num,
        dirfd_path="NULL" if dirfd_path is None else c_bytes(dirfd_path),
        dirfd_opath=1 if e.dirfd_opath else 0,
        dirfd_cloexec=1 if e.dirfd_cloexec else 0,
        rlimit="RLIM_INFINITY" if rl == -1 else f"{rl}ULL",
    )


def shell(case: Case, expected: str, source: str) -> str:
    lines = ["#!/bin/sh",
             f"# execspec reproducer for {source}" + (f" ({case.name})" if case.name else ""),
             "# Needs: sh, printf, cc; runs unprivileged where user namespaces are allowed.",
             f"# Predicted by the execspec model: {expected}",
             "set -eu",
             'work=$(mktemp -d /tmp/execspec-repro.XXXXXX)',
             'root=$work/root',
             'mkdir -p "$root"',
             "# the case's files (parents are created 0755; directory modes are set last)"]
    dirs = []
    for f in case.files:
        p = "$root" + octal(f.path).replace("'", "")
        qp = f'"$root"\'{octal(f.path)}\''
        parent = f.path.rstrip(b"/").rsplit(b"/", 1)[0]
        if parent:
            lines.append(f"mkdir -p \"$root\"'{octal(parent)}'")
        if f.type == "dir":
            lines.append(f"mkdir -p {qp}")
            dirs.append(f"chmod {f.mode:o} {qp}")
        elif f.type == "symlink":
            lines.append(f"ln -s \"$(printf '{octal(f.data)}')\" {qp}")
        elif f.type == "fifo":
            lines.append(f"mkfifo -m {f.mode:o} {qp}")
        else:
            lines.append(f"printf '{octal(file_bytes(f))}' > {qp}")
            lines.append(f"chmod {f.mode:o} {qp}")
        del p
    lines += dirs
    lines += ["cat > \"$work/launcher.c\" <<'EXECSPEC_EOF'", launcher_c(case, expected, False).rstrip("\n"),
              "EXECSPEC_EOF",
              'cc -O1 -o "$work/launcher" "$work/launcher.c"',
              'status=0',
              '"$work/launcher" "$root" || status=$?',
              'rm -rf "$work"',
              'exit $status', ""]
    return "\n".join(lines)


def cmd_repro(args: argparse.Namespace) -> int:
    try:
        with open(args.case, encoding="utf-8") as f:
            cases = load_cases(f.read(), source=args.case)
    except (OSError, CaseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if len(cases) != 1:
        print(f"error: {args.case} holds {len(cases)} cases; a reproducer is for one", file=sys.stderr)
        return 2
    case = cases[0]
    expected = dumps_outcome(model.predict(case, args.kernel))
    text = (launcher_c(case, f"{expected} (model profile {args.kernel})", True) if args.c
            else shell(case, f"{expected} (model profile {args.kernel})", args.case))
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("repro", help="write a standalone reproducer (shell, or C with --c) for one case")
    r.add_argument("case", help="a case file holding one case")
    r.add_argument("--kernel", default="newest", help="the model profile whose prediction is printed")
    r.add_argument("--c", action="store_true", help="one self-contained C file instead of a shell script")
    r.add_argument("-o", "--output", default=None, help="where to write it (default: stdout)")
    r.set_defaults(func=cmd_repro)


_TEMPLATE = r'''/* execspec reproducer launcher: the exact exec call of one case, in a new
 * user + mount namespace with a private binfmt_misc instance, chrooted
 * into the case's root.  Build: cc -O1 -o launcher launcher.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ftw.h>

#define EMBED_FILES {embed}
static const char expected[] = {expected};
struct file {{ char kind; const char *path; int mode; const char *data; size_t len; }};
static const struct file files[] = {{
{files}}};
static const int nfiles = {nfiles};
struct reg {{ const char *name; const char *data; size_t len; }};
static const struct reg regs[] = {{
{regs}}};
static const int nregs = {nregs};
static const char *reads[] = {{
{reads}}};
static const int nreads = {nreads};
/* files held open for writing from before the registrations until the exec (ETXTBSY) */
static const char *writers[] = {{
{writers}}};
static const int nwriters = {nwriters};
static char entries[1 << 16];  /* ", \"binfmt_misc_entries\": {{...}}" read before the exec */
static const char *path = {path};
{argv}{envp}static const char *cwd = {cwd};
static const int is_at = {is_at}, flags = {flags}, dirfd_num = {dirfd_num};
static const char *dirfd_path = {dirfd_path};
static const int dirfd_opath = {dirfd_opath}, dirfd_cloexec = {dirfd_cloexec};

static void die(const char *what) {{ fprintf(stderr, "reproducer: %s: %s\n", what, strerror(errno)); exit(2); }}

static const char *errname(int e)
{{
	static const struct {{ int n; const char *s; }} t[] = {{
		{{EPERM, "EPERM"}}, {{ENOENT, "ENOENT"}}, {{EIO, "EIO"}}, {{E2BIG, "E2BIG"}}, {{ENOEXEC, "ENOEXEC"}},
		{{EBADF, "EBADF"}}, {{ENOMEM, "ENOMEM"}}, {{EACCES, "EACCES"}}, {{EFAULT, "EFAULT"}}, {{EEXIST, "EEXIST"}},
		{{ENOTDIR, "ENOTDIR"}}, {{EISDIR, "EISDIR"}}, {{EINVAL, "EINVAL"}}, {{ETXTBSY, "ETXTBSY"}},
		{{ENAMETOOLONG, "ENAMETOOLONG"}}, {{ELOOP, "ELOOP"}}, {{ELIBBAD, "ELIBBAD"}}, {{ENOSPC, "ENOSPC"}}}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (t[i].n == e) return t[i].s;
	static char buf[32]; snprintf(buf, sizeof buf, "errno %d", e); return buf;
}}

static const char *signame(int s)
{{
	static const struct {{ int n; const char *s; }} t[] = {{
		{{SIGSEGV, "SIGSEGV"}}, {{SIGBUS, "SIGBUS"}}, {{SIGKILL, "SIGKILL"}}, {{SIGILL, "SIGILL"}}, {{SIGTRAP, "SIGTRAP"}},
		{{SIGABRT, "SIGABRT"}}, {{SIGFPE, "SIGFPE"}}, {{SIGSYS, "SIGSYS"}}}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (t[i].n == s) return t[i].s;
	static char buf[32]; snprintf(buf, sizeof buf, "signal %d", s); return buf;
}}

static void write_file(const char *p, const char *s)
{{
	int fd = open(p, O_WRONLY);
	if (fd < 0 || write(fd, s, strlen(s)) < 0) die(p);
	close(fd);
}}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{{
	(void)st; (void)type; (void)ftw;
	return remove(p) && errno != ENOENT ? -1 : 0;
}}

static void mkparents(const char *root, const char *p)
{{
	char buf[8192];
	snprintf(buf, sizeof buf, "%s%s", root, p);
	for (char *s = buf + strlen(root) + 1; (s = strchr(s, '/')); s++) {{
		*s = 0; mkdir(buf, 0755); *s = '/';
	}}
}}

static void create_files(const char *root)
{{
	char buf[8192];
	for (int i = 0; i < nfiles; i++) {{
		const struct file *f = &files[i];
		mkparents(root, f->path);
		snprintf(buf, sizeof buf, "%s%s", root, f->path);
		if (f->kind == 'd') {{ mkdir(buf, 0755); continue; }}
		if (f->kind == 'l') {{ if (symlink(f->data, buf)) die("symlink"); continue; }}
		if (f->kind == 'i') {{ if (mkfifo(buf, 0600) || chmod(buf, f->mode)) die("mkfifo"); continue; }}
		int fd = open(buf, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, f->data, f->len) != (ssize_t)f->len || fchmod(fd, f->mode)) die(buf);
		close(fd);
	}}
	for (int i = 0; i < nfiles; i++)
		if (files[i].kind == 'd') {{ snprintf(buf, sizeof buf, "%s%s", root, files[i].path); chmod(buf, files[i].mode); }}
}}

/* JSON as the model prints it (json.dumps, ensure_ascii=False): UTF-8
 * passes through, so the two lines compare byte for byte (a non-UTF-8
 * string is {{"b64": ...}} in the model's line and raw here). */
static char js[1 << 25];
static size_t jn;
static void jput(const char *s) {{ size_t l = strlen(s); if (jn + l < sizeof js) {{ memcpy(js + jn, s, l); jn += l; }} }}
static void jstr(const unsigned char *p, uint32_t n)
{{
	char b[8];
	jput("\"");
	for (uint32_t i = 0; i < n; i++) {{
		if (p[i] == '"' || p[i] == '\\') {{ b[0] = '\\'; b[1] = p[i]; b[2] = 0; jput(b); }}
		else if (p[i] == '\n') jput("\\n");
		else if (p[i] == '\t') jput("\\t");
		else if (p[i] == '\r') jput("\\r");
		else if (p[i] < 0x20 || p[i] == 0x7f) {{ snprintf(b, sizeof b, "\\u%04x", p[i]); jput(b); }}
		else {{ b[0] = p[i]; b[1] = 0; jput(b); }}
	}}
	jput("\"");
}}

/* The probe's report (records: u8 type, u32 length, payload) as an
 * "exec" outcome, fields in the model's order. */
static void decode(const unsigned char *p, size_t n)
{{
	const unsigned char *tag = 0, *fn = 0, *comm = 0, *exe = 0; uint32_t tl = 0, fl = 0, cl = 0, xl = 0;
	int execfd = 0, variant = 0, have_flags = 0; uint64_t base = 0, atflags = 0;
	for (int pass = 0; pass < 3; pass++) {{
		if (pass == 1) {{ jput("{{\"outcome\": \"exec\", \"tag\": "); jstr(tag, tl); jput(", \"argv\": ["); }}
		if (pass == 2) jput("], \"envp\": [");
		int first = 1;
		for (size_t off = 0; off + 5 <= n;) {{
			uint32_t len; memcpy(&len, p + off + 1, 4);
			const unsigned char *v = p + off + 5; char t = p[off];
			if (off + 5 + len > n) break;
			if (pass == 0) {{
				if (t == 'T') {{ tag = v; tl = len; }} else if (t == 'X') {{ fn = v; fl = len; }}
				else if (t == 'C') {{ comm = v; cl = len; }} else if (t == 'D') execfd = 1;
				else if (t == 'V') variant = 1; else if (t == 'B' && len == 8) memcpy(&base, v, 8);
				else if (t == 'L') {{ exe = v; xl = len; }}
				else if (t == 'F' && len == 8) {{ memcpy(&atflags, v, 8); have_flags = 1; }}
			}} else if ((pass == 1 && t == 'a') || (pass == 2 && t == 'e')) {{
				if (!first) jput(", ");
				jstr(v, len); first = 0;
			}}
			off += 5 + len;
		}}
	}}
	jput("]");
	if (fn) {{ jput(", \"execfn\": "); jstr(fn, fl); }}
	if (comm) {{ jput(", \"comm\": "); jstr(comm, cl); }}
	jput(execfd ? ", \"execfd\": true" : ", \"execfd\": false");
	if (exe) {{ jput(", \"exe\": "); jstr(exe, xl); }}
	if (have_flags) {{ char fb[48]; snprintf(fb, sizeof fb, ", \"at_flags\": %llu", (unsigned long long)atflags); jput(fb); }}
	if (variant) jput(base ? ", \"at_base\": true" : ", \"at_base\": false");
	jput("}}");
}}

static int report(void)
{{
	if (entries[0] && jn && js[jn - 1] == '}}') {{ jn--; jput(entries); jput("}}"); }}
	js[jn] = 0;
	size_t el = strcspn(expected, "\n");
	const char *cut = strstr(expected, " (model profile");
	if (cut) el = cut - expected;
	printf("observed: %s\n", js);
	printf("expected: %s\n", expected);
	int same = jn == el && !memcmp(js, expected, el);
	/* the model leaves out a crafted program's exit status */
	if (!same && !strncmp(expected, "{{\"outcome\": \"exit\"}}", el) && !strncmp(js, "{{\"outcome\": \"exit\"", 18))
		same = 1;
	printf("%s\n", same ? "verdict: the kernel agrees with the model" : "verdict: the kernel DIFFERS from the model");
	return same ? 0 : 1;
}}

int main(int argc, char **argv0)
{{
	char root[4096], bm[4200];
	if (EMBED_FILES) {{
		char tmpl[] = "/tmp/execspec-repro.XXXXXX";
		if (!mkdtemp(tmpl)) die("mkdtemp");
		snprintf(root, sizeof root, "%s/root", tmpl);
		mkdir(root, 0755);
		create_files(root);
		/* the work happens in a child; this process removes the files after */
		pid_t w = fork();
		if (w < 0) die("fork");
		if (w > 0) {{
			int ws; waitpid(w, &ws, 0);
			nftw(tmpl, rm_one, 16, FTW_DEPTH | FTW_PHYS);
			return WIFEXITED(ws) ? WEXITSTATUS(ws) : 2;
		}}
	}} else {{
		if (argc < 2) {{ fprintf(stderr, "usage: %s ROOT\n", argv0[0]); return 2; }}
		snprintf(root, sizeof root, "%s", argv0[1]);
	}}
	snprintf(bm, sizeof bm, "%s/../binfmt_misc", root);
	uid_t uid = getuid(); gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS)) die("unshare(CLONE_NEWUSER|CLONE_NEWNS)");
	char m[64];
	write_file("/proc/self/setgroups", "deny");
	snprintf(m, sizeof m, "0 %u 1", (unsigned)uid); write_file("/proc/self/uid_map", m);
	snprintf(m, sizeof m, "0 %u 1", (unsigned)gid); write_file("/proc/self/gid_map", m);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) die("make / private");
	int bmfd = -1;
	if (nregs || nreads) {{
		mkdir(bm, 0755);
		/* In a new user namespace this is a private instance (Linux >= 6.7);
		 * older kernels refuse it, and the global instance is never used. */
		if (mount("binfmt_misc", bm, "binfmt_misc", 0, NULL)) {{
			fprintf(stderr, "reproducer: no private binfmt_misc instance (%s; needs Linux >= 6.7): "
				"not registering in the global one\n", strerror(errno));
			return 77;
		}}
		bmfd = open(bm, O_PATH | O_DIRECTORY);
	}}
	/* the probe reads its exe link through a procfs directory at fd {proc_fd} */
	int pfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || dup2(pfd, {proc_fd}) < 0) die("procfs at fd {proc_fd}");
	if (chroot(root) || chdir("/")) die("chroot");
	for (int i = 0; i < nwriters; i++)
		if (open(writers[i], O_WRONLY | O_CLOEXEC) < 0) die("open for writing");
	for (int i = 0; i < nregs; i++) {{
		if (!regs[i].data) {{  /* an unlink(2) of a name in the instance */
			if (unlinkat(bmfd, regs[i].name, 0)) {{
				char b[96];
				snprintf(b, sizeof b, "{{\"outcome\": \"register-error\", \"index\": %d, \"errno\": \"%s\"}}", i, errname(errno));
				jput(b);
				return report();
			}}
			continue;
		}}
		int fd = openat(bmfd, regs[i].name, O_WRONLY);
		if (fd < 0 || write(fd, regs[i].data, regs[i].len) != (ssize_t)regs[i].len) {{
			char b[96];
			snprintf(b, sizeof b, "{{\"outcome\": \"register-error\", \"index\": %d, \"errno\": \"%s\"}}", i, errname(errno));
			jput(b);
			return report();
		}}
		close(fd);
	}}
	for (int i = 0; i < nreads; i++) {{  /* the entries as the kernel renders them */
		char text[8192]; int fd = openat(bmfd, reads[i], O_RDONLY); ssize_t r = fd < 0 ? -1 : read(fd, text, sizeof text);
		size_t save = jn;
		jput(i ? ", " : ", \"binfmt_misc_entries\": {{");
		jstr((const unsigned char *)reads[i], strlen(reads[i]));
		jput(": ");
		if (r < 0) {{ jput("{{\"errno\": \""); jput(errname(errno)); jput("\"}}"); }} else jstr((unsigned char *)text, r);
		if (i == nreads - 1) jput("}}");
		/* kept aside: it goes after the exec's own fields */
		size_t l = jn - save; strncat(entries, js + save, l < sizeof entries - strlen(entries) - 1 ? l : 0); jn = save;
		if (fd >= 0) close(fd);
	}}
	if (chdir(cwd)) die("chdir cwd");
	struct rlimit rl; getrlimit(RLIMIT_STACK, &rl); rl.rlim_cur = {rlimit};
	if (setrlimit(RLIMIT_STACK, &rl)) die("setrlimit");
	int out[2], st[2];
	if (pipe(out) || pipe2(st, O_CLOEXEC)) die("pipe");
	pid_t pid = fork();
	if (pid == 0) {{
		int dfd = AT_FDCWD;
		if (dirfd_path) {{
			int fd = open(dirfd_path, (dirfd_opath ? O_PATH : O_RDONLY | O_NONBLOCK));
			if (fd < 0) die("open dirfd");
			if (dup3(fd, 3, dirfd_cloexec ? O_CLOEXEC : 0) < 0) die("dup dirfd");
			dfd = 3;
		}} else if (dirfd_num != -100) dfd = dirfd_num;
		dup2(out[1], 1);
		long r = is_at ? syscall(SYS_execveat, dfd, path, argv, envp, flags) : syscall(SYS_execve, path, argv, envp);
		int e = r == 0 ? 0 : errno;
		if (write(st[1], &e, sizeof e) < 0) _exit(126);
		_exit(127);
	}}
	close(out[1]); close(st[1]);
	static unsigned char rep[1 << 24]; size_t n = 0; ssize_t k;
	while ((k = read(out[0], rep + n, sizeof rep - n)) > 0) n += k;
	int e = -1, status;
	ssize_t got = read(st[0], &e, sizeof e);
	waitpid(pid, &status, 0);
	char b[128];
	if (got == sizeof e && e) {{ snprintf(b, sizeof b, "{{\"outcome\": \"error\", \"errno\": \"%s\"}}", errname(e)); jput(b); }}
	else if (got == sizeof e) jput("{{\"outcome\": \"returned\", \"value\": 0}}");
	else if (WIFSIGNALED(status)) {{ snprintf(b, sizeof b, "{{\"outcome\": \"signal\", \"signal\": \"%s\"}}", signame(WTERMSIG(status))); jput(b); }}
	else if (n) decode(rep, n);
	else {{ snprintf(b, sizeof b, "{{\"outcome\": \"exit\", \"status\": %d}}", WEXITSTATUS(status)); jput(b); }}
	return report();
}}
'''
