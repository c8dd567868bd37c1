/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of password hashing (bcrypt) and JWT (HS256): round trips and forged inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jwt.h>

#include "crypto/jwt.h"
#include "crypto/password.h"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- passwords ------------------------------------------------------------------------- */

static void test_hash_round_trip(void **state)
{
	static const char pw[] = "correct horse battery staple";
	char hash[128], err[128] = "";

	assert_true(al_password_hash(pw, strlen(pw), 4, hash, err, sizeof err));
	assert_int_equal(strlen(hash), AL_PASSWORD_HASH_LEN);
	assert_memory_equal(hash, "$2b$04$", 7);
	assert_true(al_password_verify(pw, strlen(pw), hash));
	assert_false(al_password_verify("correct horse battery stapl", strlen(pw) - 1, hash));
	assert_false(al_password_verify("Correct horse battery staple", strlen(pw), hash));
	assert_false(al_password_verify("", 0, hash));
	/* a length shorter than the string: only the prefix is the password */
	assert_false(al_password_verify(pw, 5, hash));

	/* a fresh salt each time: two hashes of one password differ and both verify */
	char again[128];
	assert_true(al_password_hash(pw, strlen(pw), 4, again, err, sizeof err));
	assert_string_not_equal(hash, again);
	assert_true(al_password_verify(pw, strlen(pw), again));

	/* the empty password is representable (policy on length belongs to the caller) */
	assert_true(al_password_hash("", 0, 4, hash, err, sizeof err));
	assert_true(al_password_verify("", 0, hash));
	assert_false(al_password_verify("x", 1, hash));
}

static void test_hash_cost12_time(void **state)
{
	static const char pw[] = "s3cret-Passw0rd";
	char hash[128], err[128] = "";

	double t0 = now_seconds();
	assert_true(al_password_hash(pw, strlen(pw), 12, hash, err, sizeof err));
	double t1 = now_seconds();
	assert_true(al_password_verify(pw, strlen(pw), hash));
	double t2 = now_seconds();
	assert_memory_equal(hash, "$2b$12$", 7);
	printf("bcrypt cost 12: hash %.3f s, verify %.3f s\n", t1 - t0, t2 - t1);
	/* cost 12 is 2^12 rounds: far from instant on any machine (0.35-0.45 s on the reference one) */
	assert_true(t1 - t0 > 0.05);
	assert_true(t2 - t1 > 0.05);
}

static void test_hash_refuses_bad_input(void **state)
{
	char pw[80], hash[128], err[128];

	memset(pw, 'p', sizeof pw);
	err[0] = '\0';
	assert_false(al_password_hash(pw, 73, 4, hash, err, sizeof err));
	assert_string_equal(hash, "");
	assert_non_null(strstr(err, "72 bytes"));

	/* exactly 72 is fine, and a 73rd byte does not silently match (bcrypt would truncate) */
	assert_true(al_password_hash(pw, 72, 4, hash, err, sizeof err));
	assert_true(al_password_verify(pw, 72, hash));
	assert_false(al_password_verify(pw, 73, hash));

	err[0] = '\0';
	assert_false(al_password_hash("ab\0cd", 5, 4, hash, err, sizeof err));
	assert_non_null(strstr(err, "NUL"));
	assert_false(al_password_hash("abc", 3, 3, hash, err, sizeof err));
	assert_false(al_password_hash("abc", 3, 32, hash, err, sizeof err));
	assert_false(al_password_hash(NULL, 3, 4, hash, NULL, 0)); /* err may be NULL */
}

