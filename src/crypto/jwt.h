/* SPDX-License-Identifier: Apache-2.0 */
/* JSON Web Tokens, HS256 only (libjwt 1.10 v1 API), with the checks libjwt leaves to its caller. */
#ifndef AL_CRYPTO_JWT_H
#define AL_CRYPTO_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AL_JWT_MIN_SECRET 32  /* bytes of HMAC key; shorter keys are refused for signing and verifying */
#define AL_JWT_MAX_TOKEN 8192 /* tokens of this length or longer are refused */

/* True when a secret of len bytes is acceptable for HS256. */
bool al_jwt_secret_ok(size_t len);

/* Signs claims_json (a JSON object's text, borrowed) with HS256 under key[0..keylen) (borrowed,
 * at least AL_JWT_MIN_SECRET bytes). Returns a malloc'd token the caller frees, or NULL with a
 * short message in err (the caller's, may be NULL). Adds no claims of its own: the caller puts
 * exp, iat, iss... in claims_json. */
char *al_jwt_sign(const char *claims_json, const unsigned char *key, size_t keylen, char *err, size_t errlen);

/* Verifies token (borrowed) under key[0..keylen) (borrowed): key long enough, token well formed
 * and shorter than AL_JWT_MAX_TOKEN, header alg exactly "HS256", signature valid, exp an integer
 * > now_s, nbf (if present) an integer <= now_s, iat an integer, iss equal to issuer (borrowed).
 * On success *claims_json_out is a malloc'd JSON object text of all claims (the caller frees);
 * on failure it is NULL and err (the caller's, may be NULL) holds one of: "secret too short",
 * "malformed token", "unsupported algorithm", "bad signature", "token expired",
 * "token not yet valid", "wrong issuer", "missing claim <name>", "invalid claim <name>",
 * "out of memory". Messages never include the key or the token. */
bool al_jwt_verify(const char *token, const unsigned char *key, size_t keylen, const char *issuer, int64_t now_s,
		   char **claims_json_out, char *err, size_t errlen);

#endif
