/* SPDX-License-Identifier: Apache-2.0 */
/* Cryptographically secure random bytes from the kernel (getrandom), hex strings and UUIDs. */
#include "crypto/random.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static const char hex_digits[] = "0123456789abcdef";

/* buf is the caller's; getrandom may return fewer bytes than asked (large requests, signals). */
bool al_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += got;
		n -= (size_t)got;
	}
	return true;
}

/* out is the caller's, at least 2n+1 bytes; on failure it holds an empty string. */
bool al_random_hex(char *out, size_t n)
{
	unsigned char chunk[64];
	size_t done = 0;

	while (done < n) {
		size_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
		if (!al_random_bytes(chunk, k)) {
			explicit_bzero(chunk, sizeof chunk);
			out[0] = '\0';
			return false;
		}
		for (size_t i = 0; i < k; i++) {
			out[2 * (done + i)] = hex_digits[chunk[i] >> 4];
			out[2 * (done + i) + 1] = hex_digits[chunk[i] & 0x0f];
		}
		done += k;
	}
	out[2 * n] = '\0';
	explicit_bzero(chunk, sizeof chunk);
	return true;
}

/* out is the caller's; RFC 9562 version 4: 122 random bits, version nibble 4, variant bits 10. */
bool al_uuid4(char out[37])
{
	uint8_t b[16];
	size_t o = 0;

	if (!al_random_bytes(b, sizeof b)) {
		out[0] = '\0';
		return false;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	for (size_t i = 0; i < sizeof b; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex_digits[b[i] >> 4];
		out[o++] = hex_digits[b[i] & 0x0f];
	}
	out[o] = '\0';
	return true;
}
