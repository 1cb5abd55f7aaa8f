/*
 * execspec executor: runs cases inside a target and reports what happened.
 *
 * One long-lived process per test worker, driven over a pipe (or a serial
 * line with --hex) by harness/executor.py.  It is plain C with no runtime
 * needs beyond the kernel so the same program serves the host sandbox, a
 * FROM-scratch container and a QEMU initramfs.
 *
 * A case is hostile input (its files and programs come from strangers), so
 * per case (run_case):
 *   - clone() a "case init" into new user (--mode userns), PID and mount
 *     namespaces.  The executor writes its id maps: as root, the case's
 *     uids/gids 0.. map to ID_BASE.. (an unprivileged host range), never to
 *     real root; unprivileged, to the executor's own ids.
 *   - the case init mounts a fresh tmpfs, its own binfmt_misc instance and
 *     a procfs of the case's PID namespace, pivot_root()s into the tmpfs and
 *     detaches the old root, drops supplementary groups and becomes the
 *     mapped uid 0.  Only then are the case's files created: no path of the
 *     host is reachable any more, whatever symlinks the case holds.
 *   - it then writes the registrations and makes the exec call itself: the
 *     program is PID 1 of its PID namespace, so its exit kills everything
 *     it left there, and the executor reaps it directly.  (The next case's
 *     init is cloned and set up while this one runs: prespawn.)
 *   - output is capped (MAX_OUTPUT), time is limited (the case's timeout,
 *     then the whole PID namespace is killed), processes are limited
 *     (RLIMIT_NPROC).
 *
 * --mode plain skips the user namespace and uses the one global binfmt_misc
 * instance (reset before each case).  It is for throwaway VMs only; the
 * Python side refuses to use it anywhere else.  An initramfs root cannot be
 * pivoted away from, so plain mode chroots (the VM is the boundary there).
 *
 * Frames: u32 little-endian length + body; the body is records of
 * u8 type, u32 length, payload.  With --hex every frame is sent as one line
 * of hex digits, safe over a tty.  Every length is checked against the frame.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "bprm_call.h"
#include "caselimits.h"
#include "idmap.h"
#include "mount_api.h"
#include "materialise.h"
#include "record.h"

struct cfile { char kind; unsigned mode; const unsigned char *path; uint32_t plen;
	       const unsigned char *data; uint32_t dlen; uint32_t uid, gid;
	       /* security.capability: revision 0 (none), 2 or 3 (with rootid) */
	       uint32_t caprev, capeff, rootid; uint64_t fp, fi; };

#define MAX_MOUNTS 16
#define MAX_GROUPS 32
#define MNT_RO 1
#define MNT_NOSUID 2
#define MNT_NOEXEC 4

struct ccase {
	struct cfile files[MAX_FILES]; int nfiles;
	/* binfmt_misc writes in order: to "register" (name NULL) or to a named
	 * control file ("status" or an entry); their index is their position. */
	struct { const unsigned char *name; uint32_t nlen; const unsigned char *data; uint32_t dlen; } ops[MAX_OPS];
	int nops, nregs;
	const unsigned char *reads[MAX_READS]; uint32_t readlen[MAX_READS]; int nreads;
	const unsigned char *wopen[MAX_WOPEN]; uint32_t wlen[MAX_WOPEN]; int nwopen;
	char *cwd, *path, *dirfd_path;
	char **argv, **envp; int argc, envc, argv_null, envp_null;
	int have_memfd; uint32_t memfd_flags; /* fd 3: a memfd holding a copy of dirfd_path */
	int have_mfd_noexec; uint32_t mfd_noexec; /* vm.memfd_noexec of the case's PID namespace */
	int syscall_nr, dirfd_cloexec, dirfd_opath, have_dirfd_num, dirfd_num, path_null;
	unsigned flags;
	int have_rlimit; uint64_t rlimit_stack;
	uint32_t timeout_ms;
	/* mounts in the case root (path "/" is the root mount itself) */
	struct { unsigned bits; char *path; } mnts[MAX_MOUNTS]; int nmnts;
	/* the identity that makes the exec call, and no_new_privs */
	int have_persona; uint32_t persona; /* personality(2) just before the call */
	int have_nofile; uint32_t nofile; /* RLIMIT_NOFILE just before the call */
	uint32_t concurrent; /* exec.concurrent: processes making the call at once (0, 1: just the one) */
	int from_thread; /* exec.from_thread: a second thread of the caller makes the call */
	int have_ident, nnp, have_secbits; uint32_t secbits; uint32_t uid, gid, ngroups; uint32_t groups[MAX_GROUPS];
	/* unlink/rename/rmdir after the dirfd is opened: op, path, second path */
	struct { char op; char *a, *b; } after[8]; int nafter;
};

static int hex_mode;
static int no_pdeathsig;
static const char *mode = "userns";
static const char *scratch = "/tmp";
/* Probe images (variant 0 is the default probe); each has a tag slot. */
static struct { unsigned char *img; size_t len, tag_off; } probes[MAX_PROBES];
static int nprobes;
/* The nodes a "chardev" ('c') and a "blockdev" ('b') file are binds of:
 * the target's own /dev/null and /dev/loop0 (in the slim mount namespace,
 * binds of them at /null and /loop0).  Never a node made with mknod: a
 * device is only ever one the target already has, and the case's root is
 * never the host's root, so the node's own modes keep it out (0600 root
 * for loop0; tests/test_hostile_cases.py). */
static struct { char kind; const char *type, *path; } devs[] = {
	{ 'c', "chardev", "/dev/null" }, { 'b', "blockdev", "/dev/loop0" } };
#define NDEVS (int)(sizeof devs / sizeof devs[0])
static int spawn_devs; /* bit i: the init being spawned clones devs[i]'s mount (spawn_init) */


static void die(const char *m) { fprintf(stderr, "executor: %s: %s\n", m, strerror(errno)); exit(2); }

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

static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

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

/* Reads one frame body; returns NULL at EOF.  A frame longer than
 * MAX_FRAME is read and discarded and comes back with *len = UINT32_MAX,
 * so the caller answers "bad frame" and the stream stays in step.
 * Hex lines may carry runs as "*" + 8 hex digits (count) + 2 (byte):
 * argument-space cases are megabytes of one letter. */
