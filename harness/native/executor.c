/*
 * execspec executor: runs cases inside a target and reports what happened.
 *
 * One long-lived process per test worker, driven over a pipe (or a serial
 * line with --hex) by harness/executor.py.  It is plain C with no runtime
 * needs beyond the kernel so the same program serves the host sandbox, a
 * FROM-scratch container and a QEMU initramfs.
 *
 * Per case (run_case): fork; the child enters a new user + mount namespace
 * (--mode userns) so that the tmpfs root and the binfmt_misc instance it
 * mounts are its own and die with it; it materialises the case's files,
 * chroots into them, writes the registrations, sets up fds 0-3 and calls
 * execve/execveat.  The parent collects the exec'd program's stdout, an
 * errno (over a close-on-exec pipe) and the wait status.
 *
 * --mode plain skips the user namespace and uses the one global binfmt_misc
 * instance (reset before each case).  It is for throwaway VMs only; the
 * Python side refuses to use it anywhere else.
 *
 * Frames: u32 little-endian length + body; the body is records of
 * u8 type, u32 length, payload.  With --hex every frame is sent as one line
 * of hex digits, safe over a tty.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 4096
#define MAX_REGS 256
#define STATUS_FD 100 /* high so it never collides with fds 0-3 or AT_EXECFD */
#define WRITE_FD 101 /* files held open for writing: WRITE_FD.. (close-on-exec) */
#define MAX_WOPEN 64
#define PROC_FD 99 /* execspec: procfs directory for the exec'd probe (see the PROC_FD block) */

struct buf { unsigned char *p; size_t len, cap; };

struct cfile { char kind; unsigned mode; const unsigned char *path; uint32_t plen;
	       const unsigned char *data; uint32_t dlen; };

struct ccase {
	struct cfile files[MAX_FILES]; int nfiles;
	/* binfmt_misc writes in order: to "register" (name NULL) or to a named
	 * control file ("status" or an entry); their index is their position. */
	struct { const unsigned char *name; uint32_t nlen; const unsigned char *data; uint32_t dlen; } ops[MAX_REGS];
	int nops, nregs;
	const unsigned char *reads[MAX_REGS]; uint32_t readlen[MAX_REGS]; int nreads;
	const unsigned char *wopen[MAX_WOPEN]; uint32_t wlen[MAX_WOPEN]; int nwopen;
	char *cwd, *path, *dirfd_path;
	char **argv, **envp; int argc, envc, argv_null, envp_null;
	int syscall_nr, dirfd_cloexec, dirfd_opath, have_dirfd_num, dirfd_num, path_null;
	unsigned flags;
	int have_rlimit; uint64_t rlimit_stack;
	uint32_t timeout_ms;
};

static int hex_mode;
static int no_pdeathsig;
static const char *mode = "userns";
static const char *scratch = "/tmp";
#define MAX_PROBES 16
/* Probe images (variant 0 is the default probe); each has a tag slot. */
static struct { unsigned char *img; size_t len, tag_off; } probes[MAX_PROBES];
static int nprobes;

static void die(const char *m) { fprintf(stderr, "executor: %s: %s\n", m, strerror(errno)); exit(2); }

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t c = b->cap ? b->cap : 4096;
		while (c < b->len + n) c *= 2;
		b->p = realloc(b->p, c);
		if (!b->p) die("realloc");
		b->cap = c;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void rec(struct buf *b, char type, const void *p, uint32_t n)
{
	buf_add(b, &type, 1);
	buf_add(b, &n, 4);
	buf_add(b, p, n);
}

