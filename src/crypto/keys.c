/* SPDX-License-Identifier: Apache-2.0 */
/* The token-signing key: configured (at least 32 bytes) or 32 random bytes per process. */
#include "crypto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto/random.h"

#define MIN_SECRET 32
#define MAX_SECRET 512

static unsigned char key[MAX_SECRET];
static size_t key_len;

/* Reads a stored key: exactly 64 hex digits (and an optional newline). 1 = read, 0 = absent,
 * -1 = unusable (err set). */
static int read_key_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char hex[80];
	ssize_t n = read(fd, hex, sizeof hex);
	close(fd);
	if (n == 65 && hex[64] == '\n')
		n = 64;
	if (n != 64) {
		snprintf(err, errlen, "%s: expected 64 hex digits; delete the file to generate a new key", path);
		return -1;
	}
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			snprintf(err, errlen, "%s: expected 64 hex digits; delete the file to generate a new key", path);
			return -1;
		}
		key[i] = (unsigned char)v;
	}
	key_len = MIN_SECRET;
	return 1;
}

static bool write_key_file(const char *path, char *err, size_t errlen)
{
	char hex[66];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	hex[64] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot store the generated key: %s", path, strerror(errno));
		return false;
	}
	bool ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
	close(fd);
	if (!ok) {
		unlink(path);
		snprintf(err, errlen, "%s: cannot store the generated key", path);
	}
	return ok;
}

bool al_jwt_key_init(const char *configured, const char *key_file, bool *generated, char *err, size_t errlen)
{
	*generated = false;
	if (configured && *configured) {
		size_t n = strlen(configured);
		if (n < MIN_SECRET || n > MAX_SECRET) {
			snprintf(err, errlen,
				 "auth.jwt_secret: the secret has %zu bytes; use %d to %d (e.g. `openssl rand -hex 32`)", n,
				 MIN_SECRET, MAX_SECRET);
			return false;
		}
		memcpy(key, configured, n);
		key_len = n;
		return true;
	}
	if (key_file) {
		int r = read_key_file(key_file, err, errlen);
		if (r != 0)
			return r > 0;
	}
	if (!al_random_bytes(key, MIN_SECRET)) {
		snprintf(err, errlen, "cannot generate a token-signing key: the kernel random source failed");
		return false;
	}
	key_len = MIN_SECRET;
	*generated = true;
	if (key_file && !write_key_file(key_file, err, errlen)) {
		/* another replica sharing the data directory may have won the race: use its key */
		if (errno == EEXIST && read_key_file(key_file, err, errlen) == 1)
			return true;
		return false;
	}
	return true;
}

const unsigned char *al_jwt_key(size_t *len)
{
	*len = key_len;
	return key_len ? key : NULL;
}
