/*
 * The exec call itself: the one place every execspec C program makes it
 * (the executor's cases, the simulators' launcher, the reproducers), so
 * what the kernel's do_execveat_common() receives is the case and nothing
 * of ours: NULL path/argv/envp passed through, the flags as given, the
 * dirfd at fd 3.  Kept free of caselimits.h and of any caller's helpers:
 * harness/build.py inlines it into the standalone reproducers.
 *
 * Built with -DLIBC_EXEC the call goes through libc's execve()/execveat()
 * wrappers instead of the raw system calls (simulators living in
 * LD_PRELOAD, such as fakechroot, only see libc calls).
 */
#ifndef EXECSPEC_BPRM_CALL_H
#define EXECSPEC_BPRM_CALL_H

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* fd 3 becomes `fd` (consumed), close-on-exec as the case says: 0, or 1
 * when dup3() failed, 2 when setting the flag did (errno set). */
static inline int bprm_dirfd_install(int fd, int cloexec)
{
	if (fd == 3) return fcntl(3, F_SETFD, cloexec ? FD_CLOEXEC : 0) ? 2 : 0;
	if (dup3(fd, 3, cloexec ? O_CLOEXEC : 0) < 0) return 1;
	return close(fd), 0;
}

/* A case's dirfd: its file opened as O_PATH or O_RDONLY|O_NONBLOCK (a FIFO
 * must not block the open) at fd 3.  0, -1 when the open failed, else
 * bprm_dirfd_install()'s code (errno set). */
static inline int bprm_dirfd_open(const char *path, int opath, int cloexec)
{
	int fd = open(path, (opath ? O_PATH : O_RDONLY | O_NONBLOCK) | O_CLOEXEC);
	return fd < 0 ? -1 : bprm_dirfd_install(fd, cloexec);
}

/* execveat(2) when `at`, else execve(2), as the case says.  Returns only
 * when the call does: -1 with errno, or 0 (AT_EXECVE_CHECK: checked, not
 * executed). */
static inline long bprm_execve(int at, int dirfd, const char *path, char **argv, char **envp, unsigned flags)
{
#ifdef LIBC_EXEC
	return at ? execveat(dirfd, path, argv, envp, (int)flags) : execve(path, argv, envp);
#else
	return at ? syscall(SYS_execveat, dirfd, path, argv, envp, flags) : syscall(SYS_execve, path, argv, envp);
#endif
}

#endif
