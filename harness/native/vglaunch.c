/*
 * A stand-in for valgrind's launcher (valgrind.bin), static so that it runs
 * in a case's root, where no libc is: it picks the tool binary for the
 * client as valgrind's launcher-linux.c does (amd64, or x86 for a 32-bit
 * i386 ELF), sets VALGRIND_LAUNCHER (itself: with --trace-children=yes the
 * tool re-runs it for every execve the client makes) and VALGRIND_LIB, and
 * execs $VALGRIND_LIB/TOOL-PLATFORM with its own argv.  The tool (default
 * memcheck; --tool=NAME) and its loader are valgrind's own, unchanged.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *lib = getenv("VALGRIND_LIB"), *tool = "memcheck", *client = NULL;
	if (!lib) lib = "/.execspec/valgrind";
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--tool=", 7)) tool = argv[i] + 7;
		else if (argv[i][0] != '-') { client = argv[i]; break; }
	}
	const char *platform = "amd64-linux";
	if (client) {
		int fd = open(client, O_RDONLY);
		unsigned char h[20];
		if (fd >= 0 && read(fd, h, sizeof h) == sizeof h && !memcmp(h, ELFMAG, SELFMAG)
		    && h[EI_CLASS] == ELFCLASS32 && h[18] == EM_386)
			platform = "x86-linux";
		if (fd >= 0) close(fd);
	}
	char self[4096], path[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) { perror("vglaunch: /proc/self/exe"); return 1; }
	self[n] = 0;
	setenv("VALGRIND_LAUNCHER", self, 1);
	setenv("VALGRIND_LIB", lib, 1);
	snprintf(path, sizeof path, "%s/%s-%s", lib, tool, platform);
	execv(path, argv);
	perror(path);
	return 1;
}
