/*
 * The userspace half of exec: glibc's PATH search and ENOEXEC fallback, run
 * for real inside a case's root.  The executor runs this program as the
 * case's exec'd file (a probe variant: it carries the probe's tag marker,
 * so the executor writes it into the root like a probe), and it makes one
 * library call:
 *
 *   fallback MODE STRIP NAME ARGV0 ARGS...
 *
 * MODE execvp:       execvp(NAME, argv) with the caller's environ
 *      execvpe:      execvpe(NAME, argv, envp)
 *      posix_spawnp: posix_spawnp(&pid, NAME, NULL, NULL, argv, envp), then
 *                    waits and exits as the child did
 * STRIP "1": environ's first entry is the caller's PATH=..., which envp
 *       (the program's environment for execvpe/posix_spawnp) leaves out.
 * argv is ARGV0 ARGS... ("-" as ARGV0 with no ARGS: an empty argv).
 *
 * When the call fails it reports the errno in the probe's record format
 * with tag "\x01fallback-errno" and the errno as argv[0] (harness.userspace
 * turns that into an `error` outcome).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record.h"

__attribute__((used, aligned(8))) static volatile char tagbuf[96] = "\001EXECSPEC-PROBE-TAG\001";

extern char **environ;

/* Its report in the probe's records (record.h), one write. */
static void report_errno(int e)
{
	char num[16];
	struct buf r = {0};
	snprintf(num, sizeof num, "%d", e);
	rec(&r, 'T', "\001fallback-errno", strlen("\001fallback-errno"));
	rec(&r, 'a', num, strlen(num));
	rec(&r, 'Z', "", 0);
	for (size_t off = 0; off < r.len;) {
		ssize_t n = write(1, r.p + off, r.len - off);
		if (n <= 0) _exit(3);
		off += n;
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 5) return 2;
	const char *mode = argv[1], *name = argv[3];
	char **args = argv + 4;
	char *empty[] = { NULL };
	if (argc == 5 && !strcmp(args[0], "-")) args = empty;
	char **envp = environ;
	if (!strcmp(argv[2], "1") && envp[0]) envp = envp + 1;
	if (!strcmp(mode, "execvp")) {
		execvp(name, args);
	} else if (!strcmp(mode, "execvpe")) {
		execvpe(name, args, envp);
	} else if (!strcmp(mode, "posix_spawnp")) {
		pid_t pid;
		int r = posix_spawnp(&pid, name, NULL, NULL, args, envp);
		if (r) report_errno(r);
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(st)) {
			signal(WTERMSIG(st), SIG_DFL);
			kill(getpid(), WTERMSIG(st));
		}
		_exit(WEXITSTATUS(st));
	} else {
		return 2;
	}
	report_errno(errno);
}
