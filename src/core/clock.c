/* SPDX-License-Identifier: Apache-2.0 */
/* Wall and monotonic clocks, RFC 3339 formatting and parsing. */
#include "core/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static _Atomic int64_t clock_offset_us;

int64_t al_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
	       atomic_load_explicit(&clock_offset_us, memory_order_relaxed);
}

int64_t al_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void al_clock_set_offset_us(int64_t offset)
{
	atomic_store_explicit(&clock_offset_us, offset, memory_order_relaxed);
}

/* out is the caller's; a short buffer gets a truncated, NUL-terminated prefix. */
size_t al_rfc3339(int64_t us, char *out, size_t outlen)
{
	int64_t sec = us / 1000000, rem = us % 1000000;
	struct tm tm;

	if (outlen == 0)
		return 0;
	if (rem < 0) { /* floor, so that times before 1970 keep a positive fraction */
		rem += 1000000;
		sec -= 1;
	}
	time_t t = (time_t)sec;
	if (!gmtime_r(&t, &tm)) {
		out[0] = '\0';
		return 0;
	}
	int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000));
	if (n < 0) {
		out[0] = '\0';
		return 0;
	}
	return (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* n decimal digits at s into *out. */
static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* date-time = YYYY-MM-DD "T" hh:mm:ss [ "." 1*DIGIT ] ( "Z" / ("+" / "-") hh:mm ); 't', 'z' and a
 * space separator are accepted too (RFC 3339 §5.6 note). Leap seconds (":60") are refused. */
bool al_rfc3339_parse(const char *s, size_t len, int64_t *out_us)
{
	int year, mon, day, hour, min, sec, off_h = 0, off_m = 0;
	int64_t frac_us = 0, off_sign = 0;
	size_t i;

	if (!s || len < 20)
		return false;
	if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) || s[7] != '-' ||
	    !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &hour) ||
	    s[13] != ':' || !digits(s + 14, 2, &min) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	i = 19;
	if (s[i] == '.') {
		int64_t scale = 100000;
		size_t start = ++i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			frac_us += (s[i] - '0') * scale; /* digits beyond microseconds are truncated */
			scale /= 10;
		}
		if (i == start)
			return false;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-')) {
		off_sign = s[i] == '+' ? 1 : -1;
		if (!digits(s + i + 1, 2, &off_h) || s[i + 3] != ':' || !digits(s + i + 4, 2, &off_m))
			return false;
		i += 6;
	} else {
		return false;
	}
	if (i != len)
		return false;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 || min > 59 || sec > 59 ||
	    off_h > 23 || off_m > 59)
		return false;

	struct tm tm = {
		.tm_year = year - 1900,
		.tm_mon = mon - 1,
		.tm_mday = day,
		.tm_hour = hour,
		.tm_min = min,
		.tm_sec = sec,
	};
	int64_t t = (int64_t)timegm(&tm); /* fields were validated, so -1 is 1969-12-31T23:59:59 */
	*out_us = (t - off_sign * (off_h * 3600 + off_m * 60)) * 1000000 + frac_us;
	return true;
}
