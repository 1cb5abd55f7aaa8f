/*
 * execspec simjail: runs a simulator (PRoot, qemu-user, valgrind, ...) on
 * one case the way the executor runs a case's program: never as real root,
 * never outliving its case, never writing the host.
 *
 *   simjail --fds A,B,C,D --root DIR [--chroot CWD] [--rlimit-stack N|inf] -- CMD ARGS...
 *
 * --fds moves descriptors A..D (inherited, any numbers above 13) to 10..13
 * first: 10 and 11 are the launcher's (harness/native/launch.c), 12 and 13
 * ours.
 * fd 12 holds the case's file records, read to EOF: u8 type, u32 mode,
 * u32 len + path (relative to the root), u32 len + data, with types
 *   d dir, f file, l symlink (data: target), p fifo,
 *   b a host file or directory bind-mounted read-only at path (data: host
 *     path; a directory with everything mounted under it),
 *   P a procfs of the case's PID namespace at path, T a tmpfs at path,
 *   w the path held open for writing until the simulator ends (ETXTBSY).
 * fd 13 gets the result: 'W' + i32 wait status of CMD, after any number
 * of 'S' + u32 len + message records (a set-up failure: then CMD never ran).  Every other descriptor
 * (10, 11 for the launcher; 0-2) passes through to CMD unchanged.
 *
 * What it sets up (the same guarantees as harness/native/executor.c):
 *   - a new user namespace whose uid/gid 0 is ID_BASE on the host when we
 *     are root (caselimits.h), else our own ids; supplementary groups dropped
 *     (where the kernel allows: not in an unprivileged namespace);
 *   - a new PID namespace: we are its PID 1 and exit when CMD ends, which
 *     kills everything CMD left behind; we die with our parent;
 *   - a new mount namespace in which every host mount is read-only and
 *     nosuid (mount_setattr, recursive; no fallback: if that fails nothing
 *     runs), /tmp, /var/tmp and /dev/shm are private tmpfs, /proc is the new
 *     PID namespace's, and DIR is a fresh tmpfs holding the case's files --
 *     the only writable places, and all gone with the namespace;
 *   - RLIMIT_NPROC (CASE_NPROC) for CMD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caselimits.h"
#include "idmap.h"
#include "mount_api.h"
#include "materialise.h"

#define REC_FD 12
#define RES_FD 13

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
struct mount_attr_ { uint64_t attr_set, attr_clr, propagation, userns_fd; };
#define MOUNT_ATTR_RDONLY_ 0x1
#define MOUNT_ATTR_NOSUID_ 0x2

static void fail(const char *fmt, ...)
{
	char m[4200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(m + 5, sizeof m - 5, fmt, ap);
	va_end(ap);
	m[0] = 'S';
	if (n < 0) n = 0;
	if (n > (int)sizeof m - 6) n = sizeof m - 6;
	uint32_t len = n;
	memcpy(m + 1, &len, 4);
	if (write(RES_FD, m, n + 5) < 0) _exit(124);
	_exit(125);
}

/* --- the records --- */
static unsigned char *rb;
static size_t rlen, rpos;

static uint32_t u32(void)
{
	uint32_t v;
	if (rpos + 4 > rlen) fail("truncated file records");
	memcpy(&v, rb + rpos, 4);
	rpos += 4;
	return v;
}

static char *str(uint32_t *n_out)
{
	uint32_t n = u32();
	if (n > rlen - rpos) fail("truncated file records");
	char *s = malloc(n + 1);
	if (!s) fail("out of memory");
	memcpy(s, rb + rpos, n);
	s[n] = 0;
	rpos += n;
	if (n_out) *n_out = n;
	return s;
}

static void read_records(void)
{
	size_t cap = 1 << 16;
	rb = malloc(cap);
	for (;;) {
		if (rlen == cap && !(rb = realloc(rb, cap *= 2))) fail("out of memory");
		ssize_t r = read(REC_FD, rb + rlen, cap - rlen);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) fail("read file records: %s", strerror(errno));
		if (r == 0) break;
		rlen += r;
	}
	close(REC_FD);
}

struct dmode { char *path; unsigned mode; };

/* Host files to bind into the root, cloned (read-only, nosuid like every
 * host mount here) before /tmp is replaced: they may live there. */
#define MAX_BINDS 16
static int binds[MAX_BINDS], nbinds;

static void clone_binds(void)
{
	size_t save = rpos;
	while (rpos < rlen) {
		char type = rb[rpos++];
		u32();
		free(str(NULL));
		char *data = str(NULL);
		if (type != 'b') { free(data); continue; }
		if (nbinds >= MAX_BINDS) fail("too many bind records");
		int fd = (int)syscall(SYS_open_tree, AT_FDCWD, data, OPEN_TREE_CLONE_ | AT_RECURSIVE | O_CLOEXEC);
		if (fd < 0) fail("clone %s: %s", data, strerror(errno));
		binds[nbinds++] = fd;
		free(data);
	}
	rpos = save;
	nbinds = 0;  /* materialise() takes them in order */
}

