/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON (RFC 8259): an iterative event parser and the string/number writers. */
#include "core/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Byte classes inside a string literal, shared by the parser and the writer. */
enum { SC_PLAIN, SC_QUOTE, SC_BACKSLASH, SC_CTRL, SC_HIGH };

static const unsigned char str_class[256] = {
	[0x00 ... 0x1f] = SC_CTRL,
	['"'] = SC_QUOTE,
	['\\'] = SC_BACKSLASH,
	[0x80 ... 0xff] = SC_HIGH,
};

static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Length of the well-formed UTF-8 sequence starting at p (p[0] >= 0x80), or 0 when it is not one
 * (overlong forms, encoded surrogates, code points above U+10FFFF, truncated sequences). */
static inline size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t avail = (size_t)(end - p);

	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (avail < 3 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		return p[1] >= lo && p[1] <= hi ? 3 : 0;
	}
	if (c < 0xF5) {
		if (avail < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		return p[1] >= lo && p[1] <= hi ? 4 : 0;
	}
	return 0;
}

/* ---- parser ------------------------------------------------------------------------- */

struct parser {
	const unsigned char *start, *end;
	struct al_json_error *err;
	struct al_buf *scratch;
};

static int __attribute__((format(printf, 3, 4))) fail(const struct parser *ps, const unsigned char *at,
						       const char *fmt, ...)
{
	struct al_json_error *err = ps->err;
	if (!err)
		return -1;
	size_t off = (size_t)(at - ps->start), line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		if (ps->start[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	err->offset = off;
	err->line = line;
	err->column = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

static bool has_prefix(const unsigned char *p, const unsigned char *end, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* Reports the byte at p where something else was expected; `expected` may be NULL. */
static int fail_unexpected(const struct parser *ps, const unsigned char *p, const char *expected)
{
	const char *sep = expected ? ", expected " : "", *what = expected ? expected : "";

	if (p >= ps->end)
		return fail(ps, p, "unexpected end of input%s%s", sep, what);
	if (*p == '/')
		return fail(ps, p, "comments are not allowed");
	if (has_prefix(p, ps->end, "NaN") || has_prefix(p, ps->end, "Infinity"))
		return fail(ps, p, "NaN and Infinity are not valid JSON");
	if (*p == '\'')
		return fail(ps, p, "strings must use double quotes");
	if (*p > 0x20 && *p < 0x7f)
		return fail(ps, p, "unexpected character '%c'%s%s", *p, sep, what);
	return fail(ps, p, "unexpected byte 0x%02X%s%s", *p, sep, what);
}

static inline int hex4(const unsigned char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c - '0' < 10)
			d = c - '0';
		else if ((c | 0x20) - 'a' < 6)
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | (int)d;
	}
	return v;
}

/* Parses the \uXXXX escape at p (p[0] == 'u') and, for a high surrogate, the low one after it;
 * appends the UTF-8 encoding to scratch. Returns the bytes consumed after the backslash, or -1. */
static int parse_unicode_escape(const struct parser *ps, const unsigned char *p)
{
	const unsigned char *end = ps->end;
	int cp, lo;

	if (end - p < 5 || (cp = hex4(p + 1)) < 0)
		return fail(ps, p - 1, "invalid \\u escape (expected 4 hex digits)");
	int used = 5;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(ps, p - 1, "lone surrogate \\u%04X in string", (unsigned)cp);
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (end - p < 11 || p[5] != '\\' || p[6] != 'u' || (lo = hex4(p + 7)) < 0 || lo < 0xDC00 ||
		    lo > 0xDFFF)
			return fail(ps, p - 1, "lone surrogate \\u%04X in string", (unsigned)cp);
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		used = 11;
	}
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	al_buf_append(ps->scratch, u, n);
	return used;
}

/* *pp points just after the opening quote. On success sets *out and *outlen (borrowed from the input when
 * the literal has no escapes, else from the scratch buffer) and moves *pp past the closing quote. */
static int parse_string(const struct parser *ps, const unsigned char **pp, const char **out, size_t *outlen)
{
	const unsigned char *p = *pp, *end = ps->end, *seg = p, *open = p - 1;
	struct al_buf *sb = ps->scratch;
	bool escaped = false;

	for (;;) {
		while (p < end && str_class[*p] == SC_PLAIN)
			p++;
		if (p >= end)
			return fail(ps, open, "unterminated string");
		switch (str_class[*p]) {
		case SC_QUOTE:
			if (!escaped) {
				*out = (const char *)seg;
				*outlen = (size_t)(p - seg);
			} else {
				al_buf_append(sb, seg, (size_t)(p - seg));
				if (sb->oom)
					return fail(ps, p, "out of memory");
				*out = sb->data;
				*outlen = sb->len;
			}
			*pp = p + 1;
			return 0;
		case SC_BACKSLASH: {
			if (!escaped) {
				al_buf_reset(sb);
				escaped = true;
			}
			al_buf_append(sb, seg, (size_t)(p - seg));
			const unsigned char *esc = p++;
			if (p >= end)
				return fail(ps, open, "unterminated string");
			char c;
			switch (*p) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				int used = parse_unicode_escape(ps, p);
				if (used < 0)
					return -1;
				p += used;
				seg = p;
				continue;
			}
			default:
				if (*p > 0x20 && *p < 0x7f)
					return fail(ps, esc, "invalid escape '\\%c' in string", *p);
				return fail(ps, esc, "invalid escape in string");
			}
			al_buf_putc(sb, c);
			seg = ++p;
			break;
		}
		case SC_CTRL:
			return fail(ps, p, "unescaped control character 0x%02X in string", *p);
		default: { /* SC_HIGH */
			size_t n = utf8_seq_len(p, end);
			if (!n)
				return fail(ps, p, "invalid UTF-8 in string");
			p += n;
			break;
		}
		}
	}
}

