/*
 * execspec launcher: makes one exec call exactly as a case says, for
 * targets where the exec must happen inside a simulator (PRoot, ...): the
 * simulator starts this static program in the case's root, and its
 * execve/execveat is the simulator's to handle.
 *
 * The call comes on fd 10 as: u32 syscall (0 execve, 1 execveat), i32 dirfd
 * (-100 = AT_FDCWD; -2 = open dirfd_path as fd 3), u32 flags, u32
 * dirfd_flags (1 O_PATH, 2 cloexec), u64 rlimit_stack (~0 = infinity),
 * then strings (u32 length, bytes; length ~0 = NULL): path, cwd,
 * dirfd_path, then u32 argc (~0 = NULL argv) + strings, u32 envc (~0) +
 * strings.  If the call returns, its errno goes to fd 11 (4 bytes).
 *
 * The call is bprm_call.h's, as the executor's.  Built twice: static with
 * the raw system calls, and dynamic with -DLIBC_EXEC, its exec through
 * libc's wrappers, for simulators that live in LD_PRELOAD (fakechroot) and
 * see only libc calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bprm_call.h"

static unsigned char *buf;
static size_t len, pos;

static void die(int e) { if (write(11, &e, 4) < 0) _exit(125); _exit(126); }

static uint32_t u32(void) { uint32_t v; if (pos + 4 > len) die(EPROTO); memcpy(&v, buf + pos, 4); pos += 4; return v; }
static uint64_t u64(void) { uint64_t v; if (pos + 8 > len) die(EPROTO); memcpy(&v, buf + pos, 8); pos += 8; return v; }

static char *str(void)
{
	uint32_t n = u32();
	if (n == UINT32_MAX) return NULL;
	if (pos + n > len) die(EPROTO);
	char *s = malloc(n + 1);
	memcpy(s, buf + pos, n); s[n] = 0; pos += n;
	return s;
}

static char **vec(void)
{
	uint32_t n = u32();
	if (n == UINT32_MAX) return NULL;
	char **v = calloc(n + 1, sizeof *v);
	for (uint32_t i = 0; i < n; i++) v[i] = str();
	return v;
}

int main(void)
{
	size_t cap = 1 << 16;
	buf = malloc(cap);
	for (;;) {
		if (len == cap) buf = realloc(buf, cap *= 2);
		ssize_t r = read(10, buf + len, cap - len);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) die(errno);
		if (r == 0) break;
		len += r;
	}
	close(10);
	uint32_t sc = u32(); int32_t dirfd = (int32_t)u32(); uint32_t flags = u32(), dflags = u32();
	uint64_t rl = u64();
	char *path = str(), *cwd = str(), *dirfd_path = str();
	char **argv = vec(), **envp = vec();
	if (cwd && chdir(cwd)) die(errno);
	struct rlimit lim;
	if (getrlimit(RLIMIT_STACK, &lim) == 0) {
		lim.rlim_cur = rl == UINT64_MAX ? RLIM_INFINITY : rl;
		if (setrlimit(RLIMIT_STACK, &lim)) die(errno);
	}
	if (dirfd == -2) {
		if (bprm_dirfd_open(dirfd_path, dflags & 1, dflags & 2)) die(errno);
		dirfd = 3;
	}
	fcntl(11, F_SETFD, FD_CLOEXEC);
	long r = bprm_execve(sc == 1, dirfd, path, argv, envp, flags);
	int e = r == 0 ? 0 : errno;
	if (write(11, &e, 4) < 0) _exit(125);
	_exit(127);
}
