/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *al_buf_reserve(struct al_buf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len <= n) {
			if (cap > ((size_t)-1) / 2) {
				b->oom = true;
				return NULL;
			}
			cap *= 2;
		}
		char *p = realloc(b->data, cap);
		if (!p) {
			b->oom = true;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

void al_buf_commit(struct al_buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

bool al_buf_append(struct al_buf *b, const void *data, size_t len)
{
	char *p = al_buf_reserve(b, len);
	if (!p)
		return false;
	if (len)
		memcpy(p, data, len);
	al_buf_commit(b, len);
	return true;
}

bool al_buf_putc(struct al_buf *b, char c)
{
	return al_buf_append(b, &c, 1);
}

bool al_buf_puts(struct al_buf *b, const char *s)
{
	return al_buf_append(b, s, strlen(s));
}

bool al_buf_printf(struct al_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof small)
		return al_buf_append(b, small, (size_t)n);
	char *p = al_buf_reserve(b, (size_t)n);
	if (!p)
		return false;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	al_buf_commit(b, (size_t)n);
	return true;
}

void al_buf_reset(struct al_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data)
		b->data[0] = '\0';
}

void al_buf_free(struct al_buf *b)
{
	free(b->data);
	*b = (struct al_buf)AL_BUF_INIT;
}

char *al_buf_steal(struct al_buf *b, size_t *len)
{
	if (b->oom) {
		al_buf_free(b);
		return NULL;
	}
	if (!b->data && !al_buf_reserve(b, 0))
		return NULL;
	if (b->len == 0)
		b->data[0] = '\0';
	char *p = b->data;
	if (len)
		*len = b->len;
	*b = (struct al_buf)AL_BUF_INIT;
	return p;
}