static int read_full(int fd, void *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t r = read(fd, (char *)p + off, n - off);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		off += r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t r = write(fd, (const char *)p + off, n - off);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		off += r;
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Buffered stdin for hex mode: a byte-at-a-time read(2) costs a syscall
 * per byte, which under TCG dominates megabyte-sized cases. */
static int getbyte(void)
{
	static unsigned char ib[1 << 16];
	static size_t ipos, ilen;
	while (ipos == ilen) {
		ssize_t r = read(0, ib, sizeof ib);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		ipos = 0;
		ilen = r;
	}
	return ib[ipos++];
}

/* Reads one frame body; returns NULL at EOF.
 * Hex lines may carry runs as "*" + 8 hex digits (count) + 2 (byte):
 * argument-space cases are megabytes of one letter. */
static unsigned char *read_frame(uint32_t *len)
{
	if (!hex_mode) {
		if (read_full(0, len, 4)) return NULL;
		unsigned char *p = malloc(*len ? *len : 1);
		if (!p || read_full(0, p, *len)) die("read frame");
		return p;
	}
	/* hex line: skip anything before a '>' start mark (tty echo, noise) */
	struct buf b = {0};
	int c, hi = -1, started = 0, run = -1;
	uint64_t acc = 0;
	for (;;) {
		c = getbyte();
		if (c < 0) return NULL;
		if (!started) { started = (c == '>'); continue; }
		if (c == '\n' || c == '\r') break;
		if (c == '*') { run = 0; acc = 0; continue; }
		int v = hexval(c);
		if (v < 0) continue;
		if (run >= 0) {
			acc = acc << 4 | v;
			if (++run == 10) {
				unsigned char chunk[4096];
				memset(chunk, (int)(acc & 0xff), sizeof chunk);
				for (uint64_t k = acc >> 8; k; ) {
					size_t m = k < sizeof chunk ? k : sizeof chunk;
					buf_add(&b, chunk, m);
					k -= m;
				}
				run = -1;
			}
			continue;
		}
		if (hi < 0) hi = v; else { unsigned char x = hi << 4 | v; buf_add(&b, &x, 1); hi = -1; }
	}
	if (b.len < 4) die("short hex frame");
	memcpy(len, b.p, 4);
	if (*len != b.len - 4) die("hex frame length");
	memmove(b.p, b.p + 4, *len);
	return b.p;
}

static void write_frame(struct buf *b)
{
	uint32_t n = b->len;
	if (!hex_mode) {
		if (write_full(1, &n, 4) || write_full(1, b->p, n)) die("write frame");
		return;
	}
	static const char dig[] = "0123456789abcdef";
	struct buf h = {0};
	buf_add(&h, "<", 1);
	unsigned char *hdr = (unsigned char *)&n;
	for (size_t i = 0; i < 4 + (size_t)n;) {
		unsigned char x = i < 4 ? hdr[i] : b->p[i - 4];
		size_t r = 1;
		if (i >= 4)
			while (i + r < 4 + (size_t)n && b->p[i + r - 4] == x) r++;
		if (r >= 16) {  /* a run: "*" count(8) byte(2) */
			char t[12];
			snprintf(t, sizeof t, "*%08zx%02x", r, x);
			buf_add(&h, t, 11);
		} else {
			r = 1;
			char d[2] = { dig[x >> 4], dig[x & 15] };
			buf_add(&h, d, 2);
		}
		i += r;
	}
	buf_add(&h, "\n", 1);
	if (write_full(1, h.p, h.len)) die("write frame");
	free(h.p);
}

static char *dupz(const unsigned char *p, uint32_t n)
{
	char *s = malloc(n + 1);
	if (!s) die("malloc");
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Decodes a case frame (see harness/protocol.py for the writer). */
static int parse_case(unsigned char *b, uint32_t n, struct ccase *c)
{
	struct buf av = {0}, ev = {0};
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 10000;
	for (uint32_t off = 0; off < n;) {
		if (n - off < 5) return -1;
		char t = b[off];
		uint32_t l = get32(b + off + 1);
		const unsigned char *p = b + off + 5;
		if (l > n - off - 5) return -1;
		off += 5 + l;
		switch (t) {
		case 'f': {
			if (l < 13 || c->nfiles == MAX_FILES) return -1;
			struct cfile *f = &c->files[c->nfiles++];
			f->kind = p[0];
			f->mode = get32(p + 1);
			f->plen = get32(p + 5);
			if (f->plen > l - 13) return -1;
			f->path = p + 9;
			f->dlen = get32(p + 9 + f->plen);
			if (f->dlen != l - 13 - f->plen) return -1;
			f->data = p + 13 + f->plen;
			break;
		}
		case 'b':
			if (c->nops == MAX_REGS) return -1;
			c->ops[c->nops].name = NULL; c->ops[c->nops].data = p; c->ops[c->nops++].dlen = l;
			c->nregs++;
			break;
		case 'w': {
			if (c->nops == MAX_REGS || l < 4) return -1;
			uint32_t nl = get32(p);
			if (nl > l - 4) return -1;
			c->ops[c->nops].name = p + 4; c->ops[c->nops].nlen = nl;
			c->ops[c->nops].data = p + 4 + nl; c->ops[c->nops++].dlen = l - 4 - nl;
			c->nregs++;
			break;
		}
		case 'u': /* BEGIN binfmt_misc unlink (docs/case-format-extensions.md): data NULL marks it */
			if (c->nops == MAX_REGS) return -1;
			c->ops[c->nops].name = p; c->ops[c->nops].nlen = l;
			c->ops[c->nops].data = NULL; c->ops[c->nops++].dlen = 0;
			c->nregs++;
			break; /* END binfmt_misc unlink */
		case 'W':
			if (c->nwopen == MAX_WOPEN) return -1;
			c->wopen[c->nwopen] = p; c->wlen[c->nwopen++] = l; break;
		case 'R':
			if (c->nreads == MAX_REGS) return -1;
			c->reads[c->nreads] = p; c->readlen[c->nreads++] = l; break;
		case 'c': c->cwd = dupz(p, l); break;
		case 'x': c->path = dupz(p, l); break;
		case 'X': c->path_null = 1; break;
		case 'a': { char *s = dupz(p, l); buf_add(&av, &s, sizeof s); c->argc++; break; }
		case 'A': c->argv_null = 1; break;
		case 'e': { char *s = dupz(p, l); buf_add(&ev, &s, sizeof s); c->envc++; break; }
		case 'E': c->envp_null = 1; break;
		case 's': c->syscall_nr = p[0]; break;
		case 'd': c->dirfd_path = dupz(p, l); break;
		case 'D': c->dirfd_cloexec = 1; break;
		case 'O': c->dirfd_opath = 1; break;
		case 'N': c->have_dirfd_num = 1; c->dirfd_num = (int)get32(p); break;
		case 'F': c->flags = get32(p); break;
		case 'r': c->have_rlimit = 1; memcpy(&c->rlimit_stack, p, 8); break;
		case 't': c->timeout_ms = get32(p); break;
		default: return -1;
		}
	}
	char *z = NULL;
	buf_add(&av, &z, sizeof z);
	buf_add(&ev, &z, sizeof z);
	c->argv = (char **)av.p;
	c->envp = (char **)ev.p;
	return 0;
}

/* Child-side failure report: step name + errno, then exit. */
static void fail(int status_fd, char kind, int a, int b, const char *what)
{
	struct buf r = {0};
	int32_t v[2] = { a, b };
	rec(&r, 'o', &kind, 1);
	rec(&r, 'v', v, 8);
	if (what) rec(&r, 'm', what, strlen(what));
	write_full(status_fd, r.p, r.len);
	_exit(127);
}

static int write_file_at(int dirfd, const char *name, const char *s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	int r = write_full(fd, s, strlen(s));
	close(fd);
	return r;
}

static void mkparents(int rootfd, char *rel, int sfd)
{
	for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		if (s == rel) continue;
		*s = 0;
		if (mkdirat(rootfd, rel, 0755) && errno != EEXIST) fail(sfd, 's', 0, errno, "mkdir parent");
		*s = '/';
	}
}

static void materialise(struct ccase *c, int rootfd, int sfd)
{
	/* Directories get their modes last so a 0 mode can't block their children. */
	for (int i = 0; i < c->nfiles; i++) {
		struct cfile *f = &c->files[i];
		char *path = dupz(f->path, f->plen), *rel = path;
		while (*rel == '/') rel++;
		if (!*rel) { if (f->kind == 'd') continue; fail(sfd, 's', 0, EINVAL, "file at /"); }
		mkparents(rootfd, rel, sfd);
		int fd;
		switch (f->kind) {
		case 'd':
			if (mkdirat(rootfd, rel, 0755) && errno != EEXIST) fail(sfd, 's', 0, errno, "mkdir");
			break;
		case 'l': {
			char *t = dupz(f->data, f->dlen);
			if (symlinkat(t, rootfd, rel)) fail(sfd, 's', 0, errno, "symlink");
			free(t);
			break;
		}
		case 'i':
			if (mknodat(rootfd, rel, S_IFIFO | 0600, 0)) fail(sfd, 's', 0, errno, "mkfifo");
			if (fchmodat(rootfd, rel, f->mode, 0)) fail(sfd, 's', 0, errno, "chmod");
			break;
		case 'p': case 'f':
			fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0) fail(sfd, 's', 0, errno, "create");
			if (f->kind == 'f') {
				if (write_full(fd, f->data, f->dlen)) fail(sfd, 's', 0, errno, "write");
			} else {
				/* data: u8 probe variant, then the tag */
				if (f->dlen < 1 || f->data[0] >= nprobes) fail(sfd, 's', 0, EINVAL, "probe variant");
				const unsigned char *img = probes[f->data[0]].img;
				size_t len = probes[f->data[0]].len, off = probes[f->data[0]].tag_off;
				size_t tl = f->dlen - 1 > 63 ? 63 : f->dlen - 1;
				unsigned char tag[64] = {0};
				memcpy(tag, f->data + 1, tl);
				if (write_full(fd, img, off) || write_full(fd, tag, 64) ||
				    write_full(fd, img + off + 64, len - off - 64))
					fail(sfd, 's', 0, errno, "write probe");
			}
			if (fchmod(fd, f->mode)) fail(sfd, 's', 0, errno, "chmod");
			close(fd);
			break;
		default:
			fail(sfd, 's', 0, EINVAL, "file kind");
		}
		free(path);
	}
	for (int i = c->nfiles - 1; i >= 0; i--) {
		struct cfile *f = &c->files[i];
		if (f->kind != 'd') continue;
		char *path = dupz(f->path, f->plen), *rel = path;
		while (*rel == '/') rel++;
		if (fchmodat(rootfd, *rel ? rel : ".", f->mode, 0)) fail(sfd, 's', 0, errno, "chmod dir");
		free(path);
	}
}

