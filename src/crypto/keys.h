/* SPDX-License-Identifier: Apache-2.0 */
/* The process's token-signing key: configured, or generated at start-up. */
#ifndef AL_CRYPTO_KEYS_H
#define AL_CRYPTO_KEYS_H

#include <stdbool.h>
#include <stddef.h>

/* configured may be NULL or "": then the key stored in key_file is used, or a random one is
 * generated and stored there (mode 0600) and *generated set; with key_file NULL the key lives
 * only in memory. Fails when a configured secret is shorter than 32 bytes or the file is
 * unusable. */
bool al_jwt_key_init(const char *configured, const char *key_file, bool *generated, char *err, size_t errlen);
/* The key (static storage), or NULL before al_jwt_key_init. */
const unsigned char *al_jwt_key(size_t *len);

#endif
