/*
 * A hostile program for tests/test_hostile_cases.py: what a crafted ELF in
 * a stranger's case file might do.  argv[1] picks the attack, argv[2] is a
 * host path (a canary) it tries to reach.  It reports what it managed on
 * stdout; the test checks the host, not this report.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static int wins; /* what got through: the exit status */

static void touch(const char *dir, const char *name)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 04755);
	printf("%s: %s\n", p, fd >= 0 ? "CREATED" : "refused");
	if (fd >= 0) { close(fd); wins++; }
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "", *canary = argc > 2 ? argv[2] : "/tmp";
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(what, "escape")) {
		/* the classic chroot escape, then the case's own mounts undone */
		mkdir("e", 0755);
		if (chroot("e") == 0) {
			for (int i = 0; i < 64; i++) if (chdir("..")) break;
			chroot(".");
		}
		umount2("/", MNT_DETACH);
		touch(canary, "escaped-chroot");
		/* a procfs of our own (we are root in our user namespace) */
		mkdir("/p", 0755);
		if (mount("proc", "/p", "proc", 0, NULL) == 0) {
			char p[4096];
			snprintf(p, sizeof p, "/p/1/root%s", canary);
			touch(p, "escaped-proc");
			snprintf(p, sizeof p, "/p/%d/root%s", getppid(), canary);
			touch(p, "escaped-ppid");
		}
		/* the descriptor the probe gets */
		char p[4096];
		snprintf(p, sizeof p, "/proc/1/root%s", canary);
		int fd = openat(199, p + 6, O_PATH | O_DIRECTORY);
		if (fd >= 0) { printf("fd 199 reached %s\n", p); close(fd); touch(p + 6, "escaped-fd"); }
		return wins;
	}
	if (!strcmp(what, "fork")) {
		/* a daemon that outlives its case, and a fork bomb behind it */
		for (int i = 0; i < 2000; i++) {
			pid_t p = fork();
			if (p == 0) { setsid(); signal(SIGHUP, SIG_IGN); sleep(120); _exit(0); }
			if (p < 0) { printf("fork refused after %d\n", i); break; }
		}
		return 0;
	}
	if (!strcmp(what, "sleep")) {
		sleep(30);
		return 0;
	}
	if (!strcmp(what, "flood")) {
		static char b[1 << 16];
		memset(b, 'x', sizeof b);
		for (long n = 0; n < (1L << 30); n += sizeof b)
			if (write(1, b, sizeof b) < 0) return 3;
		return 0;
	}
	if (!strcmp(what, "fds")) {
		/* every descriptor we inherited, and where it leads */
		int extra = 0;
		for (int fd = 3; fd < 4096; fd++)
			if (fd != 199 && fcntl(fd, F_GETFD) >= 0) extra++;
		return extra;
	}
	if (!strcmp(what, "chardev") || !strcmp(what, "blockdev")) {
		/* the case's "chardev"/"blockdev" is a bind of the host's
		 * /dev/null or /dev/loop0: change that inode (mode, owner, xattrs,
		 * times), or swap it for another; a block device must not even
		 * open (its data is the host's) */
		const char *dev = canary;
		if (!strcmp(what, "blockdev")) {
			static const int how[] = { O_RDONLY, O_WRONLY, O_RDWR };
			for (int k = 0; k < 3; k++) {
				int fd = open(dev, how[k] | O_CLOEXEC);
				if (fd >= 0) { printf("open %s mode %d\n", dev, k); wins++; close(fd); }
			}
			if (mknod("/b2", S_IFBLK | 0600, makedev(7, 0)) == 0) { printf("mknod\n"); wins++; }
		}
		if (chmod(dev, 0777) == 0) { printf("chmod %s\n", dev); wins++; }
		if (chown(dev, 0, 0) == 0) { printf("chown %s\n", dev); wins++; }
		if (setxattr(dev, "security.capability", "\0\0\0\2", 4, 0) == 0) { printf("setxattr\n"); wins++; }
		if (setxattr(dev, "trusted.x", "x", 1, 0) == 0) { printf("trusted xattr\n"); wins++; }
		struct timespec t[2] = { { 0, 0 }, { 0, 0 } };
		if (utimensat(AT_FDCWD, dev, t, 0) == 0) { printf("utimensat\n"); wins++; }
		/* once unmounted, what is underneath is the case's own empty file */
		umount2(dev, MNT_DETACH);
		if (chmod(dev, 04777) == 0) printf("chmod after umount (the case's file)\n");
		return wins;
	}
	return 2;
}