static void test_verify_malformed_hashes(void **state)
{
	char good[128], err[128];
	assert_true(al_password_hash("pw", 2, 4, good, err, sizeof err));

	char truncated[128];
	snprintf(truncated, sizeof truncated, "%.*s", AL_PASSWORD_HASH_LEN - 1, good);
	char extended[130];
	snprintf(extended, sizeof extended, "%sA", good);
	char bad_char[128];
	snprintf(bad_char, sizeof bad_char, "%s", good);
	bad_char[30] = '!';
	char bad_variant[128];
	snprintf(bad_variant, sizeof bad_variant, "%s", good);
	bad_variant[2] = 'x'; /* $2x$ is the buggy-bcrypt compatibility mode: refused */
	char bad_cost[128];
	snprintf(bad_cost, sizeof bad_cost, "%s", good);
	bad_cost[4] = '9';
	bad_cost[5] = '9';
	char low_cost[128];
	snprintf(low_cost, sizeof low_cost, "%s", good);
	low_cost[5] = '3';

	const char *bad[] = {"",
			     "*0",
			     "*1",
			     "$1$abc",
			     "$2b$",
			     "$2b$04$",
			     truncated,
			     extended,
			     bad_char,
			     bad_variant,
			     bad_cost,
			     low_cost,
			     "$5$rounds=1000$abc$def"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(al_password_verify("pw", 2, bad[i]));
	assert_false(al_password_verify("pw", 2, NULL));
	assert_true(al_password_verify("pw", 2, good));

	/* $2a$ and $2y$ hashes from other bcrypt implementations are accepted */
	char other[128];
	snprintf(other, sizeof other, "%s", good);
	other[2] = 'a';
	assert_true(al_password_verify("pw", 2, other));
	other[2] = 'y';
	assert_true(al_password_verify("pw", 2, other));
}

static void test_equal_length_hashes_differ(void **state)
{
	char a[128], b[128], err[128];
	assert_true(al_password_hash("alpha", 5, 4, a, err, sizeof err));
	assert_true(al_password_hash("bravo", 5, 4, b, err, sizeof err));
	assert_int_equal(strlen(a), strlen(b));
	assert_false(al_password_verify("alpha", 5, b));
	assert_false(al_password_verify("bravo", 5, a));

	/* one changed character of the hash part (last position, other characters kept) */
	for (size_t pos = 29; pos < AL_PASSWORD_HASH_LEN; pos += 10) {
		char c[128];
		memcpy(c, a, sizeof c);
		c[pos] = c[pos] == 'A' ? 'B' : 'A';
		assert_false(al_password_verify("alpha", 5, c));
	}
	char last[128];
	memcpy(last, a, sizeof last);
	last[AL_PASSWORD_HASH_LEN - 1] = last[AL_PASSWORD_HASH_LEN - 1] == 'e' ? 'u' : 'e';
	assert_false(al_password_verify("alpha", 5, last));
}

static void test_dummy_hash(void **state)
{
	assert_int_equal(strlen(al_password_dummy_hash), AL_PASSWORD_HASH_LEN);
	assert_memory_equal(al_password_dummy_hash, "$2b$12$", 7);
	double t0 = now_seconds();
	assert_false(al_password_verify("password", 8, al_password_dummy_hash));
	double spent = now_seconds() - t0;
	/* it is a real cost-12 computation, not an early "malformed" exit */
	assert_true(spent > 0.05);
	assert_false(al_password_verify("", 0, al_password_dummy_hash));
}

/* ---- JWT --------------------------------------------------------------------------------- */

static const unsigned char KEY[] = "k3y-for-tests-0123456789abcdefghij"; /* 34 bytes */
static const unsigned char OTHER_KEY[] = "another-key-0123456789abcdefghijklmn";
#define KEYLEN (sizeof KEY - 1)
#define ISSUER "agentlens"
#define T0 1700000000LL /* iat and nbf of the test tokens */
#define NOW (T0 + 100)

static char *b64url(const char *s, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 5);
	size_t o = 0, i = 0;
	assert_non_null(out);
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16 | (uint32_t)(unsigned char)s[i + 1] << 8 |
			     (unsigned char)s[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16 | (uint32_t)(unsigned char)s[i + 1] << 8;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
	}
	out[o] = '\0';
	return out;
}