/* *pp points at '-' or a digit. Validates the RFC 8259 grammar, then converts: exactly-representable
 * cases directly (Clinger's fast path), everything else through strtod ("C" locale). */
static int parse_number(const struct parser *ps, const unsigned char **pp, double *out, bool *is_integer)
{
	const unsigned char *s = *pp, *p = s, *end = ps->end;
	uint64_t mant = 0;
	long ndigits = 0, frac_digits = 0;
	bool neg = false, integer = true, fast = true;
	long exp10 = 0;

	if (*p == '-') {
		neg = true;
		if (++p >= end)
			return fail(ps, p, "unexpected end of input, expected a digit");
		if (*p < '0' || *p > '9') {
			if (*p == 'I')
				return fail(ps, s, "NaN and Infinity are not valid JSON");
			return fail_unexpected(ps, p, "a digit");
		}
	}
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			return fail(ps, p - 1, "leading zeros are not allowed");
		if (p < end && (*p == 'x' || *p == 'X'))
			return fail(ps, s, "hexadecimal numbers are not allowed");
	} else {
		while (p < end && *p >= '0' && *p <= '9') {
			mant = mant * 10 + (unsigned)(*p++ - '0');
			ndigits++;
		}
	}
	if (p < end && *p == '.') {
		integer = false;
		if (++p >= end || *p < '0' || *p > '9')
			return fail_unexpected(ps, p, "a digit after the decimal point");
		while (p < end && *p >= '0' && *p <= '9') {
			mant = mant * 10 + (unsigned)(*p++ - '0');
			ndigits++;
			frac_digits++;
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		integer = false;
		bool eneg = false;
		if (++p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= end || *p < '0' || *p > '9')
			return fail_unexpected(ps, p, "a digit in the exponent");
		while (p < end && *p >= '0' && *p <= '9') {
			if (exp10 < 100000)
				exp10 = exp10 * 10 + (*p - '0');
			p++;
		}
		if (eneg)
			exp10 = -exp10;
	}
	exp10 -= frac_digits;
	if (ndigits > 15 || exp10 < -22 || exp10 > 22)
		fast = false;

	double v;
	if (fast) {
		/* mant < 10^15 < 2^53 and 10^|exp10| are exact, so one correctly rounded operation. */
		v = (double)mant;
		if (exp10 > 0)
			v *= pow10_exact[exp10];
		else if (exp10 < 0)
			v /= pow10_exact[-exp10];
		if (neg)
			v = -v;
	} else {
		size_t n = (size_t)(p - s);
		char small[64], *tmp = small;
		if (n >= sizeof small && !(tmp = malloc(n + 1)))
			return fail(ps, s, "out of memory");
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		v = strtod(tmp, NULL);
		if (tmp != small)
			free(tmp);
		if (isinf(v))
			return fail(ps, s, "number out of range");
	}
	*out = v;
	*is_integer = integer;
	*pp = p;
	return 0;
}

#define SKIP_WS()                                                                                    \
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))                      \
	p++

/* Calls an optional handler; a non-zero result aborts the parse. */
#define EMIT(fn, ...)                                                                                \
	do {                                                                                         \
		if (h->fn) {                                                                         \
			int rc_ = h->fn(__VA_ARGS__);                                                \
			if (rc_) {                                                                   \
				fail(&ps, p, "aborted");                                             \
				return rc_;                                                          \
			}                                                                            \
		}                                                                                    \
	} while (0)

/* One bit per open level (1 = object); a byte is cleared when its first level opens, so no
 * bit of the stack is ever read before it was written. */
