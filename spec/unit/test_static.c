/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the embedded-asset lookup: Accept-Encoding parsing, gzip variants, cache policy,
 * SPA fallback and unsafe paths, against whatever web build this binary embeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/static.h"

static void test_accept_encoding(void **state)
{
	(void)state;
	const char *yes[] = {"gzip", "GZip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "x-gzip", "*",
			     "deflate, *;q=0.1", "gzip;q=1", " gzip ; q=0.001 ", "identity, gzip", "gzip;level=9"};
	const char *no[] = {"", "identity", "br", "deflate, br", "gzip;q=0", "gzip;q=0.000", "*;q=0",
			    "*, gzip;q=0", "gzipx", "gzi", "x-gzip;q=0, *;q=0", ",,,"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		if (!al_static_accepts_gzip(yes[i]))
			fail_msg("expected gzip accepted for \"%s\"", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		if (al_static_accepts_gzip(no[i]))
			fail_msg("expected gzip refused for \"%s\"", no[i]);
	assert_false(al_static_accepts_gzip(NULL));
}

static void test_index_and_variants(void **state)
{
	(void)state;
	struct al_static_result plain, gz;
	al_static_resolve("/", false, &plain);
	assert_non_null(plain.file);
	assert_string_equal(plain.file->path, "index.html");
	assert_string_equal(plain.cache_control, "no-cache");
	assert_string_equal(plain.content_type, "text/html; charset=utf-8");
	assert_null(plain.content_encoding);
	/* Every build embeds index.html.gz (the staging step precompresses HTML). */
	assert_true(plain.has_variants);
	al_static_resolve("/", true, &gz);
	assert_non_null(gz.file);
	assert_string_equal(gz.file->path, "index.html.gz");
	assert_string_equal(gz.content_encoding, "gzip");
	assert_string_equal(gz.content_type, "text/html; charset=utf-8");
	assert_string_not_equal(gz.file->etag, plain.file->etag);
	assert_true(gz.file->size < plain.file->size);
	/* Client-side routes get the app, compressed or not. */
	al_static_resolve("/catalog/abc-123", true, &gz);
	assert_non_null(gz.file);
	assert_string_equal(gz.file->path, "index.html.gz");
	/* The variant is not addressable by its own name. */
	al_static_resolve("/index.html.gz", true, &gz);
	assert_null(gz.file);
	al_static_resolve("/index.html.gz", false, &gz);
	assert_null(gz.file);
}

static void test_assets(void **state)
{
	(void)state;
	size_t seen = 0;
	for (size_t i = 0; i < al_embedded_assets_count; i++) {
		const struct al_embedded_file *f = &al_embedded_assets[i];
		size_t n = strlen(f->path);
		if (strncmp(f->path, "assets/", 7) != 0 || (n > 3 && strcmp(f->path + n - 3, ".gz") == 0))
			continue;
		char path[600];
		snprintf(path, sizeof path, "/%s", f->path);
		struct al_static_result r;
		al_static_resolve(path, true, &r);
		assert_non_null(r.file);
		assert_string_equal(r.cache_control, "public, max-age=31536000, immutable");
		seen++;
	}
	assert_true(seen > 0);
	struct al_static_result r;
	al_static_resolve("/assets/missing-abc123.js", true, &r);
	assert_null(r.file);
	al_static_resolve("/nothing.png", true, &r);
	assert_null(r.file);
}

static void test_unsafe_paths(void **state)
{
	(void)state;
	const char *bad[] = {"", "index.html", "/../etc/passwd", "/assets/../index.html", "//index.html",
			     "/./index.html", "/a\\b", "/x\x01y", "/.."};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct al_static_result r;
		al_static_resolve(bad[i], true, &r);
		if (r.file)
			fail_msg("unsafe path \"%s\" resolved to %s", bad[i], r.file->path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_index_and_variants),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_unsafe_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
