/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the SSRF guard: every blocked range at its edges, IPv6 and embedded-IPv4 forms,
 * public addresses, the operator's allow list, and allow-list parse errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "httpc/ssrf.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* An address literal as the sockaddr curl hands to the open-socket callback. */
static const struct sockaddr *addr(const char *text)
{
	static struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(80);
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			fail_msg("bad IPv6 literal in the test: %s", text);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(80);
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			fail_msg("bad IPv4 literal in the test: %s", text);
	}
	return (const struct sockaddr *)&ss;
}

static void blocked(const char *text, const char *range)
{
	const char *got = al_ssrf_blocked_range(addr(text));
	if (!got)
		fail_msg("%s should be blocked (%s) but is public", text, range);
	if (strcmp(got, range) != 0)
		fail_msg("%s: expected range \"%s\", got \"%s\"", text, range, got);
	if (al_ssrf_allowed(addr(text), NULL))
		fail_msg("%s is allowed without an allow list", text);
}

static void public(const char *text)
{
	const char *got = al_ssrf_blocked_range(addr(text));
	if (got)
		fail_msg("%s should be public but is blocked as %s", text, got);
	if (!al_ssrf_allowed(addr(text), NULL))
		fail_msg("%s is refused", text);
}

static struct al_netlist parse_ok(const char *text)
{
	struct al_netlist l;
	char err[256] = "";
	if (!al_netlist_parse(text, &l, err, sizeof err))
		fail_msg("al_netlist_parse(\"%s\") failed: %s", text, err);
	return l;
}

static void parse_fails(const char *text, const char *want)
{
	struct al_netlist l = {(struct al_cidr *)1, 99};
	char err[256] = "";
	if (al_netlist_parse(text, &l, err, sizeof err))
		fail_msg("al_netlist_parse(\"%s\") succeeded", text);
	if (!strstr(err, want))
		fail_msg("al_netlist_parse(\"%s\"): error \"%s\" does not contain \"%s\"", text, err, want);
	assert_null(l.items);
	assert_int_equal(l.n, 0);
}

/* ---- IPv4 ranges ---------------------------------------------------------------------- */

static void test_v4_loopback_private_linklocal(void **state)
{
	blocked("127.0.0.0", "loopback");
	blocked("127.0.0.1", "loopback");
	blocked("127.255.255.255", "loopback");
	public("126.255.255.255");
	public("128.0.0.0");

	blocked("10.0.0.0", "private");
	blocked("10.255.255.255", "private");
	public("9.255.255.255");
	public("11.0.0.0");
	blocked("172.16.0.0", "private");
	blocked("172.31.255.255", "private");
	public("172.15.255.255");
	public("172.32.0.0");
	blocked("192.168.0.0", "private");
	blocked("192.168.255.255", "private");
	public("192.167.255.255");
	public("192.169.0.0");

	blocked("169.254.0.0", "link-local");
	blocked("169.254.169.254", "link-local"); /* cloud metadata */
	blocked("169.254.255.255", "link-local");
	public("169.253.255.255");
	public("169.255.0.0");

	blocked("100.64.0.0", "carrier-grade NAT");
	blocked("100.127.255.255", "carrier-grade NAT");
	public("100.63.255.255");
	public("100.128.0.0");
}

static void test_v4_special(void **state)
{
	blocked("0.0.0.0", "this network");
	blocked("0.255.255.255", "this network");
	public("1.0.0.0");

	blocked("224.0.0.0", "multicast");
	blocked("239.255.255.255", "multicast");
	public("223.255.255.255");
	blocked("240.0.0.0", "reserved");
	blocked("255.255.255.254", "reserved");
	blocked("255.255.255.255", "broadcast");

	blocked("192.0.0.0", "IETF protocol assignments");
	blocked("192.0.0.255", "IETF protocol assignments");
	blocked("192.0.2.0", "documentation");
	blocked("192.0.2.255", "documentation");
	public("192.0.1.255");
	public("192.0.3.0");
	blocked("198.51.100.0", "documentation");
	blocked("198.51.100.255", "documentation");
	public("198.51.99.255");
	public("198.51.101.0");
	blocked("203.0.113.0", "documentation");
	blocked("203.0.113.255", "documentation");
	public("203.0.112.255");
	public("203.0.114.0");
	blocked("198.18.0.0", "benchmarking");
	blocked("198.19.255.255", "benchmarking");
	public("198.17.255.255");
	public("198.20.0.0");
	blocked("192.88.99.1", "6to4 relay anycast");
}

static void test_v4_public(void **state)
{
	public("8.8.8.8");
	public("1.1.1.1");
	public("93.184.216.34");
	public("223.255.255.254");
}

/* ---- IPv6 ------------------------------------------------------------------------------- */

