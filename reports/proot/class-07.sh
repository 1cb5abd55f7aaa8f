#!/bin/bash
# execspec: proot diverges from Linux: cause: a #! interpreter that is a #! script, in a chain of more than 5 #! rewrites or a loop (Linux: ELOOP)
# Linux (the execspec model, and the host kernel): {"outcome": "error", "errno": "ELOOP"}
# proot: {"outcome": "exec", "tag": "END", "argv": ["/bin/end", "/c5", "/c4", "/c3", "/c2", "/c1", "/c0", "x"], "envp": [], "execfd": false, "at_flags": 0, "execfn": "/bin/end", "comm": "/c0"}
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
H4sIAAAAAAACA+1Yb2wTZRh/r13L6ebd8Wem/NFVuAQWpe5wicxE09vutnexyGSdAhuhm+uCcQzcrroYxJFuuDelOL75QU1M/GiM+GEuM65lgw0Tjcsc+sGoBEWu8mcVEAfC6vPeXWfbFEIiH/ck7fvneX7P73nufZ5r876l+qptDIPSYkPPILpKIq+x9lr7cWHeBPY2Ijt8s2iRYetAmeLNGk+yKGtElh+Kc2askeDNGgPWdo/AZOGeP6u1OtHdi5CzxtJFTM7h8G9J/VXwfDVSvL0Eob5rfO8QaGV/Lbkhkz9jlLSh/gsaZxtfoiB04Aada3Xkp9JTSsU3Ml+TkMkFmUz6yOTm6KrVaumkYccPlsnRIoTDccbbf7TH7UW1FWOhBPPHJuYMKb70MHCUJkJHG3fITWN8iRepUtzAKWRcKR3FZBYfGKco3oHDszc1FvfF93MyE48Uf0axFZOdp76kkcgVCZmvTkhTiVAqlRqDIHuN/Oox
uTJCo8fhC6y3f59YgKPwRZaJ+mIwhNxHCkCrF8AiUi5i8ot+fQ72w8fZRggINWDyV730I6AFftDZG9ceNPOPVjGYjGFG5wdRbzyUpK4LTSLwX0iaxCL9U+oIVkUmxYemX4H8jMlM447EEVgPyC9KU/ILcoPsb6jHBy70UwcRnh909D8AM7JPZDEpEnG06VsByJcMRCuBd5Qf7CmGwgDimRE6ifkN4nYxoBdCIj7IZJgWGCaXYh0w+qKtotdHNNCfB9ZNfdf271Wla8a2mQ+OKCKrSqnnIu1JVuYHVXCuLW0bkKM1TC2Z8KUTnTFy9JFz44roba4NjzMKBBnQj99KpYw0ITf9c1goZM4H049h6qsoF0Mf+CJPAK/WYvIBhVOVLtIHaq6jKvCc8DHJPDxBHB5jFULTa8rk2Uydk78VcklX6NRgCH2EI1WsL/oKrRWtnC/pMeo8PFvy+oqUeGLWCSUYCbGxrfRMHoKnYfDXRlShNnxCAEzo
OxzVRDeO+kUJk6QZ7zgyahhXjIauDr0P0BjtJGmKd8SqqKNp4JeHaXsNB+BARnSgGSqEHGIToIbq7Yt3LyajI1QZ81FEyy1aHZqoUCI89JqZLu8Y6raKyEe1dVTr5x3DLkP/exs/E481UPxqwPOlihiQpuCYccRRYTdxAp5QxL1G0kQRhaE30wHwvdMMjdmMf6Vh8L0Z2nKzXIDQFdtmIV167GYqJU2NJCGX2HbK+QlsRIo3ArRvSvNCr6rSV8a7Yb7faqNGk5u9azVtEW3aJSq8BjaRk5Hi6yvMxp2GSM4BZMLx6wrrZUR+MCI6P/efv4jKpkuZnk+s3oouoD8CwYAa0cz6VsFBJpQ5YycbsG0ekPwnA3AeHl9iaT5A9TwglgkYpoAzt/IAKucBhzMBhAKO5gPgecCOTMBWCujJB1DmAY9lAtZSAG0CaN72iF8MmAf4LLU+dtqN75u0vNDDvHwDjFNgbDzXrmB72+PB7mD6d2DW7s0a
+5zm6Hd68+rT4xpLf9lhjsccd7a/1+PA/+Q7a42rHaybjsus58G8sQUx3QKzsmgROwAVXgZ7q+BzejaVoh2N6jjhkM3HuQ7aZc4dLrA13s+5ZE6o5Fi10FbNsWPjX1P7Ovjsu55KPU0xoA9TTAcnyByLRNiiffoe6Hda+oM2hXOF7dXcOhvmXNWGIeV+Fz7TYNdF332VnPAOtTtsr+Tc0YJKbt0hh8yVHXTK3MbwohouzqAFWZAFWZAFWZAFuXth1K1qVX2dWrW+bsvmSnW9X665pz+mNVVVT7nXKcGWl5s73NIGzwZP2Xqp/NHWYIu0ISSVWlsIebp2dWmdWnML8mjBbg15Ove0NmvNyBPctbOts3l3EHnMdUtXF/K8tGf37mCHdg/iK8y8i8i490ha6yuOO98nLLbwNmutW/8PdcuhK+dpsjn45Tl4xHqzDE+iO+PXWHg7yr1HQVn3KLfDl1p7aXwgff9i4d1CdgLuHLzH4i/L2U/j
1+bWW57Rnudc3rbwT94Gn5Z/AV2p8SXAEgAA
EOF
# the case's files (parents 0755, directory modes set last, the last listed first)
printf '\043\041/c1\012' > "$r"'/c0' && chmod 755 "$r"'/c0'
printf '\043\041/c2\012' > "$r"'/c1' && chmod 755 "$r"'/c1'
printf '\043\041/c3\012' > "$r"'/c2' && chmod 755 "$r"'/c2'
printf '\043\041/c4\012' > "$r"'/c3' && chmod 755 "$r"'/c3'
printf '\043\041/c5\012' > "$r"'/c4' && chmod 755 "$r"'/c4'
printf '\043\041/bin/end\012' > "$r"'/c5' && chmod 755 "$r"'/c5'
mkdir -p "$r"'/bin' && cp "$w/probe-static" "$r"'/bin/end' && printf 'END' | dd of="$r"'/bin/end' bs=1 seek=4117 conv=notrunc 2>/dev/null && chmod 755 "$r"'/bin/end'
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
printf '\000\000\000\000\234\377\377\377\000\000\000\000\000\000\000\000\000\000\200\000\000\000\000\000\003\000\000\000\057\143\060\001\000\000\000\057\377\377\377\377\002\000\000\000\002\000\000\000\143\060\001\000\000\000\170\000\000\000\000' >> "$w/spec"
cd "$r"
proot -r ''"$r"'' -w ''/'' '/.execspec/launch' 10<"$w/spec" 11>"$w/status" > "$w/out" 2>"$w/err" & pid=$!
( sleep 10; kill -9 $pid 2>/dev/null && echo 'TIMEOUT (a hang)' ) & k=$!
st=0; wait $pid || st=$?; kill $k 2>/dev/null || :
echo "exit status: $st"
if [ -s "$w/status" ]; then echo "the call returned, errno: $(od -An -td4 "$w/status")"; fi
if [ -s "$w/out" ]; then echo 'the program ran; its report:'; od -c "$w/out" | head -40; fi
if [ -s "$w/err" ]; then echo 'stderr:'; head -c 2000 "$w/err"; fi
echo 'Linux: {"outcome": "error", "errno": "ELOOP"}'
