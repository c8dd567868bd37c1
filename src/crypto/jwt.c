/* SPDX-License-Identifier: Apache-2.0 */
/* JSON Web Tokens, HS256 only (libjwt 1.10 v1 API), with the checks libjwt leaves to its caller.
 *
 * libjwt 1.10's jwt_decode checks the signature and nothing else: it accepts any algorithm named in
 * the header (HS512 under our HS256 secret passes), matches algorithm names case-insensitively,
 * ignores exp/nbf/iss, and reads a string claim as the integer 0. So the header is decoded and
 * checked here first, and the claims are read back from libjwt's own JSON of them (the values the
 * caller will see) with the project's strict parser, which reports types exactly. */
#include "crypto/jwt.h"

#include <errno.h>
#include <jwt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define HS256_SIG_LEN 32
#define MAX_SAFE_INT 9007199254740992.0 /* 2^53: larger JSON numbers are not exact in a double */

bool al_jwt_secret_ok(size_t len)
{
	return len >= AL_JWT_MIN_SECRET && len <= INT_MAX;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* ---- base64url (RFC 4648 §5, no padding), strict ---------------------------------------- */

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes src[0..n) into a malloc'd, NUL-terminated buffer (the caller frees) of *out_len bytes.
 * NULL for characters outside the alphabet, padding, an impossible length or non-zero unused bits
 * (so every byte string has exactly one accepted encoding), and when out of memory (*oom set). */
static unsigned char *b64url_decode(const char *src, size_t n, size_t *out_len, bool *oom)
{
	*oom = false;
	if (n % 4 == 1)
		return NULL;
	unsigned char *out = malloc(n / 4 * 3 + 3);
	if (!out) {
		*oom = true;
		return NULL;
	}
	size_t o = 0;
	uint32_t acc = 0;
	size_t bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)src[i]);
		if (v < 0)
			goto invalid;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* the 2 or 4 bits left over must be zero */
		goto invalid;
	out[o] = '\0';
	*out_len = o;
	return out;
invalid:
	free(out);
	return NULL;
}

/* ---- top-level members of a JSON object ------------------------------------------------- */

enum claim_type { CLAIM_ABSENT, CLAIM_STRING, CLAIM_INT, CLAIM_OTHER };

struct claim {
	const char *name;
	const char *expect; /* for strings: the value to compare with, or NULL */
	int count;
	enum claim_type type;
	int64_t ival;
	bool matches; /* type is CLAIM_STRING and the value equals expect exactly */
};

struct scan {
	struct claim *claims;
	size_t n;
	size_t depth;
	size_t values; /* values seen at depth 0: the document is one, so this is 0 or 1 */
	bool top_object;
	struct claim *pending; /* the claim whose value comes next, at depth 1 */
};

static void scan_value(struct scan *s, enum claim_type type)
{
	if (s->depth == 1 && s->pending) {
		s->pending->type = type;
		s->pending = NULL;
	}
}

static int scan_container_start(void *ud, bool object)
{
	struct scan *s = ud;
	if (s->depth == 0 && s->values++ == 0)
		s->top_object = object;
	scan_value(s, CLAIM_OTHER);
	s->depth++;
	return 0;
}

static int scan_object_start(void *ud)
{
	return scan_container_start(ud, true);
}

static int scan_array_start(void *ud)
{
	return scan_container_start(ud, false);
}

static int scan_end(void *ud)
{
	struct scan *s = ud;
	s->depth--;
	return 0;
}

static int scan_key(void *ud, const char *k, size_t len)
{
	struct scan *s = ud;
	if (s->depth != 1)
		return 0;
	s->pending = NULL;
	for (size_t i = 0; i < s->n; i++) {
		if (strlen(s->claims[i].name) == len && memcmp(s->claims[i].name, k, len) == 0) {
			s->claims[i].count++;
			s->pending = &s->claims[i];
			break;
		}
	}
	return 0;
}

static int scan_string(void *ud, const char *str, size_t len)
{
	struct scan *s = ud;
	if (s->depth == 1 && s->pending) {
		const char *want = s->pending->expect;
		s->pending->matches = want && strlen(want) == len && memcmp(want, str, len) == 0;
	}
	scan_value(s, CLAIM_STRING);
	return 0;
}