static unsigned char *read_frame(uint32_t *len)
{
	if (!hex_mode) {
		if (read_full(0, len, 4)) return NULL;
		if (*len > MAX_FRAME) {
			unsigned char junk[65536];
			for (uint32_t left = *len; left;) {
				uint32_t k = left < sizeof junk ? left : sizeof junk;
				if (read_full(0, junk, k)) return NULL;
				left -= k;
			}
			*len = UINT32_MAX;
			return malloc(1);
		}
		unsigned char *p = malloc(*len ? *len : 1);
		if (!p) die("malloc frame");
		if (read_full(0, p, *len)) { free(p); return NULL; }
		return p;
	}
	/* hex line: skip anything before a '>' start mark (tty echo, noise) */
	struct buf b = {0};
	int c, hi = -1, started = 0, run = -1, over = 0;
	uint64_t acc = 0;
	for (;;) {
		c = getbyte();
		if (c < 0) { free(b.p); return NULL; }
		if (!started) { started = (c == '>'); continue; }
		if (c == '\n' || c == '\r') break;
		if (c == '*') { run = 0; acc = 0; continue; }
		int v = hexval(c);
		if (v < 0) continue;
		if (run >= 0) {
			acc = acc << 4 | v;
			if (++run == 10) {
				uint64_t k = acc >> 8;
				if (over || b.len + k > (uint64_t)MAX_FRAME + 4) { over = 1; run = -1; continue; }
				unsigned char chunk[4096];
				memset(chunk, (int)(acc & 0xff), sizeof chunk);
				while (k) {
					size_t m = k < sizeof chunk ? k : sizeof chunk;
					buf_add(&b, chunk, m);
					k -= m;
				}
				run = -1;
			}
			continue;
		}
		if (hi < 0) hi = v;
		else {
			unsigned char x = hi << 4 | v;
			hi = -1;
			if (over || b.len + 1 > (uint64_t)MAX_FRAME + 4) { over = 1; continue; }
			buf_add(&b, &x, 1);
		}
	}
	if (over || b.len < 4 || get32(b.p) != b.len - 4) {
		free(b.p);
		*len = UINT32_MAX;
		return malloc(1);
	}
	*len = b.len - 4;
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


static void free_case(struct ccase *c)
{
	for (int i = 0; c->argv && i < c->argc; i++) free(c->argv[i]);
	for (int i = 0; c->envp && i < c->envc; i++) free(c->envp[i]);
	free(c->argv); free(c->envp); free(c->cwd); free(c->path); free(c->dirfd_path);
	c->argv = c->envp = NULL; c->cwd = c->path = c->dirfd_path = NULL;
	c->argc = c->envc = 0;
	for (int i = 0; i < c->nmnts; i++) free(c->mnts[i].path);
	c->nmnts = 0;
	for (int i = 0; i < c->nafter; i++) { free(c->after[i].a); free(c->after[i].b); }
	c->nafter = 0;
}

/* The payload of a fixed-size record must be exactly that size. */
#define NEED(k) do { if (l != (k)) goto bad; } while (0)

/* Decodes a case frame (see harness/protocol.py for the writer).  Every
 * record length is checked against the frame; on any error nothing
 * allocated survives and -1 comes back with *why naming the record. */
static int parse_case(unsigned char *b, uint32_t n, struct ccase *c, const char **why)
{
	struct buf av = {0}, ev = {0};
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 10000;
	*why = "record header";
	for (uint32_t off = 0, l; off < n;) {
		if (!record_at(b, n, off, &l)) { if (n - off >= 5) *why = "record length"; goto bad; }
		char t = b[off];
		const unsigned char *p = b + off + 5;
		off += 5 + l;
		static char what[] = "record ?";
		what[7] = t;
		*why = what;
		switch (t) {
		case 'f': {
			if (l < 13) goto bad;
			if (c->nfiles == MAX_FILES) { *why = "too many files"; goto bad; }
			struct cfile *f = &c->files[c->nfiles++];
			f->kind = p[0];
			f->mode = get32(p + 1);
			f->plen = get32(p + 5);
			if (f->plen > l - 13 || f->plen >= MAX_PATH) goto bad;
			f->path = p + 9;
			f->dlen = get32(p + 9 + f->plen);
			if (f->dlen != l - 13 - f->plen) goto bad;
			f->data = p + 13 + f->plen;
			if (memchr(f->path, 0, f->plen)) goto bad;
			break;
		}
		case 'b':
			if (c->nops == MAX_OPS) { *why = "too many binfmt_misc writes"; goto bad; }
			c->ops[c->nops].name = NULL; c->ops[c->nops].data = p; c->ops[c->nops++].dlen = l;
			c->nregs++;
			break;
		case 'w': {
			if (l < 4) goto bad;
			if (c->nops == MAX_OPS) { *why = "too many binfmt_misc writes"; goto bad; }
			uint32_t nl = get32(p);
			if (nl > l - 4 || nl > MAX_NAME) goto bad;
			c->ops[c->nops].name = p + 4; c->ops[c->nops].nlen = nl;
			c->ops[c->nops].data = p + 4 + nl; c->ops[c->nops++].dlen = l - 4 - nl;
			c->nregs++;
			break;
		}
		case 'u': /* unlink(2) of a binfmt_misc entry: data NULL marks it */
			if (c->nops == MAX_OPS) { *why = "too many binfmt_misc writes"; goto bad; }
			if (l > MAX_NAME) goto bad;
			c->ops[c->nops].name = p; c->ops[c->nops].nlen = l;
			c->ops[c->nops].data = NULL; c->ops[c->nops++].dlen = 0;
			c->nregs++;
			break;
		case 'W':
			if (c->nwopen == MAX_WOPEN) { *why = "too many files open for writing"; goto bad; }
			if (l >= MAX_PATH) goto bad;
			c->wopen[c->nwopen] = p; c->wlen[c->nwopen++] = l; break;
		case 'R':
			if (c->nreads == MAX_READS) { *why = "too many binfmt_misc reads"; goto bad; }
			if (l > MAX_NAME) goto bad;
			c->reads[c->nreads] = p; c->readlen[c->nreads++] = l; break;
		case 'c': if (c->cwd || l >= MAX_PATH) goto bad; c->cwd = dupz(p, l); break;
		case 'x': if (c->path) goto bad; c->path = dupz(p, l); break;
		case 'X': NEED(0); c->path_null = 1; break;
		case 'a': { char *s = dupz(p, l); buf_add(&av, &s, sizeof s); c->argc++; break; }
		case 'A': NEED(0); c->argv_null = 1; break;
		case 'e': { char *s = dupz(p, l); buf_add(&ev, &s, sizeof s); c->envc++; break; }
		case 'E': NEED(0); c->envp_null = 1; break;
		case 's': NEED(1); c->syscall_nr = p[0]; break;
		case 'd': if (c->dirfd_path || l >= MAX_PATH) goto bad; c->dirfd_path = dupz(p, l); break;
		case 'D': NEED(0); c->dirfd_cloexec = 1; break;
		case 'O': NEED(0); c->dirfd_opath = 1; break;
		case 'G': NEED(4); c->have_memfd = 1; memcpy(&c->memfd_flags, p, 4);
			if (c->memfd_flags & ~0x1Au) goto bad;
			break;
		case 'V': NEED(4); c->have_mfd_noexec = 1; c->mfd_noexec = get32(p);
			if (c->mfd_noexec > 2) goto bad;
			break;
		case 'N': {
			NEED(4);
			c->have_dirfd_num = 1; c->dirfd_num = (int32_t)get32(p);
			if (c->dirfd_num >= RESERVED_FD_MIN && c->dirfd_num <= RESERVED_FD_MAX) { *why = "reserved dirfd"; goto bad; }
			break;
		}
		case 'F': NEED(4); c->flags = get32(p); break;
		case 'C': { /* file capabilities of files[idx] */
			NEED(32);
			uint32_t idx = get32(p);
			if (idx >= (uint32_t)c->nfiles) goto bad;
			struct cfile *f = &c->files[idx];
			f->caprev = get32(p + 4); f->capeff = get32(p + 8);
			memcpy(&f->fp, p + 12, 8); memcpy(&f->fi, p + 20, 8);
			f->rootid = get32(p + 28);
			if ((f->caprev != 2 && f->caprev != 3) || f->capeff > 1 || f->rootid >= ID_COUNT) goto bad;
			if (f->kind != 'f' && f->kind != 'p') goto bad;
			break;
		}
		case 'o': { /* owner of files[idx] (case's user namespace ids) */
			NEED(12);
			uint32_t idx = get32(p);
			if (idx >= (uint32_t)c->nfiles) goto bad;
			c->files[idx].uid = get32(p + 4); c->files[idx].gid = get32(p + 8);
			if (c->files[idx].uid >= ID_COUNT || c->files[idx].gid >= ID_COUNT) goto bad;
			break;
		}
		case 'M':
			if (l < 5 || l >= MAX_PATH || c->nmnts == MAX_MOUNTS) goto bad;
			if (p[4] != '/' || memchr(p + 4, 0, l - 4)) goto bad;
			c->mnts[c->nmnts].bits = get32(p);
			if (c->mnts[c->nmnts].bits & ~7u) goto bad;
			c->mnts[c->nmnts++].path = dupz(p + 4, l - 4);
			break;
		case 'I':
			if (l < 8 || l % 4 || (l - 8) / 4 > MAX_GROUPS || c->have_ident) goto bad;
			c->have_ident = 1; c->uid = get32(p); c->gid = get32(p + 4); c->ngroups = (l - 8) / 4;
			for (uint32_t i = 0; i < c->ngroups; i++) c->groups[i] = get32(p + 8 + 4 * i);
			if (c->uid >= ID_COUNT || c->gid >= ID_COUNT) goto bad;
			for (uint32_t i = 0; i < c->ngroups; i++) if (c->groups[i] >= ID_COUNT) goto bad;
			break;
		case 'P': NEED(0); c->nnp = 1; break;
		case 'n': NEED(4); c->have_nofile = 1; c->nofile = get32(p); break;
		case 'T': NEED(0); c->from_thread = 1; break;
		case 'J': NEED(4); c->concurrent = get32(p); if (c->concurrent > MAX_CONCURRENT) goto bad; break;
		case 'y': NEED(4); c->have_persona = 1; c->persona = get32(p);
			if (c->persona & ~0x0040000u) goto bad; /* ADDR_NO_RANDOMIZE only */
			break;
		case 'Y': NEED(4); c->have_secbits = 1; memcpy(&c->secbits, p, 4);
			if (c->secbits & ~0xF00u) goto bad;
			break;
		case 'Q': {
			if (l < 5 || c->nafter == 8) goto bad;
			uint32_t al = get32(p + 1);
			if (al > l - 5 || al >= MAX_PATH || l - 5 - al >= MAX_PATH) goto bad;
			if (p[0] != 'u' && p[0] != 'r' && p[0] != 'd') goto bad;
			c->after[c->nafter].op = p[0];
			c->after[c->nafter].a = dupz(p + 5, al);
			c->after[c->nafter++].b = dupz(p + 5 + al, l - 5 - al);
			break;
		}
		case 'r': NEED(8); c->have_rlimit = 1; memcpy(&c->rlimit_stack, p, 8); break;
		case 't': NEED(4); c->timeout_ms = get32(p); if (c->timeout_ms > MAX_TIMEOUT_MS) c->timeout_ms = MAX_TIMEOUT_MS; break;
		default: *why = "unknown record type"; goto bad;
		}
	}
	char *z = NULL;
	buf_add(&av, &z, sizeof z);
	buf_add(&ev, &z, sizeof z);
	c->argv = (char **)av.p;
	c->envp = (char **)ev.p;
	return 0;
bad:
	/* the argv/envp strings collected so far are owned by av/ev here */
	for (size_t i = 0; i < av.len / sizeof(char *); i++) free(((char **)av.p)[i]);
	for (size_t i = 0; i < ev.len / sizeof(char *); i++) free(((char **)ev.p)[i]);
	free(av.p); free(ev.p);
	c->argc = c->envc = 0;
	free(c->cwd); free(c->path); free(c->dirfd_path);
	c->cwd = c->path = c->dirfd_path = NULL;
	for (int i = 0; i < c->nmnts; i++) free(c->mnts[i].path);
	c->nmnts = 0;
	for (int i = 0; i < c->nafter; i++) { free(c->after[i].a); free(c->after[i].b); }
	c->nafter = 0;
	return -1;
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

/* Setup failures name what failed; `a` is the index of the file (or of
 * the dirfd/cwd step: -1) so harness/protocol.py can name the case field.
 * An owner the user namespace does not map (an unprivileged executor maps
 * only 0) is a skip: the case cannot be run honestly here. */
static void fail_file(int sfd, int i, const char *step)
{
	if (!strcmp(step, "chown") && errno == EINVAL)
		fail(sfd, 'k', 0, errno, "file owner not mapped here (an unprivileged executor maps only id 0)");
	fail(sfd, 's', i, errno, step);
}

/* security.capability (struct vfs_ns_cap_data, little-endian): set last,
 * since a write or a chown drops it.  The case's root may set it on its own
 * tmpfs (CAP_SETFCAP in the namespace that owns the inode); a revision 3
 * rootid is an id of the case's user namespace (the kernel stores it as
 * the file system's).  A kernel or file system that refuses is a skip. */
static void set_caps(int rootfd, const char *path, const struct cfile *f, int sfd, int i)
{
	unsigned char v[24];
	uint32_t w[6] = { (f->caprev == 3 ? 0x03000000u : 0x02000000u) | f->capeff,
			  (uint32_t)f->fp, (uint32_t)f->fi, (uint32_t)(f->fp >> 32), (uint32_t)(f->fi >> 32), f->rootid };
	memcpy(v, w, sizeof w); /* x86-64 and the guests are little-endian */
	while (*path == '/') path++;
	int fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) fail(sfd, 's', i, errno, "open for caps");
	if (fsetxattr(fd, "security.capability", v, f->caprev == 3 ? 24 : 20, 0))
		fail(sfd, 'k', 0, errno, "files[].caps: security.capability refused here");
	close(fd);
}

/* A "chardev" or "blockdev": a bind mount of its devs[] node onto an
 * empty file at path (made by materialise.h like any regular file).  The
 * first of a kind comes from the detached clone made before the root
 * switch (devfd, open_tree); later ones bind the first.  Its mode and
 * owner are the node's own: nothing here ever changes them. */
static void make_device(int rootfd, char *path, int d, int devfd, int dev_errno, char **first, int sfd, int i)
{
	struct case_inode empty = { 'f', 0, 0, 0, { NULL }, { 0 } };
	const char *step = materialise_inode(rootfd, path, &empty);
	if (step) fail_file(sfd, i, step);
	const char *rel = path;
	while (*rel == '/') rel++;
	char why[96];
	if (*first) {
		if (mount(*first, rel, NULL, MS_BIND, NULL)) fail(sfd, 's', i, errno, "bind device");
		return;
	}
	if (devfd < 0) {
		snprintf(why, sizeof why, "%s: no %s to bind here (open_tree)", devs[d].type, devs[d].path);
		fail(sfd, 'k', 0, dev_errno, why);
	}
	if (syscall(SYS_move_mount, devfd, "", rootfd, rel, MOVE_MOUNT_F_EMPTY_PATH_)) {
		snprintf(why, sizeof why, "%s: cannot attach the %s bind (move_mount)", devs[d].type, devs[d].path);
		fail(sfd, 'k', 0, errno, why);
	}
	*first = strdup(rel);
	if (!*first) fail(sfd, 's', i, ENOMEM, "device");
}

/* The stack the rest of a case's setup may use (the memfd copy's 64 KiB
 * buffer, the exec call), touched while RLIMIT_STACK is still large: a later
 * growth of the stack VMA is checked against the case's limit
 * (acct_stack_growth), so at a 4 KiB limit the init died with SIGSEGV
 * before its exec -- now and then, as the stack's random offset moved the
 * page edges (pin text-busy vs-e2big, 5 runs in 40). */
static __attribute__((noinline)) void prefault_stack(void)
{
	volatile char pad[256 << 10];
	for (size_t i = 0; i < sizeof pad; i += 4096) pad[i] = 0;
	pad[sizeof pad - 1] = 0;
}

static int dev_index(char kind)
{
	for (int d = 0; d < NDEVS; d++)
		if (devs[d].kind == kind) return d;
	return -1;
}

static struct case_inode inode_of(const struct cfile *f)
{
	struct case_inode ino = { f->kind, f->mode, f->uid, f->gid, { f->data }, { f->dlen } };
	return ino;
}

/* Runs in the case's own root (after pivot_root): every path below is
 * inside the fresh tmpfs, so no symlink of the case can lead out of it.
 * The files are materialise.h's; a probe ('p') is a regular file holding
 * the probe image of its variant with its tag patched in; a chardev ('c')
 * or blockdev ('b') is the executor's own (a bind mount). */
static void materialise(struct ccase *c, int rootfd, int sfd, const int *devfd, const int *dev_errno)
{
	char *first_dev[NDEVS] = { NULL };
	for (int i = 0; i < c->nfiles; i++) {
		struct cfile *f = &c->files[i];
		struct case_inode ino = inode_of(f);
		unsigned char tag[MAX_TAG + 1] = {0};
		char *path = dupz(f->path, f->plen);
		int d = dev_index(f->kind);
		if (d >= 0) {
			make_device(rootfd, path, d, devfd[d], dev_errno[d], &first_dev[d], sfd, i);
			free(path);
			continue;
		}
		if (f->kind == 'p') {
			/* data: u8 probe variant, then the tag */
			if (f->dlen < 1 || f->data[0] >= nprobes) fail(sfd, 's', i, EINVAL, "probe variant");
			const unsigned char *img = probes[f->data[0]].img;
			size_t len = probes[f->data[0]].len, off = probes[f->data[0]].tag_off;
			memcpy(tag, f->data + 1, f->dlen - 1 > MAX_TAG ? MAX_TAG : f->dlen - 1);
			ino.kind = 'f';
			ino.data[0] = img; ino.len[0] = off;
			ino.data[1] = tag; ino.len[1] = sizeof tag;
			ino.data[2] = img + off + sizeof tag; ino.len[2] = len - off - sizeof tag;
		}
		const char *step = materialise_inode(rootfd, path, &ino);
		if (step) fail_file(sfd, i, f->kind == 'p' && !strcmp(step, "write") ? "write probe" : step);
		if (f->caprev && (f->kind == 'f' || f->kind == 'p')) set_caps(rootfd, path, f, sfd, i);
		free(path);
	}
	for (int d = 0; d < NDEVS; d++) free(first_dev[d]);
	/* Directories get their modes last so a 0 mode can't block their children. */
	for (int i = c->nfiles - 1; i >= 0; i--) {
		struct cfile *f = &c->files[i];
		if (f->kind != 'd') continue;
		struct case_inode ino = inode_of(f);
		char *path = dupz(f->path, f->plen);
		const char *step = materialise_dir_mode(rootfd, path, &ino);
		if (step) fail_file(sfd, i, step);
		free(path);
	}
}

static void case_process(struct ccase *c, int sfd, int outfd, int infd, int bmfd, int procfd);

/* The case init: PID 1 of the case's PID namespace (see the top comment).
 * It makes the case's root, waits for its case, then becomes the program
 * (case_process); its exit ends the PID namespace. */
static void case_init(int sfd, int syncfd, int outfd, int infd)
{
	char rdir[4096], bdir[4096], pdir[4096];
	static struct ccase cc;
	struct ccase *c = &cc;
	int plain = !strcmp(mode, "plain");
	char go;

	/* Die with the executor.  Our parent is outside the PID namespace, so
	 * getppid() says 0; the sync byte (written after our id maps) tells
	 * that it is still there: EOF means it died before it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(syncfd, &go, 1) != 1) _exit(127);

	/* Become the case's uid/gid 0 (ID_BASE on the host when the executor is
	 * root) with no supplementary groups, before touching anything: the
	 * host groups of a root executor (gid 0 among them) must not follow the
	 * case.  So --scratch must be a directory any user can search (/tmp). */
	if (!plain) {
		if (setgroups(0, NULL) && errno != EPERM) fail(sfd, 's', -1, errno, "setgroups");
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0)) fail(sfd, 's', -1, errno, "setresuid");
	}

	/* Nothing we mount may propagate anywhere. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) fail(sfd, 's', -1, errno, "make / private");
	if (mount("execspec", scratch, "tmpfs", 0, "mode=0755"))
		fail(sfd, 's', -1, errno, "mount tmpfs");
	snprintf(rdir, sizeof rdir, "%s/r", scratch);
	snprintf(bdir, sizeof bdir, "%s/b", scratch);
	snprintf(pdir, sizeof pdir, "%s/p", scratch);
	if (mkdir(rdir, 0755) || mkdir(bdir, 0755) || mkdir(pdir, 0755)) fail(sfd, 's', -1, errno, "mkdir scratch");

	/* Own binfmt_misc instance (a new userns on >= 6.7) even without rules,
	 * so that rules registered elsewhere never apply to the case.  Kept as a
	 * descriptor: its mount point goes with the old root. */
	int bmfd = -1;
	if (mount("binfmt_misc", bdir, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
		bmfd = open(bdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (bmfd < 0) fail(sfd, 's', -1, errno, "open binfmt_misc");
	}
	int bm_errno = bmfd < 0 ? errno : 0;
	/* A procfs of this PID namespace only, for the probe's /proc/self/exe.
	 * Where the kernel refuses it (a container's masked /proc), the probe
	 * reports no exe. */
	int procfd = -1;
	if (mount("proc", pdir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		procfd = open(pdir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	/* A detached clone of a device node's mount, for a "chardev" or
	 * "blockdev" file: made while the node is still reachable, attached
	 * later.  Only an init spawned for such a case makes one: dropping an
	 * unused clone cost every case a few per cent (run_case). */
	int devfd[NDEVS], dev_errno[NDEVS];
	for (int d = 0; d < NDEVS; d++) {
		devfd[d] = spawn_devs & 1 << d ? (int)syscall(SYS_open_tree, AT_FDCWD, devs[d].path,
							      OPEN_TREE_CLONE_ | OPEN_TREE_CLOEXEC_) : -1;
		dev_errno[d] = devfd[d] < 0 ? (spawn_devs & 1 << d ? errno : ENOENT) : 0;
	}

	/* The case's root: pivot_root into the tmpfs and detach the old root,
	 * so that nothing of the host is reachable by path.  An initramfs
	 * (plain mode) can't be pivoted away from: chroot, the VM is the wall. */
	if (mount(rdir, rdir, NULL, MS_BIND, NULL) || chdir(rdir)) fail(sfd, 's', -1, errno, "bind root");
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH)) fail(sfd, 's', -1, errno, "detach old root");
	} else if (!plain || chroot(".")) {
		fail(sfd, 's', -1, errno, "pivot_root");
	}
	if (chdir("/")) fail(sfd, 's', -1, errno, "chdir /");


	/* Ready: everything above ran while the executor's previous case did
	 * (prespawn).  Now the case itself: u32 length + frame, parsed here. */
	uint32_t n;
	const char *why;
	if (read_full(syncfd, &n, 4)) _exit(0); /* the executor is done with us */
	unsigned char *frame = n <= MAX_FRAME ? malloc(n ? n : 1) : NULL;
	if (!frame || read_full(syncfd, frame, n) || parse_case(frame, n, c, &why))
		fail(sfd, 's', -1, EPROTO, "case frame");
	close(syncfd);
	if (bmfd >= 0 && plain && (write_file_at(bmfd, "status", "-1") || write_file_at(bmfd, "status", "1")))
		fail(sfd, 's', -1, errno, "reset binfmt_misc"); /* one global instance in a throwaway VM */
	if (bmfd < 0 && c->nregs)
		fail(sfd, 'k', 0, bm_errno, "no private binfmt_misc instance");

	umask(0);
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) fail(sfd, 's', -1, errno, "open root");
	/* Mounts in the case root: a fresh tmpfs at each path but "/" before
	 * the files are made (so they land on it), flags once they exist. */
	for (int i = 0; i < c->nmnts; i++) {
		char *rel = c->mnts[i].path;
		while (*rel == '/') rel++;
		if (!*rel) continue;
		char *tmp = strdup(rel);
		if (!tmp) fail(sfd, 's', -7, ENOMEM, "mount path");
		struct case_inode mp = { 'd', 0755, 0, 0, { NULL }, { 0 } };
		const char *step = materialise_inode(rootfd, tmp, &mp);
		if (step) fail(sfd, 's', -7, errno, strcmp(step, "mkdir") ? step : "mkdir mount point");
		free(tmp);
		if (mount("execspec", c->mnts[i].path, "tmpfs", 0, "mode=0755")) fail(sfd, 's', -7, errno, "mount tmpfs");
	}
	materialise(c, rootfd, sfd, devfd, dev_errno);
	for (int d = 0; d < NDEVS; d++)
		if (devfd[d] >= 0) close(devfd[d]);
	for (int i = 0; i < c->nmnts; i++) {
		unsigned b = c->mnts[i].bits;
		unsigned long fl = (b & MNT_RO ? MS_RDONLY : 0) | (b & MNT_NOSUID ? MS_NOSUID : 0) | (b & MNT_NOEXEC ? MS_NOEXEC : 0);
		if (fl && mount(NULL, c->mnts[i].path, NULL, MS_REMOUNT | MS_BIND | fl, NULL))
			fail(sfd, 's', -7, errno, "remount with flags");
	}
	close(rootfd);

	/* The init itself goes on to the exec: the program is PID 1 of the
	 * case's PID namespace, so its exit takes everything it started with
	 * it, and the executor gets its wait status first hand. */
	case_process(c, sfd, outfd, infd, bmfd, procfd);
}