#define STACK_PUSH(is_obj)                                                                           \
	do {                                                                                         \
		if ((depth & 7) == 0)                                                                \
			stack[depth >> 3] = 0;                                                       \
		if (is_obj)                                                                          \
			stack[depth >> 3] |= (unsigned char)(1u << (depth & 7));                     \
		else                                                                                 \
			stack[depth >> 3] &= (unsigned char)~(1u << (depth & 7));                    \
		depth++;                                                                             \
	} while (0)
#define STACK_TOP_IS_OBJ() (stack[(depth - 1) >> 3] >> ((depth - 1) & 7) & 1)

int al_json_parse_scratch(const char *text, size_t len, const struct al_json_handlers *h, void *ud,
			  size_t max_depth, struct al_json_error *err, struct al_buf *scratch)
{
	static const struct al_json_handlers none;
	const unsigned char *p = (const unsigned char *)(text ? text : ""), *end = p + (text ? len : 0);
	struct parser ps = {.start = p, .end = end, .err = err, .scratch = scratch};
	unsigned char stack[AL_JSON_DEPTH_CAP / 8];
	size_t depth = 0;
	const char *str = NULL;
	size_t slen = 0;
	double num = 0;
	bool is_int = false;

	if (!h)
		h = &none;
	if (max_depth == 0)
		max_depth = AL_JSON_MAX_DEPTH;
	if (max_depth > AL_JSON_DEPTH_CAP)
		max_depth = AL_JSON_DEPTH_CAP;

value:
	SKIP_WS();
	if (p >= end)
		return fail_unexpected(&ps, p, "a value");
	switch (*p) {
	case '{':
		if (depth >= max_depth)
			return fail(&ps, p, "nesting deeper than %zu levels", max_depth);
		STACK_PUSH(1);
		p++;
		EMIT(on_object_start, ud);
		SKIP_WS();
		if (p < end && *p == '}') {
			p++;
			depth--;
			EMIT(on_object_end, ud);
			goto after_value;
		}
		goto key;
	case '[':
		if (depth >= max_depth)
			return fail(&ps, p, "nesting deeper than %zu levels", max_depth);
		STACK_PUSH(0);
		p++;
		EMIT(on_array_start, ud);
		SKIP_WS();
		if (p < end && *p == ']') {
			p++;
			depth--;
			EMIT(on_array_end, ud);
			goto after_value;
		}
		goto value;
	case '"':
		p++;
		if (parse_string(&ps, &p, &str, &slen))
			return -1;
		EMIT(on_string, ud, str, slen);
		goto after_value;
	case 't':
		if (!has_prefix(p, end, "true"))
			return fail(&ps, p, "invalid literal (expected true, false or null)");
		p += 4;
		EMIT(on_bool, ud, true);
		goto after_value;
	case 'f':
		if (!has_prefix(p, end, "false"))
			return fail(&ps, p, "invalid literal (expected true, false or null)");
		p += 5;
		EMIT(on_bool, ud, false);
		goto after_value;
	case 'n':
		if (!has_prefix(p, end, "null"))
			return fail(&ps, p, "invalid literal (expected true, false or null)");
		p += 4;
		EMIT(on_null, ud);
		goto after_value;
	case '-':
	case '0' ... '9':
		if (parse_number(&ps, &p, &num, &is_int))
			return -1;
		EMIT(on_number, ud, num, is_int);
		goto after_value;
	default:
		return fail_unexpected(&ps, p, NULL);
	}

key:
	if (p >= end || *p != '"')
		return fail_unexpected(&ps, p, "a string key");
	p++;
	if (parse_string(&ps, &p, &str, &slen))
		return -1;
	EMIT(on_key, ud, str, slen);
	SKIP_WS();
	if (p >= end || *p != ':')
		return fail_unexpected(&ps, p, "':' after the object key");
	p++;
	goto value;

after_value:
	SKIP_WS();
	if (depth == 0) {
		if (p != end)
			return fail_unexpected(&ps, p, "end of input after the JSON value");
		return 0;
	}
	if (p >= end)
		return fail_unexpected(&ps, p, STACK_TOP_IS_OBJ() ? "',' or '}'" : "',' or ']'");
	if (*p == ',') {
		p++;
		SKIP_WS();
		if (STACK_TOP_IS_OBJ()) {
			if (p < end && *p == '}')
				return fail(&ps, p, "trailing comma before '}'");
			goto key;
		}
		if (p < end && *p == ']')
			return fail(&ps, p, "trailing comma before ']'");
		goto value;
	}
	if (STACK_TOP_IS_OBJ()) {
		if (*p != '}')
			return fail_unexpected(&ps, p, "',' or '}'");
		p++;
		depth--;
		EMIT(on_object_end, ud);
	} else {
		if (*p != ']')
			return fail_unexpected(&ps, p, "',' or ']'");
		p++;
		depth--;
		EMIT(on_array_end, ud);
	}
	goto after_value;
}

