/*
 * execspec guest init (PID 1 of a QEMU guest's initramfs).
 *
 * Mounts /proc and a tmpfs for the cases, loads binfmt_misc.ko when the
 * initramfs carries it (Debian builds it as a module), puts the protocol
 * serial port (/dev/ttyS1) in raw mode and execs the executor on it in
 * --mode plain --hex: the VM is throwaway, so its global binfmt_misc
 * instance is the case's (reset before every case).  The kernel console
 * stays on ttyS0 so printk never interleaves with protocol frames.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "caselimits.h" /* MAX_PROBES */

static void say(const char *m)
{
	int fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
	if (fd >= 0) {
		dprintf(fd, "execspec-init: %s (%s)\n", m, strerror(errno));
		close(fd);
	}
}

int main(void)
{
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mkdir("/tmp", 0755);
	int fd = open("/binfmt_misc.ko", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
			say("binfmt_misc.ko did not load");
		close(fd);
	}
	int tty = open("/dev/ttyS1", O_RDWR | O_NOCTTY);
	if (tty < 0) {
		say("no /dev/ttyS1");
		reboot(RB_POWER_OFF);
	}
	struct termios t;
	if (tcgetattr(tty, &t) == 0) {
		cfmakeraw(&t);
		cfsetspeed(&t, B115200);
		tcsetattr(tty, TCSANOW, &t);
	}
	dup2(tty, 0);
	dup2(tty, 1);
	if (tty > 1)
		close(tty);
	/* --probe for as many /probeN as the initramfs carries: the two core
	 * probes, and the userspace callers of "search" cases when the
	 * harness packed them (contract.case.PROBE_VARIANTS order) */
	static char paths[MAX_PROBES][16];
	char *argv[6 + 2 * MAX_PROBES + 1] = { "/executor", "--mode", "plain", "--hex", "--scratch", "/tmp" };
	int n = 6;
	for (int i = 0; i < MAX_PROBES; i++) {
		snprintf(paths[i], sizeof paths[i], "/probe%d", i);
		if (access(paths[i], R_OK))
			break;
		argv[n++] = "--probe";
		argv[n++] = paths[i];
	}
	argv[n] = NULL;
	execv("/executor", argv);
	say("cannot exec /executor");
	reboot(RB_POWER_OFF);
	return 1;
}
