/*
 * Records: u8 type, u32 length (host order: little-endian on every target
 * we run), payload.  The executor's frames and responses, its case inits'
 * status reports and the probe's and fallback's reports (read by
 * harness/protocol.py) are sequences of them.  The one writer and the one
 * bounds-checked reader of every execspec C program but the probe, which
 * has no libc (probe.c writes the same records on its own).  Kept free of
 * any caller's helpers: harness/build.py inlines it into the reproducers.
 */
#ifndef EXECSPEC_RECORD_H
#define EXECSPEC_RECORD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf { unsigned char *p; size_t len, cap; };

static inline void buf_add(struct buf *b, const void *p, size_t n)
{
	if (!n) return; /* memcpy from a NULL buffer is undefined even for 0 bytes */
	if (b->len + n > b->cap) {
		size_t c = b->cap ? b->cap : 4096;
		while (c < b->len + n) c *= 2;
		b->p = realloc(b->p, c);
		if (!b->p) perror("execspec: realloc"), exit(2);
		b->cap = c;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void rec(struct buf *b, char type, const void *p, uint32_t n)
{
	buf_add(b, &type, 1);
	buf_add(b, &n, 4);
	buf_add(b, p, n);
}

/* Is there a whole record at `off` of the n bytes at p?  Then 1, its
 * payload's length in *len (the payload at p + off + 5); else 0: the end,
 * or a record running past it. */
static inline int record_at(const unsigned char *p, size_t n, size_t off, uint32_t *len)
{
	if (n < 5 || off > n - 5) return 0;
	memcpy(len, p + off + 1, 4);
	return *len <= n - off - 5;
}

#endif
