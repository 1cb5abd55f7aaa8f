#!/bin/bash
# execspec: proot diverges from Linux: errno | model error ETXTBSY -> simulator error EINVAL
# Linux (the execspec model, and the host kernel): {"outcome": "error", "errno": "ETXTBSY"}
# proot: {"outcome": "error", "errno": "EINVAL"}
# Runs the simulator on the case below; needs bash, cc (static libc), gzip, base64.
# The launcher makes the exec call; if the call returns, its errno is printed; a probe
# (a libc-free program) prints its argv, envp, AT_EXECFN and comm when it runs.
if [ "$(id -u)" = 0 ]; then echo "run this as an unprivileged user: the case runs unjailed" >&2; exit 2; fi
set -eu
echo "kernel: $(uname -r) $(uname -v)"
w=$(mktemp -d /tmp/execspec-repro.XXXXXX)
trap 'chmod -R u+rwx "$w" 2>/dev/null; rm -rf "$w"' EXIT
r=$w/root && mkdir "$r"
# the probe (pie; harness/native/probe.c): prints the argv, envp, auxv and comm it was given
base64 -d <<'EOF' | gzip -d > "$w/probe-pie"
H4sIAAAAAAACA+1Yb0wUVxB/e8cdWzl3z9ZrSKHhPlxTTuXKASbSVutyt7DE1VIBawSDhxxiw5+Wu0vRGG1zgLyc29KmH5qmNWli0ib9UJM2hBiVK7RgG7VKjH9qUhNSwxkQSVVKlXKdt/dWuY0G7Z9vTLI3O7Nv5jczb97b27dPlIsNDIM0MqI1iEhnqGot1U9a7w0B3Spkht/FyKKONaGH09HUZI6oH2JnhiuXT8i5WTpO8cuWMEl2hnnszqBkzlJedjVYlwK815yQ9XwFSuYplL8Gdmb06KSVaSPFe9Q4mTmcmSM/Lknu6xIelcK/TcbeAh+3IrbdLoQ6pvj2Y/BUqBTw77Ji6gSdUFF5jOCUS/huH4Hjs7wIvXuH6IJlAh4XnOfEwnMiXzIi4qsCPivhixuUzOWC8xKfhfieXEGxMFI4yghdBWxp4UBo3MuMyMwYtrHgXXSOhL6p2ipUC1sH+Ky1SHT/qPr34tNe508SnpaZQd4k
hadngqzUEd3LCcx3EdvpHIir8GzrJeEoCUMsHBH54hH38LXd8Xhc9QPR3jxOopXC4+zarj2OFEmBH7zUEVsCYyD346TssRQQIgUOCV+J/TkL+vD3bBU4QJUSvl3uvgzWVr7H3B4NPl2vxqV4GAkPSEyM70Ht0dAkcZ2WAAL/abjaYYkdJo5AsiQgPk/4teJfJXyjauu1D0DuFl53D0vKyiOZkMgmKHdFZTlgSVKE53tMh0Ar4T0OVsIWh6RU/2yFAGwJ/CLA75eYSYrfV6FCNzrsslLnyFTzAb/T0P99mwh6PihkyPAI6XAJT/Q1A5dx0GGPXYRA1ndM7W0S3VOqNeQtRbwOVnTHN0QaJ1mB7xEBJfhUfbeglDCleEjWEr+h5izj0UGvI9NXGh5kvBCwPfbtX/G4mjbkGvsCBC+eleH2U7iVCwscoYNyJB9Ag7WJegKEWXRfJwVOyIoIOD/IWoJJOH4pPMB6MSQbk+fivEKc4z+8eCJW
QG5VhNAhKeJhZSVA+oZvv6nWqdqRMbaZ9Ad0VGpodWmkmAXHGUUS9jrsiWnEV4YAilQrNjpDQQA/9gsRWIp4CgQwtkLiVtX9R2qrTbN8+xvg5W073BtCn2j+var/sYP1Lj6rPbH+wtNZoWPrI3uh2NehCKlQgaVQ/3v5Tz8g/80EjuY/Mzf/GVLnCRnHYwVqYGYSU0ej2ugxSalwuAcJZJSRCvtDt3o/A7s+sgNBD+IJ3tTnIdk+AaUTjpCdqTcNQGH573iG1Gzl12T4kBpGP6zFjmgbj/tlPNgnE7MPAVHt5f1k2Bai2geqiM25DDaU4eAa0R2FVa1uHbJiy19GdhC0TilY5HX2wwKnq9tCVveTomJB6/GJiG3cSVb4mdYL7uHeUbAcMp130p0LX5Dwed40NkvmUatwsVrha4XQ0m/u9KOAv7H+BX+bHzEZxpdW0H06+y7UA/g08C7gqyDML4F/DFzbX5dq++vujYhpszIZllS2G0J/
GXSwKtHFO/H4SfVFwVkVg8ylHzAKnL0zpZjLDpsMVYs4u8ClF3HWIo4V0wwejh0YPHmK2lbD1QDYq4m9wFnDxL6Zswocixyg2gNXFzyvoc87DV4uPWwE1waJSy9WB+bCo0NwRWFclRFuAOt9wzou/T1jEWdXUoq47AMmgcvtNAvcqnCql3vnn74hFmiBFmiBFmiBFuhx6fZsvIXwbvr61b59T1BZ+1Y8TOVFuu+7NMrTKbfp/MPrv0X36fq/EiNuFj3lZaInp2zjq0ViToVQ8p/+sSjxeF60Z3v9tTt9zXZ3nivPlZvjLlhe569154XcTqpCyBVoCARbg75a5NrRHHI1+AINyFW3qzmwqynBg63IFfS3BZGrtaXOF/Qhl7+hpr7V1+SvaahrvS+po31NO7fDjTqsNhBAru0tTU3+5uC/z4fM3xTMkYHKWh9oPBPdP6d40CTaqA+Drk80nn7vHCbRM6yuX56lzwy6vtO4fvL08nNzzl7Q
nHMejV9OefB5hkbLqX0elb8yJ/PFD8HXeD691+J/2DkM0p3DaCTo7GPmZH5ON15f/3U0dyPSncvwyecxRp29VocKiq89R/bkAdvmwd9CdZr9Nmq/jdrbrckzZtfZ11D8XJ1es39+nvonxT6H9lP7hnn6528Jz90vMBQAAA==
EOF
# the case's files (parents 0755, directory modes set last)
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\076\000\001\000\000\000\140\001\000\001\000\000\000\000\100\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\100\0008\000\005\000\100\000\000\000\000\000\001\000\000\000\005\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\001\000\000\000\000n\001\000\000\000\000\000\000n\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\006\000\000\000\000' > "$r"'/e'
printf '\000\000\000\000\000\000\000\000\000\001\001\000\000\000\000\000\000\001\001\000\000\000\000n\001\000\000\000\000\000\000\256\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\006\000\000\000\000\000\000\000\000\000\000\000\000\000\002\001\000\000\000\000\000\000\002\001\000\000\000\000n\001\000\000\000\000\000\000\356\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\003\000\000\000\004\000\000\000n\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >> "$r"'/e'
printf '\000\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\003\000\000\000\004\000\000\000v\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\277\052\000\000\000\270\347\000\000\000\017\005\017\013/lib/ld\000/lib/ld\000' >> "$r"'/e'
chmod 755 "$r"'/e'
mkdir -p "$r"'/lib' && cp "$w/probe-pie" "$r"'/lib/ld' && printf 'I' | dd of="$r"'/lib/ld' bs=1 seek=4117 conv=notrunc 2>/dev/null && chmod 755 "$r"'/lib/ld'
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
proot -r ''"$r"'' -w '/' '/.execspec/launch' 10<"$w/spec" 11>"$w/status" > "$w/out" 2>"$w/err" & pid=$!
( sleep 10; kill -9 $pid 2>/dev/null && echo 'TIMEOUT (a hang)' ) & k=$!
st=0; wait $pid || st=$?; kill $k 2>/dev/null || :
echo "exit status: $st"
if [ -s "$w/status" ]; then echo "the call returned, errno: $(od -An -td4 "$w/status")"; fi
if [ -s "$w/out" ]; then echo 'the program ran; its report:'; od -c "$w/out" | head -40; fi
if [ -s "$w/err" ]; then echo 'stderr:'; head -c 2000 "$w/err"; fi
echo 'Linux: {"outcome": "error", "errno": "ETXTBSY"}'