/* exec.concurrent (LTP execve05): N processes make the same call at once.
 * The case init forks them all from one state (fds, cwd, binfmt_misc
 * instance, writers) and stays behind as their reaper, so none of them is
 * PID 1: the first program to exit would otherwise end the PID namespace
 * under the others mid-exec.  Each child takes the rest of the setup
 * itself (identity, securebits, personality, RLIMIT_NOFILE: per-task state
 * fork copies anyway, and an RLIMIT_NOFILE below our descriptors would
 * refuse the child's own dup2s), says "ready" (READY_FD) and waits at the
 * barrier (GO_FD) until all N have; the init then closes the barrier's
 * write end and every child makes the call through bprm_execve().
 * Child 0 is the caller: its status records and its program's output go to
 * the executor as an ordinary case's do.  Children 1.. are the siblings:
 * one 'J' record each, holding the same records as a response.  Nothing
 * of this runs for a case without exec.concurrent. */
struct conc_child { pid_t pid; int st, out, ws; struct buf sb, ob; };

/* Child i's response records: its own 'o' records (a setup failure, the
 * exec's errno, AT_EXECVE_CHECK), else its wait status; then its output. */
static void conc_records(struct buf *r, const struct conc_child *k, int with_output)
{
	int has_o = 0;
	uint32_t l;
	for (size_t off = 0; record_at(k->sb.p, k->sb.len, off, &l); off += 5 + l)
		has_o |= k->sb.p[off] == 'o';
	if (has_o) {
		buf_add(r, k->sb.p, k->sb.len);
	} else {
		char x = 'x'; int32_t v[2] = { k->ws, 0 };
		rec(r, 'o', &x, 1); rec(r, 'v', v, 8);
	}
	if (with_output && k->ob.len) rec(r, 'p', k->ob.p, k->ob.len);
}