/* header JSON, payload JSON and the signature segment (verbatim) joined into a token (free it). */
static char *craft(const char *header, const char *payload, const char *sig)
{
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
	size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;
	char *t = malloc(n);
	assert_non_null(t);
	snprintf(t, n, "%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return t;
}

static const char *sig_of(const char *token)
{
	const char *d = strrchr(token, '.');
	assert_non_null(d);
	return d + 1;
}

static char *claims_with(const char *extra)
{
	char *s = malloc(512);
	assert_non_null(s);
	snprintf(s, 512,
		 "{\"sub\":\"u-1\",\"sid\":\"s-1\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"iss\":\"" ISSUER
		 "\",\"username\":\"alice\",\"permissions\":[\"catalog:read\",\"users:write\"]%s}",
		 T0, T0, T0 + 3600, extra);
	return s;
}

/* Signs claims_json (must succeed) with the test key. */
static char *sign_ok(const char *claims_json)
{
	char err[128] = "";
	char *t = al_jwt_sign(claims_json, KEY, KEYLEN, err, sizeof err);
	if (!t)
		fail_msg("sign failed: %s", err);
	return t;
}

/* Asserts that token is refused at NOW with exactly the message want. */
static void expect_refused(const char *token, const char *want)
{
	char err[128] = "";
	char *claims = (char *)"untouched";
	assert_false(al_jwt_verify(token, KEY, KEYLEN, ISSUER, NOW, &claims, err, sizeof err));
	assert_null(claims);
	assert_string_equal(err, want);
	assert_null(strstr(err, (const char *)KEY));
}

static void test_jwt_round_trip(void **state)
{
	char *c = claims_with("");
	char *token = sign_ok(c);
	char err[128] = "", *claims = NULL;

	/* header as libjwt writes it */
	assert_memory_equal(token, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37); /* {"alg":"HS256","typ":"JWT"} */
	assert_true(al_jwt_verify(token, KEY, KEYLEN, ISSUER, NOW, &claims, err, sizeof err));
	assert_non_null(claims);
	const char *want[] = {"\"sub\":\"u-1\"",	"\"sid\":\"s-1\"",
			      "\"iat\":1700000000",	"\"nbf\":1700000000",
			      "\"exp\":1700003600",	"\"iss\":\"agentlens\"",
			      "\"username\":\"alice\"", "\"permissions\":[\"catalog:read\",\"users:write\"]"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(claims, want[i]))
			fail_msg("%s not in %s", want[i], claims);
	assert_int_equal(claims[0], '{');
	free(claims);

	/* boundaries: valid from nbf (inclusive) to exp (exclusive) */
	assert_true(al_jwt_verify(token, KEY, KEYLEN, ISSUER, T0, NULL, err, sizeof err));
	assert_true(al_jwt_verify(token, KEY, KEYLEN, ISSUER, T0 + 3599, NULL, err, sizeof err));
	assert_false(al_jwt_verify(token, KEY, KEYLEN, ISSUER, T0 + 3600, NULL, err, sizeof err));
	assert_string_equal(err, "token expired");
	assert_false(al_jwt_verify(token, KEY, KEYLEN, ISSUER, T0 - 1, NULL, err, sizeof err));
	assert_string_equal(err, "token not yet valid");

	/* nbf is optional */
	char *no_nbf = sign_ok("{\"iat\":1700000000,\"exp\":1700003600,\"iss\":\"agentlens\"}");
	assert_true(al_jwt_verify(no_nbf, KEY, KEYLEN, ISSUER, NOW, NULL, err, sizeof err));
	free(no_nbf);
	free(token);
	free(c);
}

static void test_jwt_bad_signature(void **state)
{
	char *c = claims_with("");
	char *token = sign_ok(c);

	/* one character of the signature changed */
	char *flipped = strdup(token);
	char *s = (char *)sig_of(flipped);
	s[10] = s[10] == 'A' ? 'B' : 'A';
	expect_refused(flipped, "bad signature");

	/* HS256 header, signature made with a different key */
	char *other = al_jwt_sign(c, OTHER_KEY, sizeof OTHER_KEY - 1, NULL, 0);
	assert_non_null(other);
	expect_refused(other, "bad signature");
	char err[128];
	assert_true(al_jwt_verify(other, OTHER_KEY, sizeof OTHER_KEY - 1, ISSUER, NOW, NULL, err, sizeof err));

	/* the payload of one token with the signature of another */
	char *c2 = claims_with(",\"admin\":true");
	char *token2 = sign_ok(c2);
	char *spliced = strdup(token2);
	strcpy((char *)sig_of(spliced), sig_of(token));
	expect_refused(spliced, "bad signature");

	/* a signature of the wrong length: 40 characters, 30 bytes */
	char *shorter = strdup(token);
	shorter[strlen(shorter) - 3] = '\0';
	expect_refused(shorter, "bad signature");

	free(shorter);
	free(spliced);
	free(token2);
	free(c2);
	free(other);
	free(flipped);
	free(token);
	free(c);
}

static void test_jwt_other_algorithms(void **state)
{
	char *c = claims_with("");
	char *good = sign_ok(c);

	/* HS512 signed by libjwt with the same secret: libjwt's own decode would accept it */
	jwt_t *j = NULL;
	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_set_alg(j, JWT_ALG_HS512, KEY, (int)KEYLEN), 0);
	assert_int_equal(jwt_add_grants_json(j, c), 0);
	char *hs512 = jwt_encode_str(j);
	jwt_free(j);
	assert_non_null(hs512);
	jwt_t *check = NULL;
	assert_int_equal(jwt_decode(&check, hs512, KEY, (int)KEYLEN), 0); /* the quirk this guards against */
	jwt_free(check);
	expect_refused(hs512, "unsupported algorithm");

	/* HS384 likewise */
	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_set_alg(j, JWT_ALG_HS384, KEY, (int)KEYLEN), 0);
	assert_int_equal(jwt_add_grants_json(j, c), 0);
	char *hs384 = jwt_encode_str(j);
	jwt_free(j);
	expect_refused(hs384, "unsupported algorithm");

	/* alg none, crafted by hand: empty signature, and the genuine signature kept */
	char *none = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", c, "");
	expect_refused(none, "unsupported algorithm");
	char *none_sig = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", c, sig_of(good));
	expect_refused(none_sig, "unsupported algorithm");
	char *none_upper = craft("{\"alg\":\"None\"}", c, sig_of(good));
	expect_refused(none_upper, "unsupported algorithm");

	/* libjwt matches algorithm names case-insensitively; we do not */
	char *lower = craft("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", c, sig_of(good));
	expect_refused(lower, "unsupported algorithm");
	char *rs = craft("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", c, sig_of(good));
	expect_refused(rs, "unsupported algorithm");
	char *no_alg = craft("{\"typ\":\"JWT\"}", c, sig_of(good));
	expect_refused(no_alg, "unsupported algorithm");
	char *alg_num = craft("{\"alg\":256}", c, sig_of(good));
	expect_refused(alg_num, "unsupported algorithm");
	/* two alg members: parsers disagree on which wins, so the header is refused */
	char *dup = craft("{\"alg\":\"HS256\",\"alg\":\"none\"}", c, sig_of(good));
	expect_refused(dup, "malformed token");
	char *dup2 = craft("{\"alg\":\"none\",\"alg\":\"HS256\"}", c, "");
	expect_refused(dup2, "malformed token");
	char *crit = craft("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", c, sig_of(good));
	expect_refused(crit, "malformed token");

	free(crit);
	free(dup2);
	free(dup);
	free(alg_num);
	free(no_alg);
	free(rs);
	free(lower);
	free(none_upper);
	free(none_sig);
	free(none);
	free(hs384);
	free(hs512);
	free(good);
	free(c);
}

