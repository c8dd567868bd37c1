/* SPDX-License-Identifier: Apache-2.0 */
/* Password hashing: bcrypt ($2b$) through libxcrypt, with a constant-time verify. */
#ifndef AL_CRYPTO_PASSWORD_H
#define AL_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define AL_PASSWORD_MAX_LEN 72	/* bcrypt reads at most 72 bytes; longer passwords are refused */
#define AL_PASSWORD_HASH_LEN 60 /* "$2b$12$" + 22 characters of salt + 31 of hash */
#define AL_PASSWORD_MIN_COST 4
#define AL_PASSWORD_MAX_COST 31
#define AL_PASSWORD_DEFAULT_COST 12

/* A valid $2b$12$ hash of a random password nobody knows: verify against it for unknown users so
 * that a login spends the same time whether or not the account exists. */
extern const char al_password_dummy_hash[];

/* Hashes password[0..len) (no NUL inside, at most 72 bytes) with bcrypt at cost 4..31 into out
 * (the caller's, 128 bytes; a 60-character string on success). On failure out is empty and err
 * (the caller's, may be NULL) holds a short message. Slow by design: never call it on an event
 * loop thread. */
bool al_password_hash(const char *password, size_t len, int cost, char out[128], char *err, size_t errlen);

/* True when password[0..len) matches hash (a $2a$/$2b$/$2y$ bcrypt string, borrowed). False for a
 * wrong password, a malformed hash, or an unusable password (NUL inside, longer than 72 bytes). */
bool al_password_verify(const char *password, size_t len, const char *hash);

#endif
