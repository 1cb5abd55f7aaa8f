/*
 * The new mount API's calls (open_tree, move_mount: 5.2) where libc's
 * headers predate them: the executor binds /dev/null for "chardev" files,
 * simjail binds host files into its jail, both as detached clones made
 * before the root switch.
 */
#ifndef EXECSPEC_MOUNT_API_H
#define EXECSPEC_MOUNT_API_H

#include <sys/syscall.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#define OPEN_TREE_CLONE_ 1
#define OPEN_TREE_CLOEXEC_ 02000000
#define MOVE_MOUNT_F_EMPTY_PATH_ 4

#endif
