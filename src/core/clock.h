/* SPDX-License-Identifier: Apache-2.0 */
/* Wall and monotonic clocks, RFC 3339 formatting and parsing. */
#ifndef AL_CORE_CLOCK_H
#define AL_CORE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock in microseconds since the epoch, plus the offset set by al_clock_set_offset. */
int64_t al_now_us(void);
/* Monotonic clock in nanoseconds. */
int64_t al_monotonic_ns(void);
/* Shifts the wall clock seen by the product (tests of lockout and expiry). */
void al_clock_set_offset_us(int64_t offset);
/* "2026-12-04T16:26:10.123Z" (milliseconds, UTC) into out (>= 32 bytes); returns length. */
size_t al_rfc3339(int64_t us, char *out, size_t outlen);
/* Parses RFC 3339 (with 'Z' or +hh:mm offset, optional fraction) into microseconds. */
bool al_rfc3339_parse(const char *s, size_t len, int64_t *out_us);

#endif