/* Returns in each child (its output pipe in *outfd, its status pipe at
 * STATUS_FD, READY_FD and GO_FD open); the init never returns. */
static void concurrent_fork(struct ccase *c, int sfd, int *outfd)
{
	static struct conc_child k[MAX_CONCURRENT];
	int n = (int)c->concurrent, ready[2], go[2];
	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) fail(sfd, 's', -1, errno, "concurrent: pipe");
	for (int i = 0; i < n; i++) {
		int st[2], out[2];
		/* a failure here ends the init, and with it the children so far */
		if (pipe2(st, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) fail(sfd, 's', -1, errno, "concurrent: pipe");
		pid_t pid = fork();
		if (pid < 0) fail(sfd, 's', -1, errno, "concurrent: fork");
		if (pid == 0) {
			/* everything else of ours below STATUS_FD goes with the
			 * caller's close_range: the init's ends, the other children's */
			if (dup3(st[1], STATUS_FD, O_CLOEXEC) < 0 || dup3(ready[1], READY_FD, O_CLOEXEC) < 0 ||
			    dup3(go[0], GO_FD, O_CLOEXEC) < 0)
				_exit(126);
			*outfd = out[1];
			return;
		}
		close(st[1]); close(out[1]);
		k[i] = (struct conc_child){ .pid = pid, .st = st[0], .out = out[0] };
	}
	close(ready[1]); close(go[0]);
	/* all ready (or dead in their setup: EOF), then all go */
	char b;
	for (int got = 0; got < n;) {
		ssize_t r = read(ready[0], &b, 1);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		got++;
	}
	close(ready[0]); close(go[1]);

	struct pollfd pf[2 * MAX_CONCURRENT];
	for (int i = 0; i < n; i++) {
		pf[2 * i] = (struct pollfd){ k[i].st, POLLIN, 0 };
		pf[2 * i + 1] = (struct pollfd){ k[i].out, POLLIN, 0 };
	}
	size_t total = 0;
	char tmp[65536];
	for (int open_fds = 2 * n; open_fds;) {
		if (poll(pf, 2 * n, -1) < 0) {
			if (errno == EINTR) continue;
			fail(sfd, 's', -1, errno, "concurrent: poll");
		}
		for (int j = 0; j < 2 * n; j++) {
			if (pf[j].fd < 0 || !pf[j].revents) continue;
			ssize_t r = read(pf[j].fd, tmp, sizeof tmp);
			if (r < 0 && errno == EINTR) continue;
			if (r <= 0) { close(pf[j].fd); pf[j].fd = -1; open_fds--; continue; }
			total += r;
			if (total > MAX_OUTPUT) /* our exit ends the PID namespace, the children with it */
				fail(sfd, 'l', MAX_OUTPUT, 0, NULL);
			buf_add(j & 1 ? &k[j / 2].ob : &k[j / 2].sb, tmp, r);
		}
	}
	for (int i = 0; i < n; i++)
		while (waitpid(k[i].pid, &k[i].ws, 0) < 0 && errno == EINTR)
			;
	struct buf r = {0};
	conc_records(&r, &k[0], 0);
	write_full(sfd, r.p, r.len);
	if (k[0].ob.len) write_full(*outfd, k[0].ob.p, k[0].ob.len);
	for (int i = 1; i < n; i++) {
		struct buf s = {0};
		conc_records(&s, &k[i], 1);
		r.len = 0;
		rec(&r, 'J', s.p, s.len);
		write_full(sfd, r.p, r.len);
		free(s.p);
	}
	_exit(0);
}