static void enter_userns(int sfd)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char m[64];
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS)) fail(sfd, 's', 0, errno, "unshare user+mnt");
	int dfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) fail(sfd, 's', 0, errno, "open /proc/self");
	if (write_file_at(dfd, "setgroups", "deny") && errno != ENOENT) fail(sfd, 's', 0, errno, "setgroups");
	snprintf(m, sizeof m, "0 %u 1", (unsigned)uid);
	if (write_file_at(dfd, "uid_map", m)) fail(sfd, 's', 0, errno, "uid_map");
	snprintf(m, sizeof m, "0 %u 1", (unsigned)gid);
	if (write_file_at(dfd, "gid_map", m)) fail(sfd, 's', 0, errno, "gid_map");
	close(dfd);
}

static void child(struct ccase *c, int sfd, int outfd, int infd, pid_t parent)
{
	char rdir[4096], bdir[4096];
	int plain = !strcmp(mode, "plain");

	/* Die with the executor, even if it died before this line. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (!plain)
		enter_userns(sfd);
	else if (unshare(CLONE_NEWNS))
		fail(sfd, 's', 0, errno, "unshare mnt");
	/* Nothing we mount may propagate anywhere. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) fail(sfd, 's', 0, errno, "make / private");
	if (mount("execspec", scratch, "tmpfs", 0, "mode=0755")) fail(sfd, 's', 0, errno, "mount tmpfs");
	snprintf(rdir, sizeof rdir, "%s/r", scratch);
	snprintf(bdir, sizeof bdir, "%s/b", scratch);
	if (mkdir(rdir, 0755) || mkdir(bdir, 0755)) fail(sfd, 's', 0, errno, "mkdir scratch");

	/* Own binfmt_misc instance (a new userns on >= 6.7) even without rules,
	 * so that rules registered elsewhere never apply to the case. */
	int bmfd = -1;
	if (mount("binfmt_misc", bdir, "binfmt_misc", 0, NULL) == 0) {
		bmfd = open(bdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (bmfd < 0) fail(sfd, 's', 0, errno, "open binfmt_misc");
		/* one global instance in a throwaway VM: empty and enabled for each case */
		if (plain && (write_file_at(bmfd, "status", "-1") || write_file_at(bmfd, "status", "1")))
			fail(sfd, 's', 0, errno, "reset binfmt_misc");
	} else if (c->nregs) {
		fail(sfd, 'k', 0, errno, "no private binfmt_misc instance");
	}

	umask(0);
	int rootfd = open(rdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) fail(sfd, 's', 0, errno, "open root");
	materialise(c, rootfd, sfd);
	close(rootfd);
	/* BEGIN PROC_FD block (1/2): the exec'd program gets an O_PATH directory
	 * fd of a procfs at PROC_FD, not close-on-exec, opened before chroot; the
	 * probe reads its exe link with readlinkat(PROC_FD, "self/exe").  Minimal
	 * stand-in: the lead's executor rewrite replaces where this fd comes from
	 * (a private procfs of a per-case PID namespace). */
	{
		int pfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0 || dup3(pfd, PROC_FD, 0) < 0) fail(sfd, 's', 0, errno, "procfs for PROC_FD");
		close(pfd);
	}
	/* END PROC_FD block (1/2) */
	if (chroot(rdir) || chdir("/")) fail(sfd, 's', 0, errno, "chroot");

	/* Files the case holds open for writing, before any registration (an F
	 * rule's open_exec must see them too) and until the exec, so that
	 * deny_write_access() finds i_writecount > 0.  Close-on-exec: the new
	 * program never sees them. */
	for (int i = 0; i < c->nwopen; i++) {
		char *p = dupz(c->wopen[i], c->wlen[i]);
		int fd = open(p, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || (fd != WRITE_FD + i && dup3(fd, WRITE_FD + i, O_CLOEXEC) < 0))
			fail(sfd, 's', 0, errno, "open for write");
		if (fd != WRITE_FD + i) close(fd);
		free(p);
	}

	/* Registrations are written after chroot: F opens the interpreter with
	 * the writer's root, which must be the case's root. */
	for (int i = 0; i < c->nops; i++) {
		/* BEGIN binfmt_misc unlink: unlinkat(2) of a name in the instance */
		if (!c->ops[i].data) {
			char *uname = dupz(c->ops[i].name, c->ops[i].nlen);
			if (strchr(uname, '/')) fail(sfd, 'r', i, EINVAL, "open");
			if (unlinkat(bmfd, uname, 0)) fail(sfd, 'r', i, errno, NULL);
			free(uname);
			continue;
		}
		/* END binfmt_misc unlink */
		char *name = c->ops[i].name ? dupz(c->ops[i].name, c->ops[i].nlen) : strdup("register");
		int fd = strchr(name, '/') ? -1 : openat(bmfd, name, O_WRONLY | O_CLOEXEC);
		if (fd < 0) fail(sfd, 'r', i, strchr(name, '/') ? EINVAL : errno, "open");
		ssize_t r = write(fd, c->ops[i].data, c->ops[i].dlen);
		if (r < 0) fail(sfd, 'r', i, errno, NULL);
		if ((size_t)r != c->ops[i].dlen) fail(sfd, 'r', i, 0, "short write");
		close(fd);
		free(name);
	}
	/* Entry texts as the kernel renders them, sent ahead of the exec's result. */
	for (int i = 0; i < c->nreads; i++) {
		struct buf r = {0};
		char *name = dupz(c->reads[i], c->readlen[i]);
		char text[8192];
		int fd = strchr(name, '/') ? -1 : openat(bmfd, name, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text);
		int32_t e = n < 0 ? (fd < 0 && strchr(name, '/') ? EINVAL : errno) : 0;
		rec(&r, 'n', name, strlen(name));
		if (n < 0) rec(&r, 'N', &e, 4); else rec(&r, 'T', text, n);
		write_full(sfd, r.p, r.len);
		if (fd >= 0) close(fd);
		free(name); free(r.p);
	}
	if (bmfd >= 0) close(bmfd);

	if (c->cwd && chdir(c->cwd)) fail(sfd, 's', 0, errno, "chdir cwd");

	/* RLIMIT_STACK sets the E2BIG limit (bprm_stack_limits); 8 MiB unless the case says. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl)) fail(sfd, 's', 0, errno, "getrlimit");
	rl.rlim_cur = !c->have_rlimit ? (8 << 20) : c->rlimit_stack == UINT64_MAX ? RLIM_INFINITY : c->rlimit_stack;
	if (rl.rlim_max != RLIM_INFINITY && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > rl.rlim_max))
		fail(sfd, 's', 0, EPERM, "RLIMIT_STACK above the hard limit");
	if (setrlimit(RLIMIT_STACK, &rl)) fail(sfd, 's', 0, errno, "setrlimit");

	int dirfd = AT_FDCWD;
	if (c->dirfd_path) {
		int fl = (c->dirfd_opath ? O_PATH : O_RDONLY | O_NONBLOCK) | O_CLOEXEC;
		int fd = open(c->dirfd_path, fl);
		if (fd < 0) fail(sfd, 's', 0, errno, "open dirfd");
		if (dup3(fd, 3, c->dirfd_cloexec ? O_CLOEXEC : 0) < 0) fail(sfd, 's', 0, errno, "dup dirfd");
		if (fd != 3) close(fd);
		dirfd = 3;
	} else if (c->have_dirfd_num) {
		dirfd = c->dirfd_num;
	}
	if (dup2(infd, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0) fail(sfd, 's', 0, errno, "dup stdio");
	int first = c->dirfd_path ? 4 : 3;
	/* Everything else closes; only the status pipe stays, close-on-exec. */
	/* BEGIN PROC_FD block (2/2): everything below STATUS_FD closes but PROC_FD */
	syscall(SYS_close_range, first, PROC_FD - 1, 0);
	syscall(SYS_close_range, PROC_FD + 1, STATUS_FD - 1, 0);
	/* END PROC_FD block (2/2) */
	syscall(SYS_close_range, WRITE_FD + c->nwopen, ~0U, 0);

	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);

	/* In a guest (plain mode) the executor is the real root, whose
	 * CAP_SYS_RAWIO lets mmap go below vm.mmap_min_addr (cap_mmap_addr).
	 * A sandbox case runs as a user namespace's root, which lacks it in
	 * init_user_ns: drop it from the bounding set so the new program's
	 * credentials (committed before binfmt_elf maps anything) match. */
	if (plain && prctl(PR_CAPBSET_DROP, 17 /* CAP_SYS_RAWIO */, 0, 0, 0))
		fail(sfd, 's', 0, errno, "drop CAP_SYS_RAWIO");

	char **argv = c->argv_null ? NULL : c->argv;
	char **envp = c->envp_null ? NULL : c->envp;
	const char *path = c->path_null ? NULL : c->path;
	long r = c->syscall_nr == 1 ? syscall(SYS_execveat, dirfd, path, argv, envp, c->flags)
				    : syscall(SYS_execve, path, argv, envp);
	if (r == 0) /* AT_EXECVE_CHECK: checked, not executed */
		fail(sfd, 'c', 0, 0, NULL);
	fail(sfd, 'e', errno, 0, NULL);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