static void test_jwt_claims(void **state)
{
	struct {
		const char *claims;
		const char *want;
	} cases[] = {
	    {"{\"iat\":1700000000,\"exp\":1700000050,\"iss\":\"agentlens\"}", "token expired"},
	    {"{\"iat\":1700000000,\"exp\":1700000100,\"iss\":\"agentlens\"}", "token expired"}, /* exp == now */
	    {"{\"iat\":1700000000,\"nbf\":1700000101,\"exp\":1700003600,\"iss\":\"agentlens\"}", "token not yet valid"},
	    {"{\"iat\":1700000000,\"exp\":1700003600,\"iss\":\"someone-else\"}", "wrong issuer"},
	    {"{\"iat\":1700000000,\"exp\":1700003600,\"iss\":\"agentlens \"}", "wrong issuer"},
	    {"{\"iat\":1700000000,\"exp\":1700003600,\"iss\":\"Agentlens\"}", "wrong issuer"},
	    {"{\"iat\":1700000000,\"exp\":1700003600,\"iss\":[\"agentlens\"]}", "wrong issuer"},
	    {"{\"iat\":1700000000,\"exp\":1700003600}", "missing claim iss"},
	    {"{\"iat\":1700000000,\"iss\":\"agentlens\"}", "missing claim exp"},
	    {"{\"exp\":1700003600,\"iss\":\"agentlens\"}", "missing claim iat"},
	    /* libjwt's jwt_get_grant_int reads these as 0 (or truncates): we refuse them */
	    {"{\"iat\":1700000000,\"exp\":\"1700003600\",\"iss\":\"agentlens\"}", "invalid claim exp"},
	    {"{\"iat\":1700000000,\"exp\":1700003600.5,\"iss\":\"agentlens\"}", "invalid claim exp"},
	    {"{\"iat\":1700000000,\"exp\":null,\"iss\":\"agentlens\"}", "invalid claim exp"},
	    {"{\"iat\":1700000000,\"exp\":true,\"iss\":\"agentlens\"}", "invalid claim exp"},
	    {"{\"iat\":1700000000,\"nbf\":\"0\",\"exp\":1700003600,\"iss\":\"agentlens\"}", "invalid claim nbf"},
	    {"{\"iat\":\"yesterday\",\"exp\":1700003600,\"iss\":\"agentlens\"}", "invalid claim iat"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *t = sign_ok(cases[i].claims);
		expect_refused(t, cases[i].want);
		free(t);
	}

	/* a nested "exp" does not count as the claim */
	char *nested = sign_ok("{\"iat\":1700000000,\"x\":{\"exp\":1800000000},\"iss\":\"agentlens\"}");
	expect_refused(nested, "missing claim exp");
	free(nested);
}

static void test_jwt_short_key(void **state)
{
	static const unsigned char k31[] = "0123456789abcdef0123456789abcde";
	char err[128] = "";
	char *c = claims_with("");

	assert_int_equal(sizeof k31 - 1, 31);
	assert_false(al_jwt_secret_ok(31));
	assert_true(al_jwt_secret_ok(32));
	assert_true(al_jwt_secret_ok(AL_JWT_MIN_SECRET));
	assert_false(al_jwt_secret_ok(0));

	assert_null(al_jwt_sign(c, k31, 31, err, sizeof err));
	assert_string_equal(err, "secret too short");
	assert_null(al_jwt_sign(c, NULL, 0, err, sizeof err));

	/* a token made with the 31-byte key by libjwt directly is refused before anything else */
	jwt_t *j = NULL;
	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_set_alg(j, JWT_ALG_HS256, k31, 31), 0);
	assert_int_equal(jwt_add_grants_json(j, c), 0);
	char *t = jwt_encode_str(j);
	jwt_free(j);
	err[0] = '\0';
	char *claims = (char *)"untouched";
	assert_false(al_jwt_verify(t, k31, 31, ISSUER, NOW, &claims, err, sizeof err));
	assert_null(claims);
	assert_string_equal(err, "secret too short");
	assert_false(al_jwt_verify(t, NULL, 0, ISSUER, NOW, NULL, err, sizeof err));
	assert_string_equal(err, "secret too short");

	/* 32 bytes is enough */
	char *t32 = al_jwt_sign(c, k31, 32 /* includes the NUL: any byte is key material */, err, sizeof err);
	assert_non_null(t32);
	assert_true(al_jwt_verify(t32, k31, 32, ISSUER, NOW, NULL, err, sizeof err));

	free(t32);
	free(t);
	free(c);
}