/* exec.from_thread: the call made by a second thread of the caller, which
 * de_thread() then turns into the whole process (the other threads killed,
 * the leader's pid taken over).  The leader waits to be killed; a call that
 * returns ends the whole thread group through fail()'s _exit. */
struct thread_call { int sfd, at, dirfd; const char *path; char **argv, **envp; unsigned flags; };

static void *thread_call(void *arg)
{
	struct thread_call *t = arg;
	long r = bprm_execve(t->at, t->dirfd, t->path, t->argv, t->envp, t->flags);
	if (r == 0) /* AT_EXECVE_CHECK: checked, not executed */
		fail(t->sfd, 'c', 0, 0, NULL);
	fail(t->sfd, 'e', errno, 0, NULL);
	return NULL;
}

static void call_from_thread(struct thread_call *t)
{
	pthread_attr_t a;
	pthread_t th;
	int e = pthread_attr_init(&a);
	if (!e) e = pthread_attr_setstacksize(&a, 1 << 16);
	if (!e) e = pthread_create(&th, &a, thread_call, t);
	if (e) fail(t->sfd, 's', -1, e, "exec.from_thread: pthread_create");
	for (;;)
		pause();
}

/* In each child, the last thing before the call: ready, then wait for all. */
static void concurrent_barrier(void)
{
	char b = 'r';
	if (write(READY_FD, &b, 1) != 1) _exit(126);
	close(READY_FD);
	while (read(GO_FD, &b, 1) < 0 && errno == EINTR)
		;
	close(GO_FD); /* the fd table is now the one an ordinary case's call sees */
}