static void test_v6_ranges(void **state)
{
	blocked("::", "unspecified");
	blocked("::1", "loopback");
	blocked("fc00::", "private");
	blocked("fd12:3456:789a::1", "private");
	blocked("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private");
	blocked("fe80::", "link-local");
	blocked("fe80::1", "link-local");
	blocked("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local");
	blocked("fec0::1", "site-local");
	blocked("ff00::", "multicast");
	blocked("ff02::1", "multicast");
	blocked("ff0e::fb", "multicast");
	blocked("2001:db8::1", "documentation");
	blocked("2001:db8:ffff::1", "documentation");
	blocked("3fff::1", "documentation");
	blocked("2001:2::1", "benchmarking");
	blocked("2001::1", "Teredo");
	blocked("2001:10::1", "ORCHID");
	blocked("100::1", "discard-only");
	blocked("64:ff9b:1::1", "NAT64 local-use");
	/* outside global unicast (2000::/3) */
	blocked("fbff:ffff::1", "reserved");
	blocked("4000::1", "reserved");
	blocked("1fff:ffff::1", "reserved");
	blocked("::ffff:0:0:1", "reserved"); /* SIIT IPv4-translated: not a mapped address */
}

static void test_v6_public(void **state)
{
	public("2001:4860:4860::8888");
	public("2001:4860::8888");
	public("2606:4700:4700::1111");
	public("2a00:1450:4001::200e");
	public("2000::1");
	public("3fff:1000::1"); /* just past 3fff::/20 */
	public("2001:db9::1");  /* just past 2001:db8::/32 */
}

static void test_v6_embedded_v4(void **state)
{
	/* IPv4-mapped: exactly the IPv4 rules */
	blocked("::ffff:127.0.0.1", "loopback");
	blocked("::ffff:10.1.2.3", "private");
	blocked("::ffff:169.254.169.254", "link-local");
	blocked("::ffff:0.0.0.0", "this network");
	blocked("::ffff:255.255.255.255", "broadcast");
	public("::ffff:8.8.8.8");
	/* IPv4-compatible (deprecated): blocked, with the IPv4 range's name when it has one */
	blocked("::127.0.0.1", "loopback");
	blocked("::192.168.1.1", "private");
	blocked("::8.8.8.8", "IPv4-compatible");
	/* NAT64 well-known prefix */
	blocked("64:ff9b::127.0.0.1", "loopback");
	blocked("64:ff9b::a00:1", "private");
	blocked("64:ff9b::169.254.169.254", "link-local");
	public("64:ff9b::8.8.8.8");
	/* 6to4 */
	blocked("2002:7f00:1::", "loopback");
	blocked("2002:c0a8:101::1", "private");
	blocked("2002:a9fe:a9fe::1", "link-local");
	public("2002:808:808::1");
}

static void test_not_ip(void **state)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	assert_string_equal(al_ssrf_blocked_range((const struct sockaddr *)&un), "not an IP address");
	assert_false(al_ssrf_allowed((const struct sockaddr *)&un, NULL));
	assert_false(al_ssrf_allowed(NULL, NULL));
}

static void test_explain(void **state)
{
	char why[200];
	assert_true(al_ssrf_explain(addr("127.0.0.1"), NULL, why, sizeof why));
	assert_string_equal(why, "address 127.0.0.1 is in a blocked range (loopback)");
	assert_true(al_ssrf_explain(addr("fd00::5"), NULL, why, sizeof why));
	assert_string_equal(why, "address fd00::5 is in a blocked range (private)");
	assert_true(al_ssrf_explain(addr("::ffff:169.254.169.254"), NULL, why, sizeof why));
	assert_string_equal(why, "address ::ffff:169.254.169.254 is in a blocked range (link-local, through its IPv4 "
				 "address 169.254.169.254)");
	assert_false(al_ssrf_explain(addr("8.8.8.8"), NULL, why, sizeof why));
	assert_string_equal(why, "");
}

/* ---- allow lists ------------------------------------------------------------------------ */

