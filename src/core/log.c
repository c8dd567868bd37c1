/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled, structured logging to stderr: JSON lines or text, one write(2) per line, no locks. */
#include "core/log.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

/* Lines that fit are built on the stack; longer ones move to the heap. Lines up to PIPE_BUF
 * (4096) bytes are also atomic on pipes; longer ones are atomic on files and terminals. */
#define LOG_STACK_LINE 4096
#define LOG_STACK_MSG 1024

static _Atomic int log_level = AL_LOG_INFO;
static _Atomic int log_format = AL_LOG_FORMAT_JSON;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const level_labels[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

struct line {
	char *p;
	size_t len, cap;
	bool heap, oom;
};

static bool line_reserve(struct line *l, size_t n)
{
	if (l->oom)
		return false;
	if (l->cap - l->len >= n)
		return true;
	size_t cap = l->cap * 2;
	while (cap - l->len < n)
		cap *= 2;
	char *p = l->heap ? realloc(l->p, cap) : malloc(cap);
	if (!p) {
		l->oom = true;
		return false;
	}
	if (!l->heap)
		memcpy(p, l->p, l->len);
	l->p = p;
	l->cap = cap;
	l->heap = true;
	return true;
}

static void line_put(struct line *l, const char *s, size_t n)
{
	if (!line_reserve(l, n))
		return;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

static void line_putc(struct line *l, char c)
{
	line_put(l, &c, 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is invalid or truncated. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range or a surrogate */
	return len;
}

/* JSON string escaping without the quotes: '"', '\\' (when quotes is set) and control characters
 * escaped, '/' kept, invalid UTF-8 replaced by U+FFFD (the same rules as al_json_write_string). */
static void put_escaped(struct line *l, const char *str, size_t n, bool quotes)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char u[8];
		size_t k = 1;

		if (c == '"' && quotes)
			esc = "\\\"";
		else if (c == '\\' && quotes)
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7f) {
			snprintf(u, sizeof u, "\\u%04x", c);
			esc = u;
		} else if (c >= 0x80 && !(k = utf8_len(s + i, n - i))) {
			esc = "\xef\xbf\xbd";
			k = 1;
		}
		if (!esc) {
			i += k;
			run += k;
			continue;
		}
		line_put(l, str + i - run, run);
		line_puts(l, esc);
		run = 0;
		i += k;
	}
	line_put(l, str + n - run, run);
}

static size_t str_len(const struct al_log_field *f)
{
	return f->len == (size_t)-1 ? strlen(f->v.s) : f->len;
}