/* The rest of the case init: registrations, then the exec call. */
static void case_process(struct ccase *c, int sfd, int outfd, int infd, int bmfd, int procfd)
{
	int plain = !strcmp(mode, "plain");
	/* The probe reads /proc/self/exe through PROC_FD (not close-on-exec);
	 * moved there first, before fds 3.. are reused. */
	if (procfd >= 0 && (dup3(procfd, PROC_FD, 0) < 0 || close(procfd)))
		fail(sfd, 's', -1, errno, "dup procfd");
	/* Files the case holds open for writing, before any registration (an F
	 * rule's open_exec must see them too) and until the exec, so that
	 * deny_write_access() finds i_writecount > 0.  Close-on-exec: the new
	 * program never sees them. */
	for (int i = 0; i < c->nwopen; i++) {
		char *p = dupz(c->wopen[i], c->wlen[i]);
		int fd = hold_write_access(AT_FDCWD, p);
		if (fd < 0 || (fd != WRITE_FD + i && dup3(fd, WRITE_FD + i, O_CLOEXEC) < 0))
			fail(sfd, 's', -10 - i, errno, "open for write");
		if (fd != WRITE_FD + i) close(fd);
		free(p);
	}

	/* Registrations are written in the case's root: F opens the
	 * interpreter with the writer's root, which must be the case's root. */
	for (int i = 0; i < c->nops; i++) {
		if (!c->ops[i].data) { /* unlinkat(2) of a name in the instance */
			char *uname = dupz(c->ops[i].name, c->ops[i].nlen);
			if (strchr(uname, '/')) fail(sfd, 'r', i, EINVAL, "open");
			if (unlinkat(bmfd, uname, 0)) fail(sfd, 'r', i, errno, NULL);
			free(uname);
			continue;
		}
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
	/* The binfmt_misc instance's mount went with the old root: its entries
	 * live as long as its superblock, so the descriptor stays open until
	 * the exec has run the handlers (close-on-exec). */
	if (bmfd >= 0 && bmfd != BM_FD && (dup3(bmfd, BM_FD, O_CLOEXEC) < 0 || close(bmfd)))
		fail(sfd, 's', -1, errno, "keep binfmt_misc");

	if (c->cwd && chdir(c->cwd)) fail(sfd, 's', -1, errno, "chdir cwd");

	/* RLIMIT_STACK sets the E2BIG limit (bprm_stack_limits); 8 MiB unless the case says. */
	prefault_stack();
	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl)) fail(sfd, 's', -1, errno, "getrlimit");
	rl.rlim_cur = !c->have_rlimit ? (8 << 20) : c->rlimit_stack == UINT64_MAX ? RLIM_INFINITY : c->rlimit_stack;
	if (rl.rlim_max != RLIM_INFINITY && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > rl.rlim_max))
		fail(sfd, 's', -3, EPERM, "RLIMIT_STACK above the hard limit");
	if (setrlimit(RLIMIT_STACK, &rl)) fail(sfd, 's', -3, errno, "setrlimit");
	/* A fork bomb stops here (counted per user namespace and uid). */
	struct rlimit np = { CASE_NPROC, CASE_NPROC };
	if (!plain && setrlimit(RLIMIT_NPROC, &np)) fail(sfd, 's', -1, errno, "RLIMIT_NPROC");

	int dirfd = AT_FDCWD;
	if (c->dirfd_path && c->have_memfd) {
		/* memfd_create(2) (MFD_ALLOW_SEALING 2, MFD_NOEXEC_SEAL 8, MFD_EXEC 16),
		 * filled with a copy of the file; before 6.3 the last two are EINVAL */
		int src = open(c->dirfd_path, O_RDONLY | O_CLOEXEC);
		struct stat sst;
		if (src < 0) fail(sfd, 's', -4, errno, "open the memfd's source");
		if (fstat(src, &sst) || !S_ISREG(sst.st_mode)) fail(sfd, 's', -4, EINVAL, "the memfd's source is no regular file");
		/* vm.memfd_noexec is per PID namespace (kernel/pid_sysctl.h): the
		 * case's own, written through the procfs of that namespace.  Its
		 * file lets only the global root write (sysctl_perm): a case root
		 * that is a user namespace's (the sandbox) cannot, a guest's can. */
		if (c->have_mfd_noexec) {
			char v[2] = { (char)('0' + c->mfd_noexec), '\n' };
			int sfdw = procfd >= 0 ? openat(PROC_FD, "sys/vm/memfd_noexec", O_WRONLY | O_CLOEXEC) : -1;
			if (sfdw < 0 || write(sfdw, v, 2) != 2)
				fail(sfd, 'k', 0, procfd < 0 ? ENOENT : errno,
				     "exec.memfd_noexec: this case's root cannot set vm.memfd_noexec here (no sysctl before 6.3; "
				     "only the global root may write it)");
			close(sfdw);
		}
		int fd = (int)syscall(SYS_memfd_create, "execspec", (unsigned long)(c->memfd_flags | 1 /* MFD_CLOEXEC */));
		if (fd < 0) {
			if (errno == EINVAL && (c->memfd_flags & 0x18))
				fail(sfd, 'k', 0, errno, "exec.memfd: no MFD_EXEC / MFD_NOEXEC_SEAL before 6.3");
			fail(sfd, 's', -4, errno, "memfd_create");
		}
		char buf[65536];
		for (;;) {
			ssize_t n = read(src, buf, sizeof buf);
			if (n < 0) fail(sfd, 's', -4, errno, "read the memfd's source");
			if (n == 0) break;
			for (ssize_t o = 0; o < n;) {
				ssize_t w = write(fd, buf + o, n - o);
				if (w <= 0) fail(sfd, 's', -4, errno, "fill the memfd");
				o += w;
			}
		}
		close(src);
		int r = bprm_dirfd_install(fd, c->dirfd_cloexec);
		if (r) fail(sfd, 's', -4, errno, r == 1 ? "dup memfd" : "memfd flags");
		dirfd = 3;
	} else if (c->dirfd_path) {
		int r = bprm_dirfd_open(c->dirfd_path, c->dirfd_opath, c->dirfd_cloexec);
		if (r) fail(sfd, 's', -4, errno, r < 0 ? "open dirfd" : r == 1 ? "dup dirfd" : "dirfd flags");
		dirfd = 3;
	} else if (c->have_dirfd_num) {
		dirfd = c->dirfd_num;
	}
	/* What happens between the open and the exec (execveat.c, LTP execveat03). */
	for (int i = 0; i < c->nafter; i++) {
		int r = c->after[i].op == 'u' ? unlink(c->after[i].a)
		      : c->after[i].op == 'd' ? rmdir(c->after[i].a) : rename(c->after[i].a, c->after[i].b);
		if (r) fail(sfd, 's', -9, errno, "after_open");
	}
	if (c->concurrent > 1) concurrent_fork(c, sfd, &outfd); /* from here on, in each of N children */
	if (dup2(infd, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0) fail(sfd, 's', -1, errno, "dup stdio");
	int first = c->dirfd_path ? 4 : 3;
	/* Everything else closes; the status pipe and the writers stay,
	 * close-on-exec, and PROC_FD stays for the probe (and, concurrent,
	 * READY_FD and GO_FD until the barrier). */
	syscall(SYS_close_range, first, STATUS_FD - 1, 0);
	syscall(SYS_close_range, WRITE_FD + c->nwopen, (c->concurrent > 1 ? GO_FD : BM_FD) - 1, 0);
	syscall(SYS_close_range, procfd >= 0 ? PROC_FD + 1 : PROC_FD, ~0U, 0);

	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);

	/* In a guest (plain mode) the executor is the real root, whose
	 * CAP_SYS_RAWIO lets mmap go below vm.mmap_min_addr (cap_mmap_addr).
	 * A sandbox case runs as a user namespace's root, which lacks it in
	 * init_user_ns: drop it from the bounding set so the new program's
	 * credentials (committed before binfmt_elf maps anything) match.  The
	 * user namespace's root drops it too, so that a root program's
	 * capability sets (bounding set | inheritable) are the same
	 * everywhere: all of CAP_LAST_CAP but CAP_SYS_RAWIO. */
	if (prctl(PR_CAPBSET_DROP, 17 /* CAP_SYS_RAWIO */, 0, 0, 0))
		fail(sfd, 's', -1, errno, "drop CAP_SYS_RAWIO");

	/* The identity that makes the call, after everything opened as root.
	 * Ids beyond what the user namespace maps (an unprivileged executor
	 * maps only 0) make the case a skip, never a different identity. */
	if (c->have_ident) {
		gid_t gs[MAX_GROUPS];
		for (uint32_t i = 0; i < c->ngroups; i++) gs[i] = c->groups[i];
		if (setgroups(c->ngroups, gs)) {
			if (errno == EPERM && !plain && c->ngroups)
				fail(sfd, 'k', 0, errno, "supplementary groups: this user namespace denies setgroups (unprivileged executor)");
			if (errno != EPERM || plain) fail(sfd, 's', -6, errno, "setgroups");
		}
		if (setresgid(c->gid, c->gid, c->gid) || setresuid(c->uid, c->uid, c->uid)) {
			if (errno == EINVAL) fail(sfd, 'k', 0, errno, "exec.uid/gid not mapped here (an unprivileged executor maps only id 0)");
			fail(sfd, 's', -6, errno, "setresuid");
		}
	}
	if (c->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) fail(sfd, 's', -6, errno, "no_new_privs");
	/* SECBIT_EXEC_RESTRICT_FILE / _DENY_INTERACTIVE (and _LOCKED): 6.14
	 * made them settable without CAP_SETPCAP; an older kernel refuses
	 * every bit it does not know (EPERM): the case is a skip there. */
	if (c->have_secbits && prctl(PR_SET_SECUREBITS, (unsigned long)c->secbits, 0, 0, 0)) {
		if (errno == EPERM || errno == EINVAL)
			fail(sfd, 'k', 0, errno, "exec.securebits: this kernel has no EXEC_* securebits (6.14+)");
		fail(sfd, 's', -6, errno, "securebits");
	}

	/* ADDR_NO_RANDOMIZE: load addresses the model can predict (setarch -R) */
	if (c->have_persona && personality(c->persona) < 0) fail(sfd, 's', -6, errno, "personality");
	/* RLIMIT_NOFILE last: every descriptor of ours is open by now (a limit
	 * below them is allowed; it bounds only new ones, AT_EXECFD's among them) */
	if (c->have_nofile) {
		struct rlimit nl;
		if (getrlimit(RLIMIT_NOFILE, &nl)) fail(sfd, 's', -6, errno, "rlimit_nofile");
		if (c->nofile > nl.rlim_max) /* raising the hard limit needs the host's CAP_SYS_RESOURCE */
			fail(sfd, 'k', 0, EPERM, "exec.rlimit_nofile: above this target's hard limit");
		nl.rlim_cur = c->nofile;
		if (setrlimit(RLIMIT_NOFILE, &nl)) fail(sfd, 's', -6, errno, "rlimit_nofile");
	}

	char **argv = c->argv_null ? NULL : c->argv;
	char **envp = c->envp_null ? NULL : c->envp;
	const char *path = c->path_null ? NULL : c->path;
	if (c->concurrent > 1) concurrent_barrier();
	if (c->from_thread) {
		static struct thread_call t;
		t = (struct thread_call){ sfd, c->syscall_nr == 1, dirfd, path, argv, envp, c->flags };
		call_from_thread(&t);
	}
	long r = bprm_execve(c->syscall_nr == 1, dirfd, path, argv, envp, c->flags);
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