/* The case's inodes are materialise.h's, as the executor makes them; the
 * rest (binds, procfs, tmpfs) is the simulator's root around them. */
static void materialise(int *wfds, int *nw)
{
	struct dmode *dirs = calloc(rlen / 13 + 1, sizeof *dirs);
	int nd = 0;
	umask(0);
	while (rpos < rlen) {
		char type = rb[rpos++];
		unsigned mode = u32();
		uint32_t dlen;
		char *path = str(NULL), *data = str(&dlen);
		const char *p = *path ? path : ".", *step;
		/* 'p' is a FIFO here, 'i' in materialise.h */
		struct case_inode ino = { type == 'p' ? 'i' : type, mode, 0, 0, { data }, { dlen } };
		if (type && strchr("dflp", type)) {
			if ((step = materialise_inode(AT_FDCWD, path, &ino))) fail("%s /%s: %s", step, path, strerror(errno));
			free(data);
			if (type == 'd') dirs[nd].path = path, dirs[nd++].mode = mode;  /* its mode comes last */
			else free(path);
			continue;
		}
		if (*path && materialise_parents(AT_FDCWD, path)) fail("mkdir parent /%s: %s", path, strerror(errno));
		switch (type) {
		case 'b': {
			struct stat st;
			if (nbinds >= MAX_BINDS) fail("too many bind records");
			if (fstat(binds[nbinds], &st)) fail("stat %s: %s", data, strerror(errno));
			if (S_ISDIR(st.st_mode)) {
				if (mkdir(p, 0755) && errno != EEXIST) fail("mkdir /%s: %s", path, strerror(errno));
			} else {
				int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
				if (fd < 0) fail("create /%s: %s", path, strerror(errno));
				close(fd);
			}
			if (syscall(SYS_move_mount, binds[nbinds++], "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH_))
				fail("bind %s at /%s: %s", data, path, strerror(errno));
			break;
		}
		case 'P':
			if ((mkdir(p, 0555) && errno != EEXIST)
			    || mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
				fail("procfs at /%s: %s", path, strerror(errno));
			break;
		case 'T':
			if ((mkdir(p, 01777) && errno != EEXIST) || mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"))
				fail("tmpfs at /%s: %s", path, strerror(errno));
			break;
		case 'w': {
			int fd = hold_write_access(AT_FDCWD, p);
			if (fd < 0) fail("open /%s for writing: %s", path, strerror(errno));
			if (*nw < MAX_WOPEN) wfds[(*nw)++] = fd;
			break;
		}
		default:
			fail("bad file record type %d", type);
		}
		free(path);
		free(data);
	}
	for (int i = nd - 1; i >= 0; i--) {
		struct case_inode ino = { 'd', dirs[i].mode, 0, 0, { NULL }, { 0 } };
		const char *step = materialise_dir_mode(AT_FDCWD, dirs[i].path, &ino);
		if (step) fail("%s /%s: %s", step, dirs[i].path, strerror(errno));
	}
}

static void private_tmpfs(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) return;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")) fail("tmpfs at %s: %s", dir, strerror(errno));
}

static void mkdirs(const char *path)
{
	char p[4096];
	if (strlen(path) >= sizeof p) fail("root path too long");
	strcpy(p, path);
	for (char *s = p + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST) fail("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST) fail("mkdir %s: %s", p, strerror(errno));
}

int main(int argc, char **argv)
{
	const char *root = NULL, *chroot_cwd = NULL, *stack = NULL;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) { i++; break; }
		if (i + 1 >= argc) fail("usage: simjail --root DIR [--chroot CWD] [--rlimit-stack N] -- CMD...");
		if (!strcmp(argv[i], "--root")) root = argv[++i];
		else if (!strcmp(argv[i], "--chroot")) chroot_cwd = argv[++i];
		else if (!strcmp(argv[i], "--rlimit-stack")) stack = argv[++i];
		else if (!strcmp(argv[i], "--fds")) {
			int f[4];
			if (sscanf(argv[++i], "%d,%d,%d,%d", &f[0], &f[1], &f[2], &f[3]) != 4) _exit(126);
			for (int k = 0; k < 4; k++) {
				if (f[k] <= RES_FD || dup2(f[k], 10 + k) < 0) _exit(126);
				close(f[k]);
			}
		}
		else fail("unknown option %s", argv[i]);
	}
	if (!root || *root != '/' || i >= argc) fail("usage: simjail --root DIR [--chroot CWD] [--rlimit-stack N] -- CMD...");
	if (fcntl(RES_FD, F_SETFD, FD_CLOEXEC) || fcntl(REC_FD, F_SETFD, FD_CLOEXEC))
		_exit(126);  /* nowhere to say why */

	/* die with the harness, even killed (its jail's PID 1 dies with us): an
	 * orphaned jail was seen running on after a report was killed */
	pid_t harness = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != harness) _exit(126);

	int sy[2], alive[2];  /* alive: held open by the outside, its EOF says it died */
	if (pipe2(sy, O_CLOEXEC) || pipe2(alive, O_CLOEXEC)) fail("pipe: %s", strerror(errno));
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS, NULL, NULL, NULL, NULL);
	if (pid < 0) fail("clone (user, PID and mount namespaces): %s", strerror(errno));
	if (pid > 0) {
		/* outside: the id maps, then wait; our exit status is the jail's */
		close(sy[0]);
		close(alive[0]);  /* alive[1] stays open as long as we live */
		close(RES_FD);
		close(REC_FD);
		int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0 || write_id_maps(procfd, pid)) {
			kill(pid, SIGKILL);
			_exit(126);
		}
		if (write(sy[1], "g", 1) != 1) _exit(126);
		close(sy[1]);
		int st;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR) _exit(126);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 126);
	}

	/* PID 1 of the jail: die with our parent (EOF on the sync pipe means it
	 * died before the maps were written). */
	char go;
	close(sy[1]);
	close(alive[1]);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sy[0], &go, 1) != 1) fail("the id maps were not written (as root: is %u.. free?)", (unsigned)ID_BASE);
	close(sy[0]);
	if (setgroups(0, NULL) && errno != EPERM) fail("setgroups: %s", strerror(errno));
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0)) fail("setresuid: %s", strerror(errno));
	/* a credential change clears the parent-death signal (commit_creds):
	 * set it again, then make sure the outside did not die in between */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct pollfd pf = { .fd = alive[0], .events = POLLIN };
	if (poll(&pf, 1, 0) != 0) _exit(126);  /* EOF (or data, never sent): it is gone */
	close(alive[0]);

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) fail("make / private: %s", strerror(errno));
	struct mount_attr_ ma = { .attr_set = MOUNT_ATTR_RDONLY_ | MOUNT_ATTR_NOSUID_ };
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &ma, sizeof ma))
		fail("cannot make the host's mounts read-only (mount_setattr, Linux 5.12+): %s", strerror(errno));
	read_records();
	clone_binds();
	private_tmpfs("/tmp");
	private_tmpfs("/var/tmp");
	private_tmpfs("/dev/shm");
	/* this PID namespace's procfs (best effort: a container's masked /proc
	 * refuses it; the host's then stays, read-only) */
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

	mkdirs(root);
	if (mount("execspec", root, "tmpfs", 0, "mode=0755") || chdir(root))
		fail("tmpfs at %s: %s", root, strerror(errno));
	int wfds[MAX_WOPEN], nw = 0;
	materialise(wfds, &nw);
	if (chdir("/")) fail("chdir /: %s", strerror(errno));

	pid_t child = fork();
	if (child < 0) fail("fork: %s", strerror(errno));
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int k = 0; k < nw; k++) close(wfds[k]);
		struct rlimit rl = { CASE_NPROC, CASE_NPROC };
		setrlimit(RLIMIT_NPROC, &rl);
		if (chroot_cwd && (chroot(root) || chdir(chroot_cwd)))
			fail("chroot %s, chdir %s: %s", root, chroot_cwd, strerror(errno));
		if (!chroot_cwd && chdir(root)) fail("chdir %s: %s", root, strerror(errno));
		if (stack && getrlimit(RLIMIT_STACK, &rl) == 0) {
			rl.rlim_cur = !strcmp(stack, "inf") ? RLIM_INFINITY : strtoull(stack, NULL, 10);
			if (setrlimit(RLIMIT_STACK, &rl)) fail("setrlimit stack %s: %s", stack, strerror(errno));
		}
		execvp(argv[i], argv + i);
		fail("exec %s: %s", argv[i], strerror(errno));
	}
	/* PID 1 reaps what CMD orphans until CMD itself ends; then we exit and
	 * the kernel kills the rest of the namespace. */
	int st = 0;
	for (;;) {
		pid_t r = waitpid(-1, &st, 0);
		if (r == child) break;
		if (r < 0 && errno != EINTR) fail("waitpid: %s", strerror(errno));
	}
	char res[5] = { 'W' };
	int32_t v = st;
	memcpy(res + 1, &v, 4);
	if (write(RES_FD, res, 5) != 5) _exit(124);
	_exit(0);
}