/* Shortest of %.15g..%.17g that reads back to the same double. */
static void put_double(struct line *l, double d, bool json)
{
	char buf[32];

	if (!isfinite(d)) {
		line_puts(l, json ? "null" : isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	line_puts(l, buf);
}

static void put_int(struct line *l, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%" PRId64, v);

	line_put(l, buf, (size_t)n);
}

static void put_json_value(struct line *l, const struct al_log_field *f)
{
	switch (f->type) {
	case AL_LF_STR:
		if (!f->v.s) {
			line_puts(l, "null");
			break;
		}
		line_putc(l, '"');
		put_escaped(l, f->v.s, str_len(f), true);
		line_putc(l, '"');
		break;
	case AL_LF_INT:
		put_int(l, f->v.i);
		break;
	case AL_LF_DOUBLE:
		put_double(l, f->v.d, true);
		break;
	case AL_LF_BOOL:
		line_puts(l, f->v.b ? "true" : "false");
		break;
	}
}

/* logfmt: a value is quoted when it is empty or holds spaces, '"', '=', control characters or
 * invalid UTF-8. */
static bool text_needs_quotes(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	if (n == 0)
		return true;
	for (size_t i = 0; i < n;) {
		if (s[i] <= ' ' || s[i] == '"' || s[i] == '=' || s[i] == 0x7f || s[i] == '\\')
			return true;
		size_t k = s[i] < 0x80 ? 1 : utf8_len(s + i, n - i);
		if (!k)
			return true;
		i += k;
	}
	return false;
}

static void put_text_value(struct line *l, const struct al_log_field *f)
{
	if (f->type != AL_LF_STR || !f->v.s) {
		if (f->type == AL_LF_DOUBLE)
			put_double(l, f->v.d, false);
		else
			put_json_value(l, f);
		return;
	}
	size_t n = str_len(f);
	if (!text_needs_quotes(f->v.s, n)) {
		line_put(l, f->v.s, n);
		return;
	}
	line_putc(l, '"');
	put_escaped(l, f->v.s, n, true);
	line_putc(l, '"');
}

static void write_line(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void build_line(struct line *l, int format, enum al_log_level level, const char *msg,
		       const struct al_log_field *fields, size_t n)
{
	char when[40];

	al_rfc3339(al_now_us(), when, sizeof when);
	if (format == AL_LOG_FORMAT_TEXT) {
		line_puts(l, when);
		line_putc(l, ' ');
		line_puts(l, level_labels[level]);
		line_putc(l, ' ');
		put_escaped(l, msg, strlen(msg), false);
		for (size_t i = 0; i < n; i++) {
			if (!fields[i].key)
				continue;
			line_putc(l, ' ');
			line_puts(l, fields[i].key);
			line_putc(l, '=');
			put_text_value(l, &fields[i]);
		}
	} else {
		line_puts(l, "{\"time\":\"");
		line_puts(l, when);
		line_puts(l, "\",\"level\":\"");
		line_puts(l, level_names[level]);
		line_puts(l, "\",\"msg\":\"");
		put_escaped(l, msg, strlen(msg), true);
		line_putc(l, '"');
		for (size_t i = 0; i < n; i++) {
			if (!fields[i].key)
				continue;
			line_puts(l, ",\"");
			put_escaped(l, fields[i].key, strlen(fields[i].key), true);
			line_puts(l, "\":");
			put_json_value(l, &fields[i]);
		}
		line_putc(l, '}');
	}
	line_putc(l, '\n');
}

void al_log_setup(enum al_log_level level, enum al_log_format format)
{
	if ((int)level < AL_LOG_DEBUG || level > AL_LOG_ERROR)
		level = AL_LOG_INFO;
	if (format != AL_LOG_FORMAT_JSON && format != AL_LOG_FORMAT_TEXT)
		format = isatty(STDERR_FILENO) ? AL_LOG_FORMAT_TEXT : AL_LOG_FORMAT_JSON;
	atomic_store_explicit(&log_format, (int)format, memory_order_relaxed);
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

bool al_log_enabled(enum al_log_level level)
{
	return (int)level >= atomic_load_explicit(&log_level, memory_order_relaxed);
}

bool al_log_level_parse(const char *s, enum al_log_level *out)
{
	for (int i = AL_LOG_DEBUG; s && i <= AL_LOG_ERROR; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum al_log_level)i;
			return true;
		}
	}
	return false;
}

/* Returns a static string. */
const char *al_log_level_name(enum al_log_level level)
{
	return (int)level >= AL_LOG_DEBUG && level <= AL_LOG_ERROR ? level_names[level] : "unknown";
}

/* msg and fields are borrowed for the call; errno is preserved. */
void al_log_fields(enum al_log_level level, const char *msg, const struct al_log_field *fields, size_t n)
{
	char stack[LOG_STACK_LINE];
	struct line l = {.p = stack, .cap = sizeof stack};
	int saved_errno = errno;

	if ((int)level < AL_LOG_DEBUG || level > AL_LOG_ERROR)
		level = AL_LOG_ERROR;
	if (!al_log_enabled(level))
		return;
	int format = atomic_load_explicit(&log_format, memory_order_relaxed);
	build_line(&l, format, level, msg ? msg : "", fields, n);
	if (l.oom) { /* keep the line well-formed: drop the fields and shorten the message */
		if (l.heap)
			free(l.p);
		l = (struct line){.p = stack, .cap = sizeof stack};
		build_line(&l, format, level, "log line dropped: out of memory", NULL, 0);
	}
	write_line(l.p, l.len);
	if (l.heap)
		free(l.p);
	errno = saved_errno;
}

/* The formatted message lives on the stack, or on the heap when longer than 1 KiB; errno is preserved. */
void al_log(enum al_log_level level, const char *fmt, ...)
{
	char stack[LOG_STACK_MSG];
	char *heap = NULL;
	const char *msg = stack;
	va_list ap;

	if (!al_log_enabled(level))
		return;
	int saved_errno = errno; /* for %m and for the caller */
	va_start(ap, fmt);
	int n = vsnprintf(stack, sizeof stack, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = "(invalid log format)";
	} else if ((size_t)n >= sizeof stack && (heap = malloc((size_t)n + 1))) {
		errno = saved_errno;
		va_start(ap, fmt);
		vsnprintf(heap, (size_t)n + 1, fmt, ap);
		va_end(ap);
		msg = heap;
	}
	al_log_fields(level, msg, NULL, 0);
	free(heap);
	errno = saved_errno;
}