/* Reaps finished case inits; with block, all of them. */
static void reap(int block)
{
	for (int i = 0; i < npending;) {
		int st;
		pid_t r = waitpid(pending[i], &st, block ? 0 : WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR)) { i++; continue; }
		pending[i] = pending[--npending];
	}
}

/* A case init cloned ahead of its case (prespawn): its namespaces, id maps,
 * mounts and root switch are ready when the case's frame arrives, so that
 * work (a clone, a few mounts, an RCU grace period for the detached old
 * root) overlaps the previous case instead of adding to each one. */
struct spawn { pid_t pid; int st, out, sy; int err; const char *what; int devs; };
static struct spawn ready;

/* The procfs the id maps are written through: opened once. */
static int proc_dirfd(void)
{
	static int fd = -1;
	if (fd < 0 && (fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) die("open /proc");
	return fd;
}

static void spawn_init(struct spawn *s, int with_devs)
{
	spawn_devs = with_devs; /* read by case_init in the child */
	int plain = !strcmp(mode, "plain");
	int st[2], out[2], in[2], sy[2];
	memset(s, 0, sizeof *s);
	if (pipe2(st, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(in, O_CLOEXEC) || pipe2(sy, O_CLOEXEC))
		die("pipe");
	unsigned long flags = SIGCHLD | CLONE_NEWPID | CLONE_NEWNS | (plain ? 0 : CLONE_NEWUSER);
	/* fork() with namespaces: the raw clone returns 0 in the child like fork */
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		s->err = errno; s->what = "clone";
		close(st[0]); close(st[1]); close(out[0]); close(out[1]); close(in[0]); close(in[1]);
		close(sy[0]); close(sy[1]);
		return;
	}
	if (pid == 0) {
		/* the status pipe at STATUS_FD whatever was there (close-on-exec) */
		if (dup3(st[1], STATUS_FD, O_CLOEXEC) < 0) _exit(126);
		close(st[1]); close(st[0]); close(in[1]); close(out[0]); close(sy[1]);
		close(0); close(1); /* the executor's protocol pipes are not the case's */
		case_init(STATUS_FD, sy[0], out[1], in[0]);
	}
	close(st[1]); close(out[1]); close(in[0]); close(in[1]); close(sy[0]);
	s->pid = pid; s->st = st[0]; s->out = out[0]; s->sy = sy[1]; s->devs = with_devs;
	if (!plain && write_id_maps(proc_dirfd(), pid)) {
		s->err = errno; s->what = "id map";
	} else if (write(sy[1], "g", 1) != 1) {
		s->err = errno; s->what = "sync";
	}
	if (s->err) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(s->st); close(s->out); close(s->sy);
		s->pid = 0;
	}
}

