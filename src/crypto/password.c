/* SPDX-License-Identifier: Apache-2.0 */
/* Password hashing: bcrypt ($2b$) through libxcrypt, with a constant-time verify. */
#include "crypto/password.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bcrypt of 32 random bytes that were thrown away (generated once with libxcrypt, cost 12). */
const char al_password_dummy_hash[] = "$2b$12$qebWn4pXek07zJPTdz/xsOtYpaOSLL/PebdlQmlaKPN5zAS0U45pq";

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* bcrypt's base64 alphabet: ./A-Za-z0-9 */
static bool is_bcrypt_char(char c)
{
	return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "$2a$", "$2b$" or "$2y$", a cost 04..31, '$', then 53 characters of salt and hash. */
static bool hash_well_formed(const char *hash)
{
	if (!hash || strnlen(hash, AL_PASSWORD_HASH_LEN + 1) != AL_PASSWORD_HASH_LEN)
		return false;
	if (hash[0] != '$' || hash[1] != '2' || (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') ||
	    hash[3] != '$' || hash[6] != '$')
		return false;
	if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9')
		return false;
	int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
	if (cost < AL_PASSWORD_MIN_COST || cost > AL_PASSWORD_MAX_COST)
		return false;
	for (size_t i = 7; i < AL_PASSWORD_HASH_LEN; i++)
		if (!is_bcrypt_char(hash[i]))
			return false;
	return true;
}

/* Copies password[0..len) into phrase (the caller's, 73 bytes) as a C string; false when bcrypt
 * cannot represent it faithfully (NUL inside, longer than 72 bytes). */
static bool to_phrase(const char *password, size_t len, char phrase[AL_PASSWORD_MAX_LEN + 1], char *err, size_t errlen)
{
	if (!password && len > 0) {
		set_err(err, errlen, "no password given");
		return false;
	}
	if (len > AL_PASSWORD_MAX_LEN) {
		set_err(err, errlen, "password is longer than 72 bytes");
		return false;
	}
	if (len > 0 && memchr(password, '\0', len)) {
		set_err(err, errlen, "password contains a NUL byte");
		return false;
	}
	if (len > 0)
		memcpy(phrase, password, len);
	phrase[len] = '\0';
	return true;
}

/* The caller frees with free_crypt_data; NULL when out of memory. */
static struct crypt_data *new_crypt_data(void)
{
	return calloc(1, sizeof(struct crypt_data));
}

static void free_crypt_data(struct crypt_data *cd)
{
	if (!cd)
		return;
	explicit_bzero(cd, sizeof *cd);
	free(cd);
}

/* out and err are the caller's; password is borrowed and never copied beyond this call. */
bool al_password_hash(const char *password, size_t len, int cost, char out[128], char *err, size_t errlen)
{
	char phrase[AL_PASSWORD_MAX_LEN + 1];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	bool ok = false;

	out[0] = '\0';
	if (cost < AL_PASSWORD_MIN_COST || cost > AL_PASSWORD_MAX_COST) {
		set_err(err, errlen, "bcrypt cost must be 4 to 31");
		return false;
	}
	if (!to_phrase(password, len, phrase, err, errlen))
		return false;
	/* NULL entropy: libxcrypt draws the salt from the kernel itself. */
	if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, (int)sizeof setting)) {
		set_err(err, errlen, "could not generate a salt");
		goto fail;
	}
	cd = new_crypt_data();
	if (!cd) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	const char *h = crypt_r(phrase, setting, cd);
	if (!h || h[0] == '*' || strlen(h) != AL_PASSWORD_HASH_LEN) {
		set_err(err, errlen, "bcrypt failed");
		goto fail;
	}
	memcpy(out, h, AL_PASSWORD_HASH_LEN + 1);
	ok = true;
fail:
	free_crypt_data(cd);
	explicit_bzero(phrase, sizeof phrase);
	return ok;
}

/* password and hash are borrowed. */
bool al_password_verify(const char *password, size_t len, const char *hash)
{
	char phrase[AL_PASSWORD_MAX_LEN + 1];
	struct crypt_data *cd = NULL;
	bool ok = false;

	if (!hash_well_formed(hash))
		return false;
	if (!to_phrase(password, len, phrase, NULL, 0))
		return false;
	cd = new_crypt_data();
	if (!cd)
		goto fail;
	const char *h = crypt_r(phrase, hash, cd);
	if (!h || h[0] == '*' || strlen(h) != AL_PASSWORD_HASH_LEN)
		goto fail;
	/* Constant time: every byte is compared whatever the first difference. */
	unsigned char diff = 0;
	for (size_t i = 0; i < AL_PASSWORD_HASH_LEN; i++)
		diff |= (unsigned char)(h[i] ^ hash[i]);
	ok = diff == 0;
fail:
	free_crypt_data(cd);
	explicit_bzero(phrase, sizeof phrase);
	return ok;
}
