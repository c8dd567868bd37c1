/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer used for JSON output, log lines and request bodies. */
#ifndef AL_CORE_BUF_H
#define AL_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct al_buf {
	char *data; /* owned; NUL-terminated after every append (not counted in len) */
	size_t len;
	size_t cap;
	bool oom; /* an allocation failed; further appends are ignored */
};

#define AL_BUF_INIT {0}

/* Appends; on allocation failure sets b->oom and returns false. */
bool al_buf_append(struct al_buf *b, const void *data, size_t len);
bool al_buf_putc(struct al_buf *b, char c);
bool al_buf_puts(struct al_buf *b, const char *s);
bool al_buf_printf(struct al_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for n more bytes; returns a pointer to write them (then al_buf_commit). */
char *al_buf_reserve(struct al_buf *b, size_t n);
void al_buf_commit(struct al_buf *b, size_t n);
void al_buf_reset(struct al_buf *b); /* len = 0, keeps the allocation */
void al_buf_free(struct al_buf *b);
/* Transfers ownership of the data to the caller (never NULL unless oom); b is emptied. */
char *al_buf_steal(struct al_buf *b, size_t *len);

#endif
