#!/bin/bash
# execspec: proot diverges from Linux: cause: a file named as a directory in the program path ('/' or more after it; Linux: ENOTDIR)
# Linux (the execspec model, and the host kernel): {"outcome": "error", "errno": "ENOTDIR"}
# proot: {"outcome": "error", "errno": "EACCES"}
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
# the probe (static; harness/native/probe.c): prints the argv, envp, auxv and comm it was given
base64 -d <<'EOF' | gzip -d > "$w/probe-static"
H4sIAAAAAAACA+1YbWxTVRg+t123ixv33iEzZaBr8CawKHXFJVITSW97u53FIoNt8rERurkuqGPgdquLQRzpBjup1al/TIxGDX9MTBR/zGXGta6wYYJxTpAffqERaeVjMyIOBK7vufe2aZuCJvLL7CTte96P5/04H2/T87zXV2NiGJQaJrQWUW4WuTTeZchjQtoEZGuQGb5ZVKTZWlDmcGVR6wKURZHhh+IKM3gkuLKo3xD3CUwWbsNppb0Q/fsh5PDYcR6TMzj082ziKfB8MVy2tQKhgUt8/whopcY6ckUiv0Vp0KaGj2meHXyFjNC+K3Su1JPvKk/Izs8lvjYpkXMSmfKRqfWRZcu9lVOaHT9cJUVKEA7FGNfgoT6bC9U548Ek8+s65idSduEuiFGZDB5q3ia1xPkKF/I6YhpOJhNy5Tgmc3jfBEXxFhyau6qweCC2l5OYWLjsQ4p1TnWf+IRmIjmTEl+TdEwng6qqxiHJfq2+Bkx+
H6PZ49A51jW4RyzAEfgii8VEKRhC7WMFoE0UABOuFjH5IXH5OshDh9lmSAg1YfJHg+MbQAv8cGF/TLlDrz/iYTCJYybBD6P+WHCWui7WA4H/YtIiliQ+oI6AK9FDvK37Fcj3mMw0b0u+DPyQtMkxLT0qNUmNTQ1437lB6iDM88OWwYUwI3tEFpMSEUdavhAg+KKhiBvijvPDfWVwMCDwzBidRBu1wJ2iP1EMhfigklGWisiFaBdQX6RddPmIAvqzEHXdwKW9u72OS5pYrweHZZH1OtRHwp2zrMQPe8G5cnvHkBSpZerIpC9V6IxWo4+cmZBFV2tdaIKRIUl/4vA1VdXKhNoSHwEjk+s+mL4HU5+zWgy+6QvfD3GVNj0ehCj0Os7TBdX5iBfiHPExs3niBHAozsqElteSGWc9dU7+lMmFhEynWoTgQRz2sL7Ik/SsKNV8RZ92zkNzFc+Uq+IRXARHMBxko5vpntwJq6HFrwt7hbrQEQEw
wa9wRBFtONIoOjCZ1fOdQNoZxs7x4MWRNwAapTfJMc1boh7q6DjEl0bp9Rr1w4aMrYEwI8VQQ3QS1HB6B2K9pWR8jCqjPopou0ZPhyLKNBAeeVovl7eM9BqHyEe19VTbyFtGrZr+lw5+JhZtovjlgOcrZdHvmIZtxmELMes4AU/K4m6taCKLwshzqQT4ftFEc9bzX6oZfK2ntkQ/LhDQGt1iIK2J6FVVBfMD1FzVbkse8w1p8yHdfIUmOKkZZ9jVp+12aHZjLlii6FZayiYQhMt+LIfGM604oQV4HZ9pLadjqC6iNQ29FxhNoIQ2gUVeaCvryNFw2bvleiM4DrHPAGjS8mq50dyMLM5eT/cD2Gc2dTXofkcbjLT8iS//UlVQI7pSA8dgdZMXr2mSbMCWNOCtTMDrFBDPB6hJA3ZlAp6ggFfyAdxpwNpMgJMCWvMBcBqwMBPAUkBVPoCcBnx7JQNwEvYhqdLNkMXOcKPo13fuYWr96Skb
XjBleKG7+A4gk++Dd21dewKdHfcFegOp35U5syuLnijU6cFCV159ivYYerdBS//B/lbTU5b/hj9t0OUW1kbpYmM9mGc3IqZXYJaWFLFDcLSrQLYMPkNzqko7BKrnhBdMPs663yxxtlCBqfk2zipxgptjvcWmGo6NTxyj9vQW3XtZVR+iGNCHKKaLEySORSKI6L33gX67od9vkjlryFzDrTRhzlqjGdLYr8GnH+zitJe6OeElavei2c3ZIgVubuULFomr2l8ocWtCRbVcjEHzY37Mj/kxP+bH/3kw3s1eT0O917OqfuN6t3dVo1R7S3/8aj2eB20r5UDb461dNsdq+2p71SpH9T3tgTbH6qCj0hAhZO/Z0aN0K61tyK4EehVk797V3qq0Intgx/aO7tadAWTX+baeHmR/bNfOnYEu5RbkV5z5FpHx7jFr8J7Cm78nlBp4k8HT/0E6Nd49claTzcEvycHXsy6D6vxRdHP83QbejHLfUVDW
O8qN8JWGLIX3p95fDLxNyC7AloO3G/GrcuQp/Irc85aHmvPsywED/8AN8KnxN9YJl1LAEgAA
EOF
# the case's files (parents 0755, directory modes set last, the last listed first)
ln -s "$(printf '.')" "$r"'/\015_0.c1by'
mkdir -p "$r"'/b'
mkdir -p "$r"'/b/a'
mkdir -p "$r"'/b' && cp "$w/probe-static" "$r"'/b/\200ayb' && printf 'N3' | dd of="$r"'/b/\200ayb' bs=1 seek=4117 conv=notrunc 2>/dev/null && chmod 0 "$r"'/b/\200ayb'
mkdir -p "$r"'/b/a' && ln -s "$(printf '/nowhere')" "$r"'/b/a/y P'
mkdir -p "$r"'/b' && cp "$w/probe-static" "$r"'/b/a\200a00x\377\200\011\011b\011' && printf 'T5' | dd of="$r"'/b/a\200a00x\377\200\011\011b\011' bs=1 seek=4117 conv=notrunc 2>/dev/null && chmod 10 "$r"'/b/a\200a00x\377\200\011\011b\011'
cp "$w/probe-static" "$r"'/\377\376' && printf 'T6' | dd of="$r"'/\377\376' bs=1 seek=4117 conv=notrunc 2>/dev/null && chmod 10 "$r"'/\377\376'
mkdir -p "$r"'/b/a/.QP0 \011.1Q\011P'
chmod 0 "$r"'/b/a/.QP0 \011.1Q\011P'; chmod 700 "$r"'/b/a'; chmod 0 "$r"'/b'
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
printf '\000\000\000\000\234\377\377\377\000\000\000\000\000\000\000\000\000\000\200\000\000\000\000\000\010\000\000\000\057\142\057\200\141\171\142\057\020\000\000\000\057\142\057\141\057\056\121\120\060\040\011\056\061\121\011\120\377\377\377\377\001\000\000\000\001\000\000\000\170\000\000\000\000' >> "$w/spec"
cd "$r"
proot -r ''"$r"'' -w ''$'/b/a/.QP0 \x09.1Q\x09P''' '/.execspec/launch' 10<"$w/spec" 11>"$w/status" > "$w/out" 2>"$w/err" & pid=$!
( sleep 10; kill -9 $pid 2>/dev/null && echo 'TIMEOUT (a hang)' ) & k=$!
st=0; wait $pid || st=$?; kill $k 2>/dev/null || :
echo "exit status: $st"
if [ -s "$w/status" ]; then echo "the call returned, errno: $(od -An -td4 "$w/status")"; fi
if [ -s "$w/out" ]; then echo 'the program ran; its report:'; od -c "$w/out" | head -40; fi
if [ -s "$w/err" ]; then echo 'stderr:'; head -c 2000 "$w/err"; fi
echo 'Linux: {"outcome": "error", "errno": "ENOTDIR"}'