static void test_jwt_garbage(void **state)
{
	char *good = sign_ok("{\"iat\":1700000000,\"exp\":1700003600,\"iss\":\"agentlens\"}");
	char *big = malloc(10 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'a', 10 * 1024);
	big[10 * 1024] = '\0';

	const char *garbage[] = {"",
				 ".",
				 "..",
				 "...",
				 "a",
				 "a.b",
				 "a.b.c.d",
				 "a.b.c",
				 "..sig",
				 "a..c",
				 "eyJhbGciOiJIUzI1NiJ9..",
				 "%%%.%%%.%%%",
				 big,
				 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
		expect_refused(garbage[i], "malformed token");

	char err[128] = "";
	assert_false(al_jwt_verify(NULL, KEY, KEYLEN, ISSUER, NOW, NULL, err, sizeof err));
	assert_string_equal(err, "malformed token");

	/* a valid token with a fourth segment, or with characters outside base64url */
	char buf[1024];
	snprintf(buf, sizeof buf, "%s.", good);
	expect_refused(buf, "malformed token");
	snprintf(buf, sizeof buf, "%s", good);
	buf[5] = '+';
	expect_refused(buf, "malformed token");
	snprintf(buf, sizeof buf, "%s=", good);
	expect_refused(buf, "malformed token");
	snprintf(buf, sizeof buf, " %s", good);
	expect_refused(buf, "malformed token");

	/* a token that is just too long, made of valid segments */
	char *long_claims = malloc(8192);
	assert_non_null(long_claims);
	snprintf(long_claims, 8192, "{\"iat\":1700000000,\"exp\":1700003600,\"iss\":\"agentlens\",\"pad\":\"%06200d\"}",
		 0);
	char *too_long = al_jwt_sign(long_claims, KEY, KEYLEN, err, sizeof err);
	assert_null(too_long);
	assert_string_equal(err, "claims too large");

	free(long_claims);
	free(big);
	free(good);
}

static void test_jwt_payload_not_json(void **state)
{
	char *good = sign_ok("{\"iat\":1700000000,\"exp\":1700003600,\"iss\":\"agentlens\"}");
	const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	const char *payloads[] = {"not json", "{\"exp\":1700003600", "[1,2]",	   "1700003600", "\"str\"",
				  "",	      "{\"a\":1} trailing",  "{\"a\":NaN}"};
	for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		char *t = craft(hdr, payloads[i], sig_of(good));
		expect_refused(t, "malformed token");
		free(t);
	}
	/* a header that is not JSON */
	char *t = craft("alg=HS256", "{}", sig_of(good));
	expect_refused(t, "malformed token");
	free(t);
	t = craft("[\"HS256\"]", "{}", sig_of(good));
	expect_refused(t, "malformed token");
	free(t);
	/* a typ other than JWT */
	t = craft("{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}", "{}", sig_of(good));
	expect_refused(t, "malformed token");
	free(t);
	free(good);
}

