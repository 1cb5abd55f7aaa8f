#!/bin/bash
# execspec: proot diverges from Linux: cause: an ELF with more than one PT_INTERP (Linux uses the first)
# Linux (the execspec model, and the host kernel): {"outcome": "exec", "tag": "I", "argv": ["e", "1"], "envp": ["K=V"], "execfd": false, "execfn": "/e", "comm": "e", "exe": "/e", "at_flags": 0, "at_base": true}
# proot: {"outcome": "error", "errno": "EINVAL"}
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
# the probe (pie; harness/native/probe.c): prints the argv, envp, auxv and comm it was given
base64 -d <<'EOF' | gzip -d > "$w/probe-pie"
H4sIAAAAAAACA+1YXWwUVRS+s9stA11nVkN1YzHdmDGwAdYutolV1E47096GASttUaSEbenWEmnBdlYrQdRsi1yXUYxGefGBhAceeCAxaRr82bWFIkalIhGMUUmjso0V6g+ICF3Pnb2z7I4lxb+33mT2zD33fOfnnjNndu6zqlbt4DhkDSe6H9HZCGNVMP6EJyMCvLtRPvzegNymrAtde3w7O5cipofi8uEqEdPzkmIbZfbrbuRycI5pcCMol/KM1n2nt+YBPc0YdroI5dI8Rh8CXD66/mFt00pm73r95LIolzX/uwMHf8TkDI5+O5F8AnT8GivcEkCo74LY+y6syo0y+VkzXNuBJzc0vkvt1GPyR5yaE4sVhJ6/RHl6nUzGZf8JtfyEKtaMquQ7mXyKyakVxryFsv8LsRiJ/SWy4eZwNMHJO0r52vKhyLjCjWrcD6SQB+2qfzTy1pq1cpO8dkgsrkBq8KipXyGfKP4PMbmoccOiC0cv
XtZ53JfYJsjc+7HCTxaDX+Wfdn0hv0PdUMtHVbF6NHh8bEsqlTL1gLe/vEe9xdFxvmLHVikPG/BD5krJG0EGYn+PbnsyDyaxUgmTb5K/TwI/eohfAwpQIybn64NfAtoj9uf3JvSb20y/jCoOkyHMJcV+1JuITFDVBWlDoL+ANEnu5AGqCGbutIk9ab0e8jUm59asHXsF5rvkh4PHsVF2cB4Esgq2u6GxHj8/voPqiYliv2sPLGCyVeIxcUvYaDrmAR9ubQuIxb1m/oxK8GMQcxPMj3iD6cJGKaQZrVJF8rLpQ5kBHsRXUS8WQqAaRHqQFjImZ+OdQDWiS6HkCMgu77uwLaIGL5hoiB/HFIlXg6kVsY0TvCz2q2BFL7pqXzZquFpyRLM24py5Bxo5M6xIFc210WFOAe9Dyb1XUilzGyD25BswUcikBrc74VYrL5Uir2uxu8C43pLeXzCVrwZ/pBuenhsq2DmsWYHm2Anj6BCvEAg6uTTb
zp1UOflNIWeTEr01LUT24lgVrxmP0zrSl2LjtuectJjT8UCFFT91K16fF8XcqdTp2liEjz9C9+0XUAD7URtTPbXRwx7ARj7Dhi75sNEgBTGZSPs9TFUkOFw+GPl14E0AxukTHjwuuuJVVM1+UCMfpI/9QAFEAM/WnCKasLJz0KniR8yYBqHQ+xI9IhnUyHBco7CyKzSNuqRQa3jgyXTsomugh1WcRlfr6GqD6DroNde/bxPPJeKNFH/+MnjvV6QQVBs5i2MutzON8+AjirTZjJwokmfgGfpgu6DQJC/4IPbe7qDepyMpMqU+T3t3Cyugr+OrGdibfBmsgPALVDhlPl1/EX4oI9ySFp5vMk6aohmpuozUUlMq/qgZZtlR2LKkH1ixws/80KaO6xVqMAG9wmxImlH4lZ/1pWVG6RzFPwiNg3UNN+0aN6mGGy0nH8QKX/PTzjHSdRJcOAPYI65tftYRmTM/TNL+AfnmrUeF5j1ez1wLJff8
kUrBMqL71HcIEjQ2fsXk5AJWZwCbswGvUsDbUwGqM4AHsgEtFPDiVIDKDEDIBgQpYPVUAJwBfHUpC4AoYMFUACUD2J8NOAaZGPuNpkORNsYapBDN3TIq+/5pH549wnTQPOqAG3sLdLP3zuYNYdQd3th2Z7gnTOf7QAu9DCibplT63rpoy7oEvenoZC7/eq/d0+DegOt2F+8z36dFznsXWe/z36GE6TsXKO3IHohhH/UdqPUenmu9h7esRFyPhytyz+J3QTEuBR60bnTgYir1kfmHQvAYDk3w7nTKgm97XrWwIOpyrJkj+GTBWyl4KgVeLXBUCfzQ8EcfM2wT/e8Etu8zG63giVJ8p+CRBR5JwNoKVwjW17H17Q5F8EadoNqBBW+1KVgCS3vh2g1yP9GgwNbLjmWC9yVnpeAz8iqFBTtdslCyPV8W7o7OqhES//SfxMyYGTNjZsyM7HF+MrWJ0l2srVrfvh+wufWteIDN59i+7woY9TJa
aNMPL/xNtk/X/3Vw6iNqVX2dWrW4buWDleriBrnmP31h1FRV3eNboIRbNjR3+oJLAksCJYuDpQtbwy3BJZGgn7EQCnS3d+tdenMLCjzWGQm0N3e3o0Dr053dT3ekqd6FAnq4R0eBrk2tzXozCoTb17V1NXeE17W3dl2dmdLNHRvWw40p1tLdjQLrN3V0hDv1fx8Pzd8FyJGDza06sOg8dPWcYqokFjIdDludWNSbOYdJ1wxvq5fb2JrDVncWtSfPPr8j6+wFZZ3zWPSJ/KnPM6yxkOEt+5jPpbtt8vb477Lhr3UOg2znMNaQbXjP7Fx6Yhr7y1jsTmQ7lxFzz2OcNry1Dw3MvrWOfLkCoWnsP8p4Fj7E8CGG93lyM+az4dcx+yU2voWff438Z1PnFHX9AsO3T1M/fwIfxQeAMBQAAA==
EOF
# the case's files (parents 0755, directory modes set last, the last listed first)
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000\076\000\001\000\000\000\360\000\000\000\000\000\000\000\100\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\100\0008\000\003\000\100\000\000\000\000\000\001\000\000\000\005\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\376\000\000\000\000\000\000\000\376\000\000\000\000\000\000\000\000\000 \000\000\000\000\000\003\000\000\000\004\000\000\000' > "$r"'/e'
printf '\376\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\010\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\003\000\000\000\004\000\000\000\006\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\003\000\000\000\000\000\000\000\003\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\277\052\000\000\000\270\347\000\000\000\017\005\017' >> "$r"'/e'
printf '\013/lib/ld\000bad' >> "$r"'/e' && chmod 755 "$r"'/e'
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
proot -r ''"$r"'' -w ''/'' '/.execspec/launch' 10<"$w/spec" 11>"$w/status" > "$w/out" 2>"$w/err" & pid=$!
( sleep 10; kill -9 $pid 2>/dev/null && echo 'TIMEOUT (a hang)' ) & k=$!
st=0; wait $pid || st=$?; kill $k 2>/dev/null || :
echo "exit status: $st"
if [ -s "$w/status" ]; then echo "the call returned, errno: $(od -An -td4 "$w/status")"; fi
if [ -s "$w/out" ]; then echo 'the program ran; its report:'; od -c "$w/out" | head -40; fi
if [ -s "$w/err" ]; then echo 'stderr:'; head -c 2000 "$w/err"; fi
echo 'Linux: {"outcome": "exec", "tag": "I", "argv": ["e", "1"], "envp": ["K=V"], "execfd": false, "execfn": "/e", "comm": "e", "exe": "/e", "at_flags": 0, "at_base": true}'