static void test_allow_list_overrides(void **state)
{
	struct al_netlist l = parse_ok("10.0.0.0/8,fd00::/8");
	assert_int_equal(l.n, 2);
	assert_true(al_ssrf_allowed(addr("10.0.0.0"), &l));
	assert_true(al_ssrf_allowed(addr("10.255.255.255"), &l));
	assert_true(al_ssrf_allowed(addr("::ffff:10.1.2.3"), &l)); /* the same host, mapped */
	assert_true(al_ssrf_allowed(addr("fd00::1"), &l));
	assert_true(al_ssrf_allowed(addr("fdff::1"), &l));
	assert_false(al_ssrf_allowed(addr("fc00::1"), &l));
	assert_false(al_ssrf_allowed(addr("192.168.1.1"), &l));
	assert_false(al_ssrf_allowed(addr("127.0.0.1"), &l));
	assert_false(al_ssrf_allowed(addr("::1"), &l));
	assert_true(al_ssrf_allowed(addr("8.8.8.8"), &l)); /* public stays allowed */
	char why[200];
	assert_false(al_ssrf_explain(addr("10.1.2.3"), &l, why, sizeof why));
	al_netlist_free(&l);

	l = parse_ok("127.0.0.0/8");
	assert_true(al_ssrf_allowed(addr("127.0.0.1"), &l));
	assert_true(al_ssrf_allowed(addr("127.255.255.255"), &l));
	assert_true(al_ssrf_allowed(addr("::ffff:127.0.0.1"), &l));
	assert_false(al_ssrf_allowed(addr("::1"), &l));
	al_netlist_free(&l);

	/* a single host, written bare or as /32 */
	const char *const hosts[] = {"127.0.0.1", "127.0.0.1/32"};
	for (size_t i = 0; i < 2; i++) {
		l = parse_ok(hosts[i]);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.items[0].prefix, 32);
		assert_true(al_ssrf_allowed(addr("127.0.0.1"), &l));
		assert_false(al_ssrf_allowed(addr("127.0.0.2"), &l));
		al_netlist_free(&l);
	}

	/* odd prefix lengths */
	l = parse_ok("172.16.0.0/13, fe80::/10");
	assert_true(al_ssrf_allowed(addr("172.23.255.255"), &l));
	assert_false(al_ssrf_allowed(addr("172.24.0.0"), &l));
	assert_true(al_ssrf_allowed(addr("febf::1"), &l));
	al_netlist_free(&l);

	/* /0 allows every address of its family, not the other one */
	l = parse_ok("0.0.0.0/0");
	assert_true(al_ssrf_allowed(addr("169.254.169.254"), &l));
	assert_true(al_ssrf_allowed(addr("255.255.255.255"), &l));
	assert_false(al_ssrf_allowed(addr("::1"), &l));
	al_netlist_free(&l);
}

static void test_netlist_parse_forms(void **state)
{
	struct al_netlist l = parse_ok("");
	assert_int_equal(l.n, 0);
	al_netlist_free(&l);
	l = parse_ok("   \t");
	assert_int_equal(l.n, 0);
	al_netlist_free(&l);
	l = parse_ok(NULL);
	assert_int_equal(l.n, 0);
	al_netlist_free(&l);
	l = parse_ok(" 10.0.0.0/8 ,\t192.168.0.0/16 ,fd00::/8,::1");
	assert_int_equal(l.n, 4);
	assert_int_equal(l.items[0].family, AF_INET);
	assert_int_equal(l.items[0].prefix, 8);
	assert_int_equal(l.items[1].prefix, 16);
	assert_int_equal(l.items[2].family, AF_INET6);
	assert_int_equal(l.items[2].prefix, 8);
	assert_int_equal(l.items[3].prefix, 128);
	assert_true(al_netlist_contains(&l, addr("::1")));
	al_netlist_free(&l);
	al_netlist_free(&l); /* idempotent */
	assert_false(al_netlist_contains(NULL, addr("10.0.0.1")));
}

static void test_netlist_parse_errors(void **state)
{
	parse_fails("10.0.0.0/33", "prefix length must be a number from 0 to 32");
	parse_fails("fd00::/129", "prefix length must be a number from 0 to 128");
	parse_fails("10.0.0.0/", "prefix length");
	parse_fails("10.0.0.0/-1", "prefix length");
	parse_fails("10.0.0.0/8/9", "prefix length");
	parse_fails("10.0.0.0/ 8", "contains a space");
	parse_fails("10.0.0.1/8", "host bits are set (did you mean 10.0.0.0/8?)");
	parse_fails("fd00::1/8", "host bits are set (did you mean fd00::/8?)");
	parse_fails("10.0.0.0/8,", "entry 2 is empty");
	parse_fails(",10.0.0.0/8", "entry 1 is empty");
	parse_fails("10.0.0.0/8,,fd00::/8", "entry 2 is empty");
	parse_fails("10.0.0.0/8, ,fd00::/8", "entry 2 is empty");
	parse_fails("localhost", "\"localhost\" is not an IPv4 address");
	parse_fails("10.0.0/8", "is not an IPv4 address");
	parse_fails("256.0.0.0/8", "is not an IPv4 address");
	parse_fails("fe80::1%eth0/64", "is not an IPv6 address");
	parse_fails("10.0.0.0/8 192.168.0.0/16", "contains a space (separate ranges with commas)");
	parse_fails("10.0.0.0/8,fd00::/8,bogus", "entry \"bogus\"");
	parse_fails("1234:5678:9abc:def0:1234:5678:9abc:def0:1234:5678:9abc:def0/64", "too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4_loopback_private_linklocal),
	    cmocka_unit_test(test_v4_special),
	    cmocka_unit_test(test_v4_public),
	    cmocka_unit_test(test_v6_ranges),
	    cmocka_unit_test(test_v6_public),
	    cmocka_unit_test(test_v6_embedded_v4),
	    cmocka_unit_test(test_not_ip),
	    cmocka_unit_test(test_explain),
	    cmocka_unit_test(test_allow_list_overrides),
	    cmocka_unit_test(test_netlist_parse_forms),
	    cmocka_unit_test(test_netlist_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
