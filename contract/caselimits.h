/*
 * Limits shared by the executor (executor.c) and the case validator
 * (contract/case.py reads the #define lines of this file): a case that
 * passes validation always fits the executor, and one that does not is
 * refused in Python naming its field.  Keep one "#define NAME value" per
 * line; the value is a plain integer.
 */
#ifndef EXECSPEC_CASELIMITS_H
#define EXECSPEC_CASELIMITS_H

#define MAX_FILES 4096          /* files[] entries */
#define MAX_OPS 256             /* binfmt_misc writes (registrations + control writes) */
#define MAX_READS 256           /* binfmt_misc_read entries */
#define MAX_WOPEN 64            /* files held open for writing */
#define MAX_FRAME 67108864      /* one case frame (64 MiB) */
#define MAX_OUTPUT 16777216     /* what a case's program may write to stdout/stderr (16 MiB) */
#define MAX_TIMEOUT_MS 600000   /* per-case time limit ceiling */
#define MAX_PATH 4096           /* PATH_MAX: a materialised file's path, cwd, dirfd path */
#define MAX_NAME 255            /* NAME_MAX: one component of a materialised path */
#define MAX_TAG 63              /* a probe's tag slot holds 63 bytes plus NUL */
#define CASE_NPROC 256          /* RLIMIT_NPROC of a case's program */
#define MAX_CONCURRENT 16       /* exec.concurrent: processes making the call at once */
#define MAX_PROBES 24           /* probe images an executor loads: contract.case.PROBE_VARIANTS (the guest init passes as many) */

/* Descriptors the executor uses in a case's process; a case may not name
 * them as a raw dirfd (they are not the kernel's business). */
#define STATUS_FD 100           /* the case's status pipe (close-on-exec) */
#define WRITE_FD 101            /* files held open for writing: WRITE_FD .. + MAX_WOPEN - 1 */
#define GO_FD 196               /* exec.concurrent: the barrier's read end, closed just before the call */
#define READY_FD 197            /* exec.concurrent: "ready" to the case init, closed just before the call */
#define BM_FD 198               /* the case's binfmt_misc instance, held until the exec (close-on-exec) */
#define PROC_FD 199             /* a procfs of the case's own PID namespace, for the probe */
#define RESERVED_FD_MIN 100
#define RESERVED_FD_MAX 199

/* The host ids a case's uid/gid 0.. map to when the executor is root: an
 * unprivileged range no host user owns (systemd leaves 0x70000000.. alone). */
#define ID_BASE 1879048192
#define ID_COUNT 65536

#endif
