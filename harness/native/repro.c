/* execspec reproducer: one case's exact exec call in a new user + mount namespace, chrooted into its
 * root, binfmt_misc rules only in a private instance (Linux >= 6.7; never the global one); prints the
 * outcome as the case format's canonical JSON and compares its digest with the model's outcomes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h> //@B
#include <sys/wait.h>
#include <unistd.h>
#include "bprm_call.h" /* the one C core, inlined by harness/build.py */
#include "materialise.h" //@W
#include "record.h"
/* @lines ending in //@B are only for cases with binfmt_misc rules or reads, //@W with files held open for writing */
/* @CASE@ */
#define N(a) (sizeof a / sizeof *a)
static char js[1 << 24], ent[1 << 16];
static unsigned char rep[1 << 24];
static size_t jn, nkeys, rn, l;
static int kind, val, idx; /* 'e' errno, 'r' register error, 's' signal, 'x' exit, 'c' returned, 'p' probe */
static void die(const char *what) { fprintf(stderr, "reproducer: %s: %s\n", what, strerror(errno)); _exit(2); }
static void put(const char *s, size_t n) { if (jn + n < sizeof js) memcpy(js + jn, s, n), jn += n; }
static void puts_(const char *s) { put(s, strlen(s)); }
static void key(const char *k) { if (nkeys++) put(",", 1); put("\"", 1), puts_(k), put("\":", 2); }
static void num(long v) { char b[24]; snprintf(b, sizeof b, "%ld", v), puts_(b); }
static void nm(const char *const *t, size_t n, int v) { put("\"", 1); if (v > 0 && (size_t)v < n && t[v]) puts_(t[v]); else num(v); put("\"", 1); }
static long utf8(const unsigned char *p, size_t n, int *l) /* strict UTF-8 as Python decodes it: a code point or -1 */
{
	int k = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : p[0] >= 0xe0 && p[0] < 0xf0 ? 3 : p[0] >= 0xf0 && p[0] < 0xf5 ? 4 : 0;
	long c = k == 1 ? p[0] : p[0] & (0x3f >> (k - 1));
	if (!k || (size_t)k > n) return -1;
	for (int i = 1; i < k; i++) if ((p[i] & 0xc0) != 0x80) return -1; else c = c << 6 | (p[i] & 0x3f);
	return (k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c < 0xe000) ? -1 : (*l = k, c);
}
static void jstr(const unsigned char *p, size_t n) /* as harness/case.py: a JSON string (ASCII) if UTF-8, else {"b64": ...} */
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char b[16]; int l;
	for (size_t i = 0; i < n; i += l) if (utf8(p + i, n - i, &l) < 0) {
		for (puts_("{\"b64\":\""), i = 0; i < n; i += 3, put(b, 4)) {
			int r = n - i < 3 ? (int)(n - i) : 3; unsigned v = p[i] << 16 | (r > 1 ? p[i + 1] << 8 : 0) | (r > 2 ? p[i + 2] : 0);
			for (int k = 0; k < 4; k++) b[k] = k <= r ? t[v >> (18 - 6 * k) & 63] : '=';
		}
		return puts_("\"}");
	}
	put("\"", 1);
	for (size_t i = 0; i < n; i += l) {
		long c = utf8(p + i, n - i, &l);
		const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : 0;
		if (e) puts_(e);
		else if (c >= 0x20 && c < 0x7f) put((const char *)p + i, 1);
		else if (c < 0x10000) snprintf(b, sizeof b, "\\u%04lx", c), puts_(b);
		else c -= 0x10000, snprintf(b, sizeof b, "\\u%04lx\\u%04lx", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff)), puts_(b);
	}
	put("\"", 1);
}
/* the probe's report, records of u8 type, u32 length, payload (record.h; harness/protocol.py parse_report):
 * the last record of a type, or all of them as a JSON list; type 0: is the report whole? */
