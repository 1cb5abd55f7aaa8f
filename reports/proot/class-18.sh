#!/bin/bash
# execspec: proot diverges from Linux: cause: an ELF interpreter (PT_INTERP) that is a crafted ELF with a PT_LOAD with p_filesz over p_memsz
# Linux (the execspec model, and the host kernel): {"outcome": "signal", "signal": "SIGSEGV"}
# proot: {"outcome": "exit", "status": 42}
# Runs the simulator on the case below; needs bash, cc (static libc), gzip, base64.
# The launcher makes the exec call; if the call returns, its errno is printed; a probe
# (a libc-free program) prints its argv, envp, AT_EXECFN and comm when it runs.
if [ "$(id -u)" = 0 ]; then echo "run this as an unprivileged user: the case runs unjailed" >&2; exit 2; fi
export PATH="${PATH:-/usr/local/bin:/usr/bin:/bin}:/usr/sbin:/sbin"
set -eu
echo "kernel: $(uname -r) $(uname -v)"
w=$(mktemp -d /tmp/execspec-repro.XXXXXX)
trap 'chmod -R u+rwx "$w" 2>/dev/null; rm -rf "$w"' EXIT
r=$w/root && mkdir "$r"
# the case's files (parents 0755, directory modes set last, the last listed first)
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000\076\000\001\000\000\000\260\000\001\000\000\000\000\000\100\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\100\0008\000\002\000\100\000\000\000\000\000\001\000\000\000\007\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\001\000\000\000\000\000\276\000\000\000\000\000\000\000\276\000\000\000\000\000\000\000\000\000\001\000\000\000\000\000\003\000\000\000\004\000\000\000' > "$r"'/e'
printf '\276\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\277\052\000\000\000\270\347\000\000\000\017\005\017\013/lib/ld\000' >> "$r"'/e' && chmod 755 "$r"'/e'
mkdir -p "$r"'/lib' && printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000\076\000\001\000\000\000\200\000\000\000\000\000\000\000\100\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\100\0008\000\001\000\100\000\000\000\000\000\001\000\000\000\005\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\216\000\000\000\000\000\000\000\215\000\000\000\000\000\000\000\000\020\000\000\000\000\000\000\000\000\000\000\000\000\000\000' > "$r"'/lib/ld'
printf '\277\052\000\000\000\270\347\000\000\000\017\005\017\013' >> "$r"'/lib/ld' && chmod 755 "$r"'/lib/ld'
mkdir -p "$r/.execspec"
cat > "$w/launch.c" <<'EXECSPEC_EOF'
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

/* inlined: harness/native/bprm_call.h (the C core every execspec program shares) */
#include <sys/syscall.h>
static inline int bprm_dirfd_install(int fd, int cloexec) { if (fd == 3) return fcntl(3, F_SETFD, cloexec ? FD_CLOEXEC : 0) ? 2 : 0; if (dup3(fd, 3, cloexec ? O_CLOEXEC : 0) < 0) return 1; return close(fd), 0; }
static inline int bprm_dirfd_open(const char *path, int opath, int cloexec) { int fd = open(path, (opath ? O_PATH : O_RDONLY | O_NONBLOCK) | O_CLOEXEC); return fd < 0 ? -1 : bprm_dirfd_install(fd, cloexec); }
static inline long bprm_execve(int at, int dirfd, const char *path, char **argv, char **envp, unsigned flags) { return at ? syscall(SYS_execveat, dirfd, path, argv, envp, flags) : syscall(SYS_execve, path, argv, envp); }

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
EXECSPEC_EOF
cc -static -O2 -o "$r/.execspec/launch" "$w/launch.c" || exit 2
# the exec call (harness/native/launch.c's input format)
: > "$w/spec"
printf '\000\000\000\000\234\377\377\377\000\000\000\000\000\000\000\000\000\000\200\000\000\000\000\000\002\000\000\000\057\145\001\000\000\000\057\377\377\377\377\002\000\000\000\001\000\000\000\145\001\000\000\000\061\001\000\000\000\003\000\000\000\113\075\126' >> "$w/spec"
cd "$r"
proot -r ''"$r"'' -w ''/'' '/.execspec/launch' 10<"$w/spec" 11>"$w/status" > "$w/out" 2>"$w/err" & pid=$!
( sleep 10; kill -9 $pid 2>/dev/null && echo 'TIMEOUT (a hang)' ) & k=$!
st=0; wait $pid || st=$?; kill $k 2>/dev/null || :
echo "exit status: $st"
if [ -s "$w/status" ]; then echo "the call returned, errno: $(od -An -td4 "$w/status")"; fi
if [ -s "$w/out" ]; then echo 'the program ran; its report:'; od -c "$w/out" | head -40; fi
if [ -s "$w/err" ]; then echo 'stderr:'; head -c 2000 "$w/err"; fi
echo 'Linux: {"outcome": "signal", "signal": "SIGSEGV"}'