static void unspawn(struct spawn *s)
{
	if (!s->pid) return;
	close(s->sy); /* EOF where it waits for a frame: it exits */
	close(s->st); close(s->out);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
}

static void run_case(struct ccase *c, const unsigned char *frame, uint32_t n, struct buf *resp)
{
	reap(0);
	int need_devs = 0;
	for (int i = 0; i < c->nfiles; i++) {
		int d = dev_index(c->files[i].kind);
		if (d >= 0) need_devs |= 1 << d;
	}
	if (need_devs && ready.pid && (ready.devs & need_devs) != need_devs)
		unspawn(&ready), memset(&ready, 0, sizeof ready); /* the generic init has no device clone */
	if (!ready.pid && !ready.err)
		spawn_init(&ready, need_devs);
	struct spawn cur = ready;
	memset(&ready, 0, sizeof ready);
	if (!cur.pid) {
		char k = 's'; int32_t v[2] = { -1, cur.err };
		rec(resp, 'o', &k, 1); rec(resp, 'v', v, 8); rec(resp, 'm', cur.what, strlen(cur.what));
		return;
	}
	pid_t pid = cur.pid;
	/* a failed write means the init died in its setup: its report says why */
	if (!write_full(cur.sy, &n, 4)) write_full(cur.sy, frame, n);
	close(cur.sy);
	spawn_init(&ready, 0); /* the next case's init, made while this one runs */
	int st[2] = { cur.st, -1 }, out[2] = { cur.out, -1 };

	struct buf sb = {0}, ob = {0};
	struct pollfd pf[2] = { { st[0], POLLIN, 0 }, { out[0], POLLIN, 0 } };
	long deadline = now_ms() + c->timeout_ms;
	int open_fds = 2, timed_out = 0, flooded = 0;
	char tmp[65536];
	while (open_fds) {
		long left = deadline - now_ms();
		if (left <= 0) { timed_out = 1; break; }
		int r = poll(pf, 2, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) die("poll");
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents) continue;
			ssize_t n = read(pf[i].fd, tmp, sizeof tmp);
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) { close(pf[i].fd); pf[i].fd = -1; open_fds--; continue; }
			struct buf *b = i ? &ob : &sb;
			if (b->len + n > MAX_OUTPUT) { flooded = 1; break; }
			buf_add(b, tmp, n);
		}
		if (flooded) break;
	}
	for (int i = 0; i < 2; i++) if (pf[i].fd >= 0) close(pf[i].fd);
	/* The program's exit tears the namespaces down (an RCU grace period
	 * for the mounts) before it can be reaped.  A setup failure's report or
	 * a probe's complete one already tells the outcome: answer now and reap
	 * it later, overlapping that teardown with the next case. */
	int status = 0, failed = 0;
	int report_done = ob.len >= 5 && ob.p[ob.len - 5] == 'Z' && !memcmp(ob.p + ob.len - 4, "\0\0\0\0", 4);
	uint32_t rl;
	for (size_t off = 0; record_at(sb.p, sb.len, off, &rl); off += 5 + rl)
		if (sb.p[off] == 'o') failed = 1;
	if (timed_out || flooded) {
		kill(pid, SIGKILL); /* PID 1: the whole namespace goes */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else if ((failed || report_done) && npending < MAX_PENDING) {
		pending[npending++] = pid;
	} else {
		int ist = 0;
		while (waitpid(pid, &ist, 0) < 0 && errno == EINTR)
			;
		if (!failed) status = ist;
	}
	if (timed_out) {
		char k = 't'; rec(resp, 'o', &k, 1);
	} else if (flooded) {
		char k = 'l'; int32_t v[2] = { MAX_OUTPUT, 0 };
		rec(resp, 'o', &k, 1); rec(resp, 'v', v, 8);
	} else if (failed) {
		buf_add(resp, sb.p, sb.len); /* records from fail(), after any entry texts */
	} else {
		buf_add(resp, sb.p, sb.len); /* entry texts, if any */
		char k = 'x'; int32_t v[2] = { status, 0 };
		rec(resp, 'o', &k, 1);
		rec(resp, 'v', v, 8);
	}
	if (ob.len && !flooded) rec(resp, 'p', ob.p, ob.len);
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

/* As root (userns mode), the executor first moves itself into a mount
 * namespace of its own holding only a tmpfs root, a procfs (for the id
 * maps it writes) and the scratch directory.  Every case's mount namespace
 * is a copy of this one, so copying it and detaching it again after the
 * case's pivot_root costs a few mounts, not the host's hundreds (detaching
 * the host tree took 4 ms a case).  Unprivileged executors skip this. */
static void slim_mount_namespace(void)
{
	static char dir[64];
	/* Not as a container's PID 1 (the docker image's entrypoint): `docker
	 * exec` joins PID 1's mount namespace, which must stay the container's. */
	if (geteuid() != 0 || strcmp(mode, "userns") || getpid() == 1 || getenv("EXECSPEC_NO_SLIM"))
		return;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("unshare the executor's mount namespace");
	if (mount("execspec-executor", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") ||
	    chdir(scratch) || mkdir("proc", 0555) || mkdir("s", 0755) ||
	    mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		die("slim mount namespace");
	/* /dev/null and /dev/loop0 stay reachable for "chardev" and "blockdev"
	 * files, as binds at /null and /loop0 (where the host has them) */
	static const char *const slim[NDEVS] = { "/null", "/loop0" };
	for (int d = 0; d < NDEVS; d++) {
		int nfd = open(slim[d] + 1, O_WRONLY | O_CREAT | O_CLOEXEC, 0); /* a fresh tmpfs: nothing there */
		if (nfd >= 0) close(nfd);
		if (nfd >= 0 && mount(devs[d].path, slim[d] + 1, NULL, MS_BIND, NULL) == 0)
			devs[d].path = slim[d];
	}
	if (syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/"))
		die("pivot the executor");
	snprintf(dir, sizeof dir, "/s");
	scratch = dir;
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
	slim_mount_namespace();

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
		const char *why = "frame longer than MAX_FRAME";
		if (n == UINT32_MAX || parse_case(frame, n, &c, &why)) {
			char k = 'f'; rec(&resp, 'o', &k, 1);
			rec(&resp, 'm', why, strlen(why));
		} else {
			run_case(&c, frame, n, &resp);
			free_case(&c);
		}
		write_frame(&resp);
		free(resp.p);
		free(frame);
	}
	unspawn(&ready);
	reap(1);
	return 0;
}