#define MAX_PENDING 64
static pid_t pending[MAX_PENDING];
static int npending;

/* Reaps finished children; with block, all of them. */
static void reap(int block)
{
	for (int i = 0; i < npending;) {
		int st;
		pid_t r = waitpid(pending[i], &st, block ? 0 : WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR)) { i++; continue; }
		pending[i] = pending[--npending];
	}
}

static void run_case(struct ccase *c, struct buf *resp)
{
	reap(0);
	int st[2], out[2], in[2];
	if (pipe2(st, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(in, O_CLOEXEC)) die("pipe");
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		int sfd = fcntl(st[1], F_DUPFD_CLOEXEC, STATUS_FD);
		if (sfd != STATUS_FD) _exit(126);
		close(in[1]);
		child(c, sfd, out[1], in[0], self);
	}
	close(st[1]); close(out[1]); close(in[0]); close(in[1]);

	struct buf sb = {0}, ob = {0};
	struct pollfd pf[2] = { { st[0], POLLIN, 0 }, { out[0], POLLIN, 0 } };
	long deadline = now_ms() + c->timeout_ms;
	int open_fds = 2, timed_out = 0;
	char tmp[65536];
	while (open_fds) {
		long left = deadline - now_ms();
		if (left <= 0) { timed_out = 1; break; }
		int r = poll(pf, 2, (int)left);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) die("poll");
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents) continue;
			ssize_t n = read(pf[i].fd, tmp, sizeof tmp);
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) { close(pf[i].fd); pf[i].fd = -1; open_fds--; continue; }
			buf_add(i ? &ob : &sb, tmp, n);
		}
	}
	for (int i = 0; i < 2; i++) if (pf[i].fd >= 0) close(pf[i].fd);
	/* The exiting child still tears its namespaces down (an RCU grace
	 * period for the mounts) before it can be reaped.  When the pipes
	 * already tell the outcome -- an errno, or a probe's complete report --
	 * answer now and reap it later, overlapping that teardown with the
	 * next case.  Only other programs need their wait status. */
	int status = 0;
	int failed = 0; /* did the child report an outcome ('o') itself? */
	for (size_t off = 0; off + 5 <= sb.len; off += 5 + get32(sb.p + off + 1))
		if (sb.p[off] == 'o') failed = 1;
	int report_done = ob.len >= 5 && ob.p[ob.len - 5] == 'Z' && !memcmp(ob.p + ob.len - 4, "\0\0\0\0", 4);
	if (timed_out) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	} else if ((failed || report_done) && npending < MAX_PENDING) {
		pending[npending++] = pid;
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (timed_out) {
		char k = 't'; rec(resp, 'o', &k, 1);
	} else if (failed) {
		buf_add(resp, sb.p, sb.len); /* records from fail(), after any entry texts */
	} else {
		buf_add(resp, sb.p, sb.len); /* entry texts, if any */
		char k = 'x'; int32_t v[2] = { status, 0 };
		rec(resp, 'o', &k, 1);
		rec(resp, 'v', v, 8);
	}
	if (ob.len) rec(resp, 'p', ob.p, ob.len);
	free(sb.p); free(ob.p);
}