static int scan_number(void *ud, double v, bool is_integer)
{
	struct scan *s = ud;
	bool exact = is_integer && fabs(v) <= MAX_SAFE_INT;
	if (s->depth == 1 && s->pending && exact)
		s->pending->ival = (int64_t)v;
	scan_value(s, exact ? CLAIM_INT : CLAIM_OTHER);
	return 0;
}

static int scan_bool(void *ud, bool v)
{
	scan_value(ud, CLAIM_OTHER);
	return 0;
}

static int scan_null(void *ud)
{
	scan_value(ud, CLAIM_OTHER);
	return 0;
}

static const struct al_json_handlers scan_handlers = {
    .on_null = scan_null,
    .on_bool = scan_bool,
    .on_number = scan_number,
    .on_string = scan_string,
    .on_object_start = scan_object_start,
    .on_key = scan_key,
    .on_object_end = scan_end,
    .on_array_start = scan_array_start,
    .on_array_end = scan_end,
};

/* True when text[0..len) is one strict JSON object; claims (the caller's) are filled in. */
static bool scan_object(const char *text, size_t len, struct claim *claims, size_t n)
{
	struct scan s = {.claims = claims, .n = n};
	return al_json_parse(text, len, &scan_handlers, &s, 0, NULL) == 0 && s.top_object;
}

/* ---- signing ---------------------------------------------------------------------------- */

/* claims_json and key are borrowed; the token is the caller's (free). */
char *al_jwt_sign(const char *claims_json, const unsigned char *key, size_t keylen, char *err, size_t errlen)
{
	jwt_t *jwt = NULL;
	char *token = NULL;

	if (!key || !al_jwt_secret_ok(keylen)) {
		set_err(err, errlen, "secret too short");
		return NULL;
	}
	if (!claims_json || !scan_object(claims_json, strlen(claims_json), NULL, 0)) {
		set_err(err, errlen, "claims must be a JSON object");
		return NULL;
	}
	if (jwt_new(&jwt) != 0) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) != 0) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (jwt_add_grants_json(jwt, claims_json) != 0) { /* e.g. duplicate keys, which jansson refuses */
		set_err(err, errlen, "claims must be a JSON object");
		goto fail;
	}
	token = jwt_encode_str(jwt);
	if (!token) {
		set_err(err, errlen, "could not sign the token");
		goto fail;
	}
	if (strlen(token) >= AL_JWT_MAX_TOKEN) {
		free(token);
		token = NULL;
		set_err(err, errlen, "claims too large");
	}
fail:
	jwt_free(jwt);
	return token;
}

/* ---- verification ----------------------------------------------------------------------- */

/* Checks the header segment: one JSON object whose "alg" is exactly "HS256", whose "typ" (if any) is
 * "JWT", and without "crit" (no extension is understood here). NULL when fine, else the message. */
static const char *check_header(const char *seg, size_t len)
{
	enum { ALG, CRIT, TYP };
	struct claim hdr[] = {
	    [ALG] = {.name = "alg", .expect = "HS256"},
	    [CRIT] = {.name = "crit"},
	    [TYP] = {.name = "typ", .expect = "JWT"},
	};
	size_t n;
	bool oom;
	unsigned char *json = b64url_decode(seg, len, &n, &oom);
	if (!json)
		return oom ? "out of memory" : "malformed token";
	bool ok = scan_object((const char *)json, n, hdr, sizeof hdr / sizeof hdr[0]);
	free(json);
	if (!ok || hdr[ALG].count > 1 || hdr[CRIT].count > 0 || hdr[TYP].count > 1 ||
	    (hdr[TYP].count == 1 && !hdr[TYP].matches))
		return "malformed token";
	if (hdr[ALG].count == 0 || !hdr[ALG].matches)
		return "unsupported algorithm";
	return NULL;
}

/* Checks that the payload segment is one JSON object (before any cryptography, so that a payload
 * libjwt cannot read is reported as malformed rather than as a bad signature). */
static const char *check_payload(const char *seg, size_t len)
{
	size_t n;
	bool oom;
	unsigned char *json = b64url_decode(seg, len, &n, &oom);
	if (!json)
		return oom ? "out of memory" : "malformed token";
	bool ok = scan_object((const char *)json, n, NULL, 0);
	free(json);
	return ok ? NULL : "malformed token";
}