static const unsigned char *field(char want, int list, size_t *len)
{
	const unsigned char *found = NULL; uint32_t l; char first = 0, last = 0; size_t off = 0;
	if (list) put("[", 1);
	for (; record_at(rep, rn, off, &l); off += 5 + l) {
		first = first ? first : rep[off], last = rep[off];
		if (!want || rep[off] != want) continue;
		if (list) { if (found) put(",", 1); jstr(rep + off + 5, l); }
		found = rep + off + 5, *len = l;
	}
	if (list) put("]", 1);
	return want ? found : off == rn && first == 'T' && last == 'Z' ? rep : NULL;
}
static void render(int with_status) /* the observed outcome, keys sorted as json.dumps(sort_keys=True) */
{
	size_t l; const unsigned char *v; unsigned long long base = 0;
	jn = nkeys = 0, put("{", 1);
	if (kind == 'p' && (key("argv"), field('a', 1, &l), field('V', 0, &l))) {
		if ((v = field('B', 0, &l)) && l == 8) memcpy(&base, v, 8);
		key("at_base"), puts_(base ? "true" : "false");
	}
	if (kind == 'p' && (v = field('F', 0, &l)) && l == 8) { unsigned long long fl; memcpy(&fl, v, 8); key("at_flags"), num((long)fl); }
	if (ent[0] && kind != 'r') key("binfmt_misc_entries"), puts_(ent); //@B
	if (kind == 'p') {
		if ((v = field('C', 0, &l))) key("comm"), jstr(v, l);
		key("envp"), field('e', 1, &l);
		if ((v = field('L', 0, &l))) key("exe"), jstr(v, l);
		key("execfd"), puts_(field('D', 0, &l) ? "true" : "false");
		if ((v = field('X', 0, &l))) key("execfn"), jstr(v, l);
		key("outcome"), puts_("\"exec\""), v = field('T', 0, &l), key("tag"), jstr(v, l);
	} else if (kind == 'e' || kind == 'r') {
		key("errno"), nm(errnos, N(errnos), val);
		if (kind == 'r') key("index"), num(idx);
		key("outcome"), puts_(kind == 'e' ? "\"error\"" : "\"register-error\"");
	} else if (kind == 's') key("outcome"), puts_("\"signal\""), key("signal"), nm(signals, N(signals), val);
	else if (kind == 'x') { key("outcome"), puts_("\"exit\""); if (with_status) key("status"), num(val); }
	else key("outcome"), puts_("\"returned\""), key("value"), num(val);
	put("}", 1), js[jn] = 0;
}
static int verdict(void) /* FNV-1a digests of the canonical text (without and with status) against the model's */
{
	unsigned long long h[2];
	for (int w = 0; w < 2; w++) for (render(w), h[w] = 0xcbf29ce484222325ULL, l = 0; l < jn; l++) h[w] = (h[w] ^ (unsigned char)js[l]) * 0x100000001b3ULL;
	printf("observed: %s\nmodel:    %s\n", js, model_says);
	for (size_t i = 0; i < N(accepted); i++) /* {drop status?, digest, verdict} */
		if (accepted[i][1] == h[!accepted[i][0]]) return printf("%s\n", verdicts[accepted[i][2]]), accepted[i][2] != 0;
	return printf("%s\n", verdicts[N(verdicts) - 1]), 1; /* the last: none matches */
}
static int to_nobody(const char *p, const struct stat *s, int t, struct FTW *f) { (void)s, (void)t, (void)f; return lchown(p, 65534, 65534); }
int main(int argc, char **av)
{
	char bm[4200], m[64]; int bmfd = -1, out[2], st[2], e = -1, status; uid_t uid = getuid(); gid_t gid = getgid(); struct rlimit rl;
	if (argc < 2) return fprintf(stderr, "usage: %s ROOT\n", av[0]), 2;
	/* a case may be a stranger's: as root, run as nobody (owning the work directory, as a case root owns its files),
	 * dumpable again so /proc/self is ours; never real root behind the chroot */
	if (geteuid() == 0 && (snprintf(bm, sizeof bm, "%s/..", av[1]), nftw(bm, to_nobody, 16, FTW_PHYS) || setgroups(0, NULL) ||
	    setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) || prctl(PR_SET_DUMPABLE, 1))) die("become nobody");
	uid = getuid(), gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS)) die("unshare(CLONE_NEWUSER|CLONE_NEWNS)");
	const char *f[][2] = {{"/proc/self/setgroups", "deny"}, {"/proc/self/uid_map", m}, {"/proc/self/gid_map", m + 32}};
	snprintf(m, 32, "0 %u 1", (unsigned)uid), snprintf(m + 32, 32, "0 %u 1", (unsigned)gid);
	for (int i = 0, fd; i < 3; i++) if ((fd = open(f[i][0], O_WRONLY)) < 0 || write(fd, f[i][1], strlen(f[i][1])) < 0 || close(fd)) die(f[i][0]);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) die("make / private");
	if (N(regs) + N(reads)) { /* a private instance in the new user namespace (Linux >= 6.7); older kernels refuse */ //@B
		snprintf(bm, sizeof bm, "%s/../binfmt_misc", av[1]), mkdir(bm, 0755); //@B
		if (mount("binfmt_misc", bm, "binfmt_misc", 0, NULL)) //@B
			return fprintf(stderr, "reproducer: no private binfmt_misc instance (%s; needs Linux >= 6.7): " //@B
				       "not registering in the global one\n", strerror(errno)), 77; //@B
		bmfd = open(bm, O_PATH | O_DIRECTORY); //@B
	} //@B
	int pfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC); /* the probe reads its exe link here */
	if (pfd < 0 || dup2(pfd, PROC_FD) < 0) die("procfs");
	if (chroot(av[1]) || chdir("/")) die("chroot");
	for (size_t i = 0; i < N(writers); i++) if (hold_write_access(AT_FDCWD, writers[i]) < 0) die("open for writing"); //@W
	for (size_t i = 0; i < N(regs); i++) { //@B
		if (!regs[i].data) { if (unlinkat(bmfd, regs[i].name, 0)) return kind = 'r', idx = i, val = errno, verdict(); continue; } //@B
		int fd = openat(bmfd, regs[i].name, O_WRONLY); //@B
		if (fd < 0 || write(fd, regs[i].data, regs[i].len) != (ssize_t)regs[i].len) return kind = 'r', idx = i, val = errno, verdict(); //@B
		close(fd); //@B
	} //@B
	for (size_t i = 0; i < N(reads); i++) { /* entries as the kernel renders them, before the exec */ //@B
		char text[8192]; int fd = openat(bmfd, reads[i], O_RDONLY); ssize_t r = fd < 0 ? -1 : read(fd, text, sizeof text); //@B
		jn = 0, put(ent[0] ? ent : "{", ent[0] ? strlen(ent) - 1 : 1), put(",", ent[0] ? 1 : 0); //@B
		jstr((const unsigned char *)reads[i], strlen(reads[i])), put(":", 1); //@B
		if (r < 0) put("{\"errno\":", 9), nm(errnos, N(errnos), errno), put("}", 1); else jstr((unsigned char *)text, r); //@B
		if (put("}", 1), jn < sizeof ent) memcpy(ent, js, jn), ent[jn] = 0; //@B
	} //@B
	if (chdir(cwd)) die("chdir cwd");
	if (getrlimit(RLIMIT_STACK, &rl) || (rl.rlim_cur = rlimit_stack, setrlimit(RLIMIT_STACK, &rl))) die("setrlimit");
	if (pipe(out) || pipe2(st, O_CLOEXEC)) die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		if (dirfd_path && bprm_dirfd_open(dirfd_path, dirfd_opath, dirfd_cloexec)) die("open dirfd");
		dup2(out[1], 1), e = bprm_execve(is_at, dirfd_path ? 3 : dirfd_num, path, argv, envp, flags) ? errno : 0;
		_exit(write(st[1], &e, sizeof e) < 0 ? 126 : 127);
	}
	close(out[1]), close(st[1]);
	for (ssize_t k; (k = read(out[0], rep + rn, sizeof rep - rn)) > 0;) rn += k;
	ssize_t got = read(st[0], &e, sizeof e);
	waitpid(pid, &status, 0);
	if (got == sizeof e) kind = e ? 'e' : 'c', val = e;
	else if (WIFSIGNALED(status)) kind = 's', val = WTERMSIG(status);
	else val = WEXITSTATUS(status), kind = !val && field(0, 0, NULL) ? 'p' : 'x';
	return verdict();
}
