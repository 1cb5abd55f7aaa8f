/*
 * A case's root made real: its files[] (directories, regular files,
 * symlinks, FIFOs) with their modes and owners, parents made 0755, and the
 * files it holds open for writing.  The one way every execspec C program
 * makes a case's inodes: the executor (after pivot_root into a fresh
 * tmpfs), simjail (in its jail's tmpfs) and the C reproducer (in its work
 * directory).  Kept free of caselimits.h and of any caller's helpers:
 * harness/build.py inlines it into the standalone reproducers.
 *
 * Paths are relative to `rootfd` (leading '/' skipped; "" is the root
 * itself) and never followed at their last component.  The modes are the
 * case's only with umask 0 (the callers set it).  Each function returns
 * NULL, or the step that failed with errno set, for the caller's report.
 */
#ifndef EXECSPEC_MATERIALISE_H
#define EXECSPEC_MATERIALISE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* One files[] entry.  kind: 'd' directory, 'f' regular file, 'l' symlink
 * (data[0]: its target), 'i' FIFO, 's' unix socket.  A regular file's bytes come in up to
 * three pieces (a probe: its image, the tag slot, the rest). */
struct case_inode {
	char kind;
	unsigned mode;
	uint32_t uid, gid;
	const void *data[3];
	size_t len[3];
};

static inline int inode_write(int fd, const unsigned char *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = write(fd, p + off, n - off);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		off += r;
	}
	return 0;
}

/* The owner before the mode (chown clears the set-id bits); 0:0 stays as
 * made.  Through `fd` when there is one. */
static inline int inode_chown(int rootfd, const char *rel, int fd, const struct case_inode *f, int flags)
{
	if (!f->uid && !f->gid) return 0;
	return fd >= 0 ? fchown(fd, f->uid, f->gid) : fchownat(rootfd, *rel ? rel : ".", f->uid, f->gid, flags);
}

/* mkdir -p of rel's parent directories, 0755. */
static inline int materialise_parents(int rootfd, char *rel)
{
	for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		if (s == rel) continue;
		*s = 0;
		int r = mkdirat(rootfd, rel, 0755) && errno != EEXIST;
		*s = '/';
		if (r) return -1;
	}
	return 0;
}

/* A regular file: created (never through a symlink, never over another
 * file), written, owned, then its mode. */
static inline const char *materialise_regular(int rootfd, const char *rel, const struct case_inode *f)
{
	int fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) return "create";
	for (int i = 0; i < 3; i++)
		if (inode_write(fd, f->data[i], f->len[i])) return "write";
	if (inode_chown(rootfd, rel, fd, f, 0)) return "chown";
	if (fchmod(fd, f->mode & 07777)) return "chmod";
	close(fd);
	return NULL;
}

static inline const char *materialise_symlink(int rootfd, const char *rel, const struct case_inode *f)
{
	char *t = malloc(f->len[0] + 1);
	if (!t) return "symlink";
	memcpy(t, f->data[0], f->len[0]);
	t[f->len[0]] = 0;
	int r = symlinkat(t, rootfd, rel);
	free(t);
	if (r) return "symlink";
	return inode_chown(rootfd, rel, -1, f, AT_SYMLINK_NOFOLLOW) ? "chown" : NULL;
}

static inline const char *materialise_fifo(int rootfd, const char *rel, const struct case_inode *f)
{
	if (mknodat(rootfd, rel, S_IFIFO | 0600, 0)) return "mkfifo";
	if (inode_chown(rootfd, rel, -1, f, AT_SYMLINK_NOFOLLOW)) return "chown";
	/* EOPNOTSUPP: libc could not change it without following (no
	 * fchmodat2 and no /proc there): the FIFO keeps 0600 */
	if (fchmodat(rootfd, rel, f->mode & 07777, AT_SYMLINK_NOFOLLOW) && errno != EOPNOTSUPP) return "chmod";
	return NULL;
}

/* bind(2) a unix socket named `name` inside directory `dfd`, then close
 * it (its inode stays): from inside the directory, since sun_path holds
 * only the name; the caller's cwd is restored.  NULL or the failed step. */
static inline const char *socket_bind_in(int dfd, const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *step = "socket";
	if (strlen(name) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return "socket name"; }
	strcpy(a.sun_path, name);
	int cwd = open(".", O_PATH | O_CLOEXEC), s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cwd >= 0 && s >= 0 && !fchdir(dfd)) step = bind(s, (struct sockaddr *)&a, sizeof a) ? "bind socket" : NULL;
	int e = errno;
	if (cwd >= 0 && fchdir(cwd) && !step) { e = errno; step = "chdir back"; }
	if (s >= 0) close(s);
	if (cwd >= 0) close(cwd);
	errno = e;
	return step;
}

/* A unix socket at rel (its name at most SOCKET_NAME_MAX bytes:
 * contract.case), owned, then its mode. */
static inline const char *materialise_socket(int rootfd, const char *rel, const struct case_inode *f)
{
	const char *slash = strrchr(rel, '/'), *step = "socket directory";
	char *dir = strndup(rel, slash ? (size_t)(slash - rel) : 0);
	int dfd = dir ? openat(rootfd, *dir ? dir : ".", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	free(dir);
	if (dfd >= 0) step = socket_bind_in(dfd, slash ? slash + 1 : rel);
	int e = errno;
	if (dfd >= 0) close(dfd);
	errno = e;
	if (step) return step;
	if (inode_chown(rootfd, rel, -1, f, AT_SYMLINK_NOFOLLOW)) return "chown";
	return fchmodat(rootfd, rel, f->mode & 07777, 0) ? "chmod" : NULL;
}

/* One inode at `path`, its parents first.  A directory is made 0755 here;
 * its owner and mode come from materialise_dir_mode() once everything
 * under it exists (a mode without write or search permission must not
 * block its children). */
static inline const char *materialise_inode(int rootfd, char *path, const struct case_inode *f)
{
	char *rel = path;
	while (*rel == '/') rel++;
	if (!*rel) {
		if (f->kind == 'd') return NULL;
		errno = EINVAL;
		return "file at /";
	}
	if (materialise_parents(rootfd, rel)) return "mkdir parent";
	switch (f->kind) {
	case 'd': return mkdirat(rootfd, rel, 0755) && errno != EEXIST ? "mkdir" : NULL;
	case 'f': return materialise_regular(rootfd, rel, f);
	case 'l': return materialise_symlink(rootfd, rel, f);
	case 'i': return materialise_fifo(rootfd, rel, f);
	case 's': return materialise_socket(rootfd, rel, f);
	}
	errno = EINVAL;
	return "file kind";
}

/* A directory's owner and mode, set after everything under it is made:
 * call it for the directories in reverse order (deepest last listed). */
static inline const char *materialise_dir_mode(int rootfd, char *path, const struct case_inode *f)
{
	char *rel = path;
	while (*rel == '/') rel++;
	if (inode_chown(rootfd, rel, -1, f, 0)) return "chown";
	return fchmodat(rootfd, *rel ? rel : ".", f->mode & 07777, 0) ? "chmod dir" : NULL;
}

/* A file the case holds open for writing until its exec (close-on-exec:
 * the new program never sees it), so that deny_write_access() finds
 * i_writecount > 0 (ETXTBSY).  The descriptor, or -1 with errno set. */
static inline int hold_write_access(int dirfd, const char *path)
{
	return openat(dirfd, path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

#endif
