/* SPDX-License-Identifier: Apache-2.0 */
/* Cryptographically secure random bytes from the kernel (getrandom). */
#ifndef AL_CRYPTO_RANDOM_H
#define AL_CRYPTO_RANDOM_H

#include <stdbool.h>
#include <stddef.h>

/* Fills buf with n random bytes; false only if the kernel refuses (never partial). */
bool al_random_bytes(void *buf, size_t n);
/* Writes 2*n lowercase hex digits of n random bytes plus NUL into out (size >= 2n+1). */
bool al_random_hex(char *out, size_t n);
/* Random (version 4) UUID, 36 characters plus NUL. */
bool al_uuid4(char out[37]);

#endif
