/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of human-written values: booleans, durations ("30s", "1500ms", "24h"), sizes ("1MiB"). */
#ifndef AL_CORE_UNITS_H
#define AL_CORE_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* true|false|1|0|yes|no|on|off (any case). */
bool al_parse_bool(const char *s, bool *out);
/* Decimal integer, whole string, no overflow. */
bool al_parse_int(const char *s, int64_t *out);
/* Go-style durations: sequence of <number><unit>, units ns us ms s m h (e.g. "1h30m", "1.5s").
 * Result in milliseconds, rounded down; negative values are refused. */
bool al_parse_duration_ms(const char *s, int64_t *out_ms);
/* Sizes: plain bytes or with B, KB, KiB, MB, MiB, GB, GiB (powers of 1024 for both spellings). */
bool al_parse_size(const char *s, int64_t *out_bytes);
/* Formats bytes as the largest exact unit ("1GiB", "512KiB") or plain bytes ("1500"). */
void al_format_size(int64_t bytes, char *out, size_t outlen);
/* Formats milliseconds as the shortest duration string ("30s", "1500ms", "24h"). */
void al_format_duration(int64_t ms, char *out, size_t outlen);

#endif