int al_json_parse(const char *text, size_t len, const struct al_json_handlers *h, void *ud, size_t max_depth,
		  struct al_json_error *err)
{
	struct al_buf scratch = AL_BUF_INIT;
	int rc = al_json_parse_scratch(text, len, h, ud, max_depth, err, &scratch);
	al_buf_free(&scratch);
	return rc;
}

/* ---- writers ------------------------------------------------------------------------ */

#define WRITE_CHUNK 4096

bool al_json_write_string(struct al_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *end = p + (s ? len : 0);
	bool first = true;

	do {
		/* Worst case 6 output bytes per input byte; a UTF-8 sequence may overhang the chunk by 3. */
		size_t n = (size_t)(end - p) < WRITE_CHUNK ? (size_t)(end - p) : WRITE_CHUNK, need = 6 * n + 16;
		const unsigned char *cend = p + n;
		char *o0 = b->cap - b->len > need ? b->data + b->len : al_buf_reserve(b, need), *o = o0;
		if (!o)
			return false;
		if (first) {
			*o++ = '"';
			first = false;
		}
		while (p < cend) {
			unsigned char c;
			while (p < cend && str_class[c = *p] == SC_PLAIN) {
				*o++ = (char)c;
				p++;
			}
			if (p >= cend)
				break;
			switch (str_class[c]) {
			case SC_QUOTE:
			case SC_BACKSLASH:
				*o++ = '\\';
				*o++ = (char)c;
				p++;
				break;
			case SC_CTRL:
				*o++ = '\\';
				switch (c) {
				case '\b': *o++ = 'b'; break;
				case '\f': *o++ = 'f'; break;
				case '\n': *o++ = 'n'; break;
				case '\r': *o++ = 'r'; break;
				case '\t': *o++ = 't'; break;
				default:
					memcpy(o, "u00", 3);
					o[3] = hex[c >> 4];
					o[4] = hex[c & 15];
					o += 5;
				}
				p++;
				break;
			default: { /* SC_HIGH */
				size_t k = utf8_seq_len(p, end);
				if (k) {
					memcpy(o, p, k);
					o += k;
					p += k;
				} else {
					memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD */
					o += 3;
					p++;
				}
			}
			}
		}
		if (p >= end)
			*o++ = '"';
		al_buf_commit(b, (size_t)(o - o0));
	} while (p < end);
	return true;
}

/* Writes |v| in fixed notation with the fewest decimals (at most 15 significant digits) that read back
 * exactly. m / 10^k is correctly rounded (both exact), like strtod of the same digits, and the digits equal
 * what "%.15g" prints, so the output is the same as the printf path below, only faster.
 * Returns the length, or 0 when v needs the printf path. */
static size_t format_fixed(char *out, double v)
{
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int k = 1; k <= 15; k++) {
		double scaled = a * pow10_exact[k];
		if (scaled >= 1e15)
			return 0;
		double m = nearbyint(scaled);
		if (m / pow10_exact[k] != a)
			continue;
		uint64_t u = (uint64_t)m, ip = u / (uint64_t)pow10_exact[k], fp = u % (uint64_t)pow10_exact[k];
		char tmp[40], *e = tmp + sizeof tmp, *q = e;
		int digits = k;
		while (digits > 1 && fp % 10 == 0) {
			fp /= 10;
			digits--;
		}
		for (int i = 0; i < digits; i++) {
			*--q = (char)('0' + fp % 10);
			fp /= 10;
		}
		*--q = '.';
		do {
			*--q = (char)('0' + ip % 10);
			ip /= 10;
		} while (ip);
		if (signbit(v))
			*--q = '-';
		size_t n = (size_t)(e - q);
		memcpy(out, q, n);
		return n;
	}
	return 0;
}

bool al_json_write_number(struct al_buf *b, double v)
{
	char tmp[40];

	if (!isfinite(v))
		return false;
	if (v > -9223372036854775808.0 && v < 9223372036854775808.0) {
		int64_t i = (int64_t)v;
		if ((double)i == v) {
			char *e = tmp + sizeof tmp, *q = e;
			uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
			do {
				*--q = (char)('0' + u % 10);
				u /= 10;
			} while (u);
			if (signbit(v))
				*--q = '-'; /* also keeps -0 as "-0", which reads back as -0.0 */
			return al_buf_append(b, q, (size_t)(e - q));
		}
	}
	size_t n = format_fixed(tmp, v);
	if (n)
		return al_buf_append(b, tmp, n);
	int len = 0;
	for (int prec = 15; prec <= 17; prec++) {
		len = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (prec == 17 || strtod(tmp, NULL) == v)
			break;
	}
	return al_buf_append(b, tmp, (size_t)len);
}
