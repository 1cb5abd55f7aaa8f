/*
 * The id mapping of a case's user namespace, written from outside it (only
 * a writer in the parent namespace may map ids other than its own): as
 * root, the namespace's uids/gids 0..ID_COUNT-1 go to the unprivileged host
 * range ID_BASE.. (caselimits.h), never to real root; unprivileged, the
 * writer's own uid/gid, with setgroups denied as the kernel then requires.
 * One policy for the executor's cases and simjail's simulators.
 */
#ifndef EXECSPEC_IDMAP_H
#define EXECSPEC_IDMAP_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "caselimits.h"

/* A short string into a control file (an id map, binfmt_misc's status). */
static int write_file_at(int dirfd, const char *name, const char *s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* `procfd`: an open procfs directory in which `pid` is visible. */
static int write_id_maps(int procfd, pid_t pid)
{
	char p[64], m[64];
	int priv = geteuid() == 0;
	snprintf(p, sizeof p, "%d", (int)pid);
	int dfd = openat(procfd, p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) return -1;
	int r = 0;
	if (!priv && write_file_at(dfd, "setgroups", "deny") && errno != ENOENT) r = -1;
	for (int gid = 0; gid < 2 && !r; gid++) {
		unsigned own = gid ? (unsigned)getegid() : (unsigned)geteuid();
		if (priv) snprintf(m, sizeof m, "0 %u %u", (unsigned)ID_BASE, (unsigned)ID_COUNT);
		else snprintf(m, sizeof m, "0 %u 1", own);
		r = write_file_at(dfd, gid ? "gid_map" : "uid_map", m);
	}
	int e = errno;
	close(dfd);
	errno = e;
	return r;
}

#endif