static const char *check_signature_segment(const char *seg, size_t len)
{
	size_t n;
	bool oom;
	unsigned char *sig = b64url_decode(seg, len, &n, &oom);
	if (!sig)
		return oom ? "out of memory" : "malformed token";
	free(sig);
	return n == HS256_SIG_LEN ? NULL : "bad signature";
}

/* Checks the claims in grants (libjwt's JSON of them) at now_s. NULL when fine, else the message. */
static const char *check_claims(const char *grants, const char *issuer, int64_t now_s)
{
	enum { EXP, NBF, IAT, ISS };
	struct claim c[] = {
	    [EXP] = {.name = "exp"},
	    [NBF] = {.name = "nbf"},
	    [IAT] = {.name = "iat"},
	    [ISS] = {.name = "iss", .expect = issuer},
	};

	if (!scan_object(grants, strlen(grants), c, sizeof c / sizeof c[0]))
		return "malformed token";
	if (c[EXP].type == CLAIM_ABSENT)
		return "missing claim exp";
	if (c[EXP].type != CLAIM_INT)
		return "invalid claim exp";
	if (c[EXP].ival <= now_s)
		return "token expired";
	if (c[NBF].type != CLAIM_ABSENT && c[NBF].type != CLAIM_INT)
		return "invalid claim nbf";
	if (c[NBF].type == CLAIM_INT && c[NBF].ival > now_s)
		return "token not yet valid";
	if (c[IAT].type == CLAIM_ABSENT)
		return "missing claim iat";
	if (c[IAT].type != CLAIM_INT)
		return "invalid claim iat";
	if (c[ISS].type == CLAIM_ABSENT)
		return "missing claim iss";
	if (!c[ISS].matches)
		return "wrong issuer";
	return NULL;
}

/* token, key and issuer are borrowed; *claims_json_out (when non-NULL) becomes the caller's. */
bool al_jwt_verify(const char *token, const unsigned char *key, size_t keylen, const char *issuer, int64_t now_s,
		   char **claims_json_out, char *err, size_t errlen)
{
	const char *msg = NULL;
	jwt_t *jwt = NULL;
	char *grants = NULL;

	if (claims_json_out)
		*claims_json_out = NULL;
	if (!key || !al_jwt_secret_ok(keylen)) {
		set_err(err, errlen, "secret too short");
		return false;
	}
	if (!issuer) {
		set_err(err, errlen, "wrong issuer");
		return false;
	}
	size_t tlen = token ? strnlen(token, AL_JWT_MAX_TOKEN) : 0;
	if (tlen == 0 || tlen >= AL_JWT_MAX_TOKEN) {
		set_err(err, errlen, "malformed token");
		return false;
	}

	/* header.payload.signature: exactly two dots, header and payload not empty */
	const char *dot1 = memchr(token, '.', tlen);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', tlen - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot1 || !dot2 || memchr(dot2 + 1, '.', tlen - (size_t)(dot2 + 1 - token)) || dot1 == token ||
	    dot2 == dot1 + 1) {
		set_err(err, errlen, "malformed token");
		return false;
	}
	size_t hlen = (size_t)(dot1 - token), plen = (size_t)(dot2 - dot1 - 1);
	size_t slen = tlen - (size_t)(dot2 + 1 - token);

	if ((msg = check_header(token, hlen)) || (msg = check_payload(dot1 + 1, plen)) ||
	    (msg = check_signature_segment(dot2 + 1, slen)))
		goto fail;

	int rc = jwt_decode(&jwt, token, key, (int)keylen);
	if (rc != 0) {
		jwt = NULL;
		msg = rc == ENOMEM ? "out of memory" : "bad signature";
		goto fail;
	}
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		msg = "unsupported algorithm";
		goto fail;
	}
	grants = jwt_get_grants_json(jwt, NULL);
	if (!grants) {
		msg = "out of memory";
		goto fail;
	}
	if ((msg = check_claims(grants, issuer, now_s)))
		goto fail;

	jwt_free(jwt);
	if (claims_json_out)
		*claims_json_out = grants;
	else
		free(grants);
	return true;
fail:
	set_err(err, errlen, msg);
	free(grants);
	jwt_free(jwt);
	return false;
}