static void load_probe(const char *path)
{
	if (nprobes == MAX_PROBES) { errno = E2BIG; die("too many probes"); }
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat s;
	if (fd < 0 || fstat(fd, &s)) die("open probe");
	size_t len = s.st_size;
	unsigned char *img = malloc(len);
	if (!img || read_full(fd, img, len)) die("read probe");
	close(fd);
	static const char mark[] = "\001EXECSPEC-PROBE-TAG\001";
	for (size_t i = 0; i + sizeof mark + 64 <= len; i++)
		if (!memcmp(img + i, mark, sizeof mark - 1)) {
			probes[nprobes].img = img;
			probes[nprobes].len = len;
			probes[nprobes++].tag_off = i + 21;
			return;
		}
	errno = EINVAL;
	die("probe has no tag marker");
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hex")) hex_mode = 1;
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc) mode = argv[++i];
		else if (!strcmp(argv[i], "--scratch") && i + 1 < argc) scratch = argv[++i];
		else if (!strcmp(argv[i], "--probe") && i + 1 < argc) load_probe(argv[++i]);
		else if (!strcmp(argv[i], "--no-pdeathsig")) no_pdeathsig = 1;
		else { fprintf(stderr, "usage: executor --probe PATH [--probe PATH2 ...] [--mode userns|plain] [--scratch DIR] [--hex] [--no-pdeathsig]\n"); return 2; }
	}
	if (!nprobes) { fprintf(stderr, "executor: --probe is required\n"); return 2; }
	if (strcmp(mode, "userns") && strcmp(mode, "plain")) { fprintf(stderr, "executor: bad --mode\n"); return 2; }
	/* Die with whoever drives us; our children die with us (PDEATHSIG).
	 * Not under `docker exec`: our parent there is runc, which exits once
	 * we run; stdin's EOF (the CLI gone) ends us instead. */
	if (!no_pdeathsig)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);

	struct utsname u;
	uname(&u);
	struct buf hello = {0};
	rec(&hello, 'K', u.release, strlen(u.release));
	rec(&hello, 'V', u.version, strlen(u.version)); /* distributions put the real patch level here */
	rec(&hello, 'M', mode, strlen(mode));
	write_frame(&hello);
	free(hello.p);

	uint32_t n;
	unsigned char *frame;
	static struct ccase c;
	while ((frame = read_frame(&n))) {
		struct buf resp = {0};
		if (parse_case(frame, n, &c)) {
			char k = 'f'; rec(&resp, 'o', &k, 1);
		} else {
			run_case(&c, &resp);
		}
		write_frame(&resp);
		free(resp.p);
		for (int i = 0; i < c.argc; i++) free(c.argv[i]);
		for (int i = 0; i < c.envc; i++) free(c.envp[i]);
		free(c.argv); free(c.envp); free(c.cwd); free(c.path); free(c.dirfd_path);
		free(frame);
	}
	reap(1);
	return 0;
}
