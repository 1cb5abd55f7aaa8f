/*
 * execspec probe: a libc-free static program that reports exactly what the
 * kernel handed it (argc/argv, envp, AT_EXECFN, AT_EXECFD, AT_BASE, AT_FLAGS,
 * comm) on fd 1, then exits 0.  No libc so it runs in an empty root and its
 * start-up code cannot reinterpret anything (e.g. argc == 0).
 *
 * Report format (read by harness/protocol.py): records of
 *   u8 type, u32 little-endian length, payload
 * types: 'T' tag, 'n' argc (u64), 'a' one argv string, 'e' one envp string,
 *        'X' AT_EXECFN string, 'D' AT_EXECFD (u64), 'B' AT_BASE (u64),
 *        'F' AT_FLAGS (u64), 'C' comm, 'V' variant name (only in variants
 *        built with -DPROBE_VARIANT, e.g. the static-pie one), 'L' the
 *        target of /proc/self/exe (only when the target gave the program a
 *        procfs directory at fd PROC_FD), 'U' getresuid + getresgid (6 x u32),
 *        'K' the effective capability set (capget, u64), 'S' AT_SECURE (u64), 'Y' prctl(PR_GET_SECUREBITS) (u64),
 *        'H' AT_PHDR, 'Y' AT_ENTRY (u64 each), 'Q' personality(0xffffffff) (u64),
 *        'P' getpid() (u64), 'Z' end.
 * Built for x86-64 and, with -m32, for ia32 (the static32/pie32 variants):
 * numbers are zero-extended to u64 in the report either way.
 */
typedef unsigned long long u64;
typedef unsigned long ulong; /* an auxiliary vector entry */
typedef unsigned int u32;

#define AT_NULL 0
#define AT_EXECFD 2
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_EXECFN 31
#define AT_PHDR 3
#define AT_ENTRY 9
#define AT_SECURE 23
#define PR_GET_NAME 16
#define PR_GET_SECUREBITS 27
/* The target's executor leaves an O_PATH directory fd of a procfs at
 * PROC_FD (caselimits.h; not close-on-exec): the exe link is read through
 * it, so the case root needs no /proc of its own.  No such fd: no 'L'. */
#include "caselimits.h"

/* The harness writes the case's tag after this marker (at most 63 bytes +
 * NUL), patching the file's bytes, so one binary serves every tag. */
__attribute__((used, aligned(8))) static volatile char tagbuf[96] =
    "\001EXECSPEC-PROBE-TAG\001";
#define TAG_OFFSET 21

#ifdef __i386__
/* arch/x86/entry/syscalls/syscall_32.tbl */
#define NR_write 4
#define NR_getresuid 209 /* getresuid32 */
#define NR_getresgid 211 /* getresgid32 */
#define NR_capget 184
#define NR_personality 136
#define NR_prctl 172
#define NR_readlinkat 305
#define NR_exit_group 252
#define NR_getpid 20

static long sys4(long n, long a, long b, long c, long d)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
	return r;
}

static long sys3(long n, long a, long b, long c) { return sys4(n, a, b, c, 0); }
#else
#define NR_write 1
#define NR_getresuid 118
#define NR_getresgid 120
#define NR_capget 125
#define NR_personality 135
#define NR_prctl 157
#define NR_readlinkat 267
#define NR_exit_group 231
#define NR_getpid 39

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static long sys4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}
#endif

static char out[65536];
static u32 used;

static void flush(void)
{
	u32 off = 0;
	while (off < used) {
		long r = sys3(NR_write, 1, (long)(out + off), used - off);
		if (r == -4 /* EINTR */)
			continue;
		if (r <= 0)
			break;
		off += (u32)r;
	}
	used = 0;
}

static void put(const void *p, u32 n)
{
	const char *s = p;
	while (n) {
		if (used == sizeof(out))
			flush();
		u32 k = sizeof(out) - used;
		if (k > n)
			k = n;
		for (u32 i = 0; i < k; i++)
			out[used + i] = s[i];
		used += k;
		s += k;
		n -= k;
	}
}

static void record(char type, const void *p, u32 n)
{
	put(&type, 1);
	put(&n, 4);
	put(p, n);
}

static u32 slen(const volatile char *s)
{
	u32 n = 0;
	while (s[n])
		n++;
	return n;
}

static void record_str(char type, const char *s) { record(type, s, slen(s)); }
static void record_u64(char type, u64 v) { record(type, &v, 8); }

__attribute__((used)) void probe_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	char **e = envp;
	char comm[17];
	static char exe[4096];

	record('T', (const char *)tagbuf + TAG_OFFSET, slen(tagbuf + TAG_OFFSET));
#ifdef PROBE_VARIANT
	/* Variants name themselves so the harness adds their extra outcome
	 * fields; the default probe's report stays exactly as it was. */
	record_str('V', PROBE_VARIANT);
#endif
	record_u64('n', (u64)argc);
	for (long i = 0; i < argc; i++)
		record_str('a', argv[i]);
	for (; *e; e++)
		record_str('e', *e);
	for (ulong *av = (ulong *)(e + 1); av[0] != AT_NULL; av += 2) {
		switch (av[0]) {
		case AT_EXECFN: record_str('X', (const char *)av[1]); break;
		case AT_EXECFD: record_u64('D', av[1]); break;
		case AT_BASE: record_u64('B', av[1]); break;
		case AT_FLAGS: record_u64('F', av[1]); break;
		case AT_SECURE: record_u64('S', av[1]); break;
		case AT_PHDR: record_u64('H', av[1]); break;
		case AT_ENTRY: record_u64('Y', av[1]); break;
		}
	}
	for (int i = 0; i < 17; i++)
		comm[i] = 0;
	sys3(NR_prctl, PR_GET_NAME, (long)comm, 0);
	record_str('C', comm);
	long n = sys4(NR_readlinkat, PROC_FD, (long)"self/exe", (long)exe, sizeof exe);
	if (n >= 0)
		record('L', exe, (u32)n);
	u32 ids[6];
	sys3(NR_getresuid, (long)&ids[0], (long)&ids[1], (long)&ids[2]);
	sys3(NR_getresgid, (long)&ids[3], (long)&ids[4], (long)&ids[5]);
	record('U', ids, sizeof ids);
	/* capget(_LINUX_CAPABILITY_VERSION_3, pid 0): two 32-bit halves */
	u32 hdr[2] = { 0x20080522, 0 }, data[6] = { 0, 0, 0, 0, 0, 0 };
	if (sys3(NR_capget, (long)hdr, (long)data, 0) == 0)
		record_u64('K', (u64)data[0] | (u64)data[3] << 32);
	long sb = sys3(NR_prctl, PR_GET_SECUREBITS, 0, 0);
	if (sb >= 0)
		record_u64('Y', (u64)sb);
	/* the persona exec left (begin_new_exec clears PER_CLEAR_ON_SETID for
	 * a set-id or capability-gaining exec); 0xffffffff only queries it */
	long pers = sys3(NR_personality, 0xffffffffL, 0, 0);
	if (pers >= 0)
		record_u64('Q', (u64)pers);
	record_u64('P', (u64)sys3(NR_getpid, 0, 0, 0));
	record('Z', "", 0);
	flush();
	sys3(NR_exit_group, 0, 0, 0);
	for (;;)
		;
}

#ifdef __i386__
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %esp, %eax\n"
	"	and $-16, %esp\n"
	"	sub $12, %esp\n"
	"	push %eax\n"
	"	call probe_main\n"
	"	hlt\n");
#else
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call probe_main\n"
	"	hlt\n");
#endif