static void test_jwt_sign_refuses_bad_claims(void **state)
{
	const char *bad[] = {"", "[]", "not json", "42", "{\"a\":1,\"a\":2}", "{\"a\":1", "null"};
	char err[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_null(al_jwt_sign(bad[i], KEY, KEYLEN, err, sizeof err));
		assert_string_equal(err, "claims must be a JSON object");
	}
	assert_null(al_jwt_sign(NULL, KEY, KEYLEN, err, sizeof err));
	char *empty = al_jwt_sign("{}", KEY, KEYLEN, err, sizeof err);
	assert_non_null(empty);
	expect_refused(empty, "missing claim exp");
	free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_round_trip),
	    cmocka_unit_test(test_hash_cost12_time),
	    cmocka_unit_test(test_hash_refuses_bad_input),
	    cmocka_unit_test(test_verify_malformed_hashes),
	    cmocka_unit_test(test_equal_length_hashes_differ),
	    cmocka_unit_test(test_dummy_hash),
	    cmocka_unit_test(test_jwt_round_trip),
	    cmocka_unit_test(test_jwt_bad_signature),
	    cmocka_unit_test(test_jwt_other_algorithms),
	    cmocka_unit_test(test_jwt_claims),
	    cmocka_unit_test(test_jwt_short_key),
	    cmocka_unit_test(test_jwt_garbage),
	    cmocka_unit_test(test_jwt_payload_not_json),
	    cmocka_unit_test(test_jwt_sign_refuses_bad_claims),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
