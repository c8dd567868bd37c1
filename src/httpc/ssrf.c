/* SPDX-License-Identifier: Apache-2.0 */
/* SSRF guard: special-purpose address ranges (RFC 6890 and successors) and CIDR allow lists. */
#include "httpc/ssrf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct range {
	uint8_t net[16];
	unsigned prefix;
	const char *name;
};

/* IPv4 ranges that are not public unicast. The broadcast address comes before 240/4 so that it
 * gets its own name. */
static const struct range v4_blocked[] = {
	{{0, 0, 0, 0}, 8, "this network"},
	{{10, 0, 0, 0}, 8, "private"},
	{{100, 64, 0, 0}, 10, "carrier-grade NAT"},
	{{127, 0, 0, 0}, 8, "loopback"},
	{{169, 254, 0, 0}, 16, "link-local"},
	{{172, 16, 0, 0}, 12, "private"},
	{{192, 0, 0, 0}, 24, "IETF protocol assignments"},
	{{192, 0, 2, 0}, 24, "documentation"},
	{{192, 88, 99, 0}, 24, "6to4 relay anycast"},
	{{192, 168, 0, 0}, 16, "private"},
	{{198, 18, 0, 0}, 15, "benchmarking"},
	{{198, 51, 100, 0}, 24, "documentation"},
	{{203, 0, 113, 0}, 24, "documentation"},
	{{224, 0, 0, 0}, 4, "multicast"},
	{{255, 255, 255, 255}, 32, "broadcast"},
	{{240, 0, 0, 0}, 4, "reserved"},
};

/* IPv6 ranges inside or beside global unicast (2000::/3) that are not public. Everything outside
 * 2000::/3 that is not listed here or handled as an embedded IPv4 form is "reserved". */
static const struct range v6_blocked[] = {
	{{0}, 128, "unspecified"},
	{{[15] = 1}, 128, "loopback"},
	{{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "NAT64 local-use"},
	{{0x01, 0x00}, 64, "discard-only"},
	{{0x20, 0x01, 0x00, 0x00}, 32, "Teredo"},
	{{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, "benchmarking"},
	{{0x20, 0x01, 0x00, 0x10}, 28, "ORCHID"},
	{{0x20, 0x01, 0x00, 0x20}, 28, "ORCHID"},
	{{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
	{{0x3f, 0xff, 0x00}, 20, "documentation"},
	{{0xfc}, 7, "private"},
	{{0xfe, 0x80}, 10, "link-local"},
	{{0xfe, 0xc0}, 10, "site-local"},
	{{0xff}, 8, "multicast"},
};

static bool prefix_match(const uint8_t *addr, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(addr, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (addr[full] & mask) == (net[full] & mask);
}

static const char *match_table(const uint8_t *addr, const struct range *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_match(addr, t[i].net, t[i].prefix))
			return t[i].name;
	return NULL;
}

enum embed { EMBED_NONE, EMBED_MAPPED, EMBED_COMPAT, EMBED_NAT64, EMBED_6TO4 };

/* Finds an IPv4 address carried inside an IPv6 one; copies it to v4. */
static enum embed embedded_v4(const uint8_t *a, uint8_t v4[4])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	static const uint8_t zero[12] = {0};
	if (memcmp(a, mapped, 12) == 0) {
		memcpy(v4, a + 12, 4);
		return EMBED_MAPPED;
	}
	if (memcmp(a, nat64, 12) == 0) {
		memcpy(v4, a + 12, 4);
		return EMBED_NAT64;
	}
	if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(v4, a + 2, 4);
		return EMBED_6TO4;
	}
	/* ::/96 minus :: and ::1, which have their own names */
	if (memcmp(a, zero, 12) == 0 && !(a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] <= 1)) {
		memcpy(v4, a + 12, 4);
		return EMBED_COMPAT;
	}
	return EMBED_NONE;
}

static const char *v4_range(const uint8_t *a)
{
	return match_table(a, v4_blocked, sizeof v4_blocked / sizeof v4_blocked[0]);
}

/* Range name for an IPv6 address (NULL = public); *embed_out says whether an embedded IPv4
 * address decided it. */
static const char *v6_range(const uint8_t *a, enum embed *embed_out)
{
	uint8_t v4[4];
	enum embed e = embedded_v4(a, v4);
	*embed_out = e;
	if (e != EMBED_NONE) {
		const char *name = v4_range(v4);
		if (name)
			return name;
		/* Deprecated (RFC 4291): no public service uses one, and stacks treat them oddly. */
		return e == EMBED_COMPAT ? "IPv4-compatible" : NULL;
	}
	const char *name = match_table(a, v6_blocked, sizeof v6_blocked / sizeof v6_blocked[0]);
	if (name)
		return name;
	return (a[0] & 0xe0) == 0x20 ? NULL : "reserved"; /* only 2000::/3 is global unicast */
}

const char *al_ssrf_blocked_range(const struct sockaddr *sa)
{
	if (!sa)
		return "not an IP address";
	if (sa->sa_family == AF_INET)
		return v4_range((const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6) {
		enum embed e;
		return v6_range(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, &e);
	}
	return "not an IP address";
}

static bool list_contains(const struct al_netlist *list, int family, const uint8_t *addr)
{
	for (size_t i = 0; list && i < list->n; i++)
		if (list->items[i].family == family && prefix_match(addr, list->items[i].addr, list->items[i].prefix))
			return true;
	return false;
}

bool al_netlist_contains(const struct al_netlist *list, const struct sockaddr *sa)
{
	if (!list || !list->n || !sa)
		return false;
	if (sa->sa_family == AF_INET)
		return list_contains(list, AF_INET,
				     (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family != AF_INET6)
		return false;
	const uint8_t *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	uint8_t v4[4];
	return list_contains(list, AF_INET6, a) || (embedded_v4(a, v4) != EMBED_NONE && list_contains(list, AF_INET, v4));
}

bool al_ssrf_allowed(const struct sockaddr *sa, const struct al_netlist *allow)
{
	return al_ssrf_blocked_range(sa) == NULL || al_netlist_contains(allow, sa);
}

bool al_ssrf_explain(const struct sockaddr *sa, const struct al_netlist *allow, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (al_ssrf_allowed(sa, allow))
		return false;
	char text[INET6_ADDRSTRLEN] = "?";
	const char *name = al_ssrf_blocked_range(sa);
	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text, sizeof text);
	} else if (sa && sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		inet_ntop(AF_INET6, a, text, sizeof text);
		enum embed e;
		uint8_t v4[4];
		char v4text[INET_ADDRSTRLEN];
		if (v6_range(a, &e) && e != EMBED_NONE && embedded_v4(a, v4) != EMBED_NONE && v4_range(v4) &&
		    inet_ntop(AF_INET, v4, v4text, sizeof v4text)) {
			snprintf(out, outlen, "address %s is in a blocked range (%s, through its IPv4 address %s)", text,
				 name, v4text);
			return true;
		}
	} else {
		snprintf(out, outlen, "the address is not an IPv4 or IPv6 address");
		return true;
	}
	snprintf(out, outlen, "address %s is in a blocked range (%s)", text, name);
	return true;
}

/* ---- allow lists ---------------------------------------------------------------------------- */

static bool parse_entry(const char *s, size_t len, struct al_cidr *out, char *err, size_t errlen)
{
	char text[INET6_ADDRSTRLEN + 8];
	if (len >= sizeof text) {
		snprintf(err, errlen, "entry \"%.*s...\" is too long for an address range", 48, s);
		return false;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	if (strpbrk(text, " \t\r\n")) {
		snprintf(err, errlen, "entry \"%s\" contains a space (separate ranges with commas)", text);
		return false;
	}
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	unsigned max = family == AF_INET ? 32 : 128;
	memset(out, 0, sizeof *out);
	out->family = family;
	if (inet_pton(family, text, out->addr) != 1) {
		snprintf(err, errlen, "entry \"%.*s\": \"%s\" is not an %s address", (int)len, s, text,
			 family == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	out->prefix = max;
	if (slash) {
		const char *p = slash + 1;
		size_t digits = strspn(p, "0123456789");
		if (digits == 0 || digits > 3 || p[digits] != '\0' || (out->prefix = (unsigned)atoi(p)) > max) {
			snprintf(err, errlen, "entry \"%.*s\": the prefix length must be a number from 0 to %u", (int)len,
				 s, max);
			return false;
		}
	}
	uint8_t net[16] = {0};
	memcpy(net, out->addr, out->prefix / 8);
	if (out->prefix % 8)
		net[out->prefix / 8] = (uint8_t)(out->addr[out->prefix / 8] & (0xff << (8 - out->prefix % 8)));
	if (memcmp(net, out->addr, max / 8) != 0) {
		char fixed[INET6_ADDRSTRLEN];
		inet_ntop(family, net, fixed, sizeof fixed);
		snprintf(err, errlen, "entry \"%.*s\": host bits are set (did you mean %s/%u?)", (int)len, s, fixed,
			 out->prefix);
		return false;
	}
	return true;
}

bool al_netlist_parse(const char *text, struct al_netlist *out, char *err, size_t errlen)
{
	static const char blank[] = " \t\r\n";
	*out = (struct al_netlist)AL_NETLIST_INIT;
	if (!text || text[strspn(text, blank)] == '\0')
		return true;
	size_t cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == ',';
	out->items = calloc(cap, sizeof *out->items);
	if (!out->items) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	const char *p = text;
	for (size_t i = 1;; i++) {
		size_t len = strcspn(p, ",");
		const char *s = p + strspn(p, blank);
		size_t n = len - (size_t)(s - p);
		while (n > 0 && strchr(blank, s[n - 1]))
			n--;
		if (n == 0) {
			snprintf(err, errlen, "entry %zu is empty (a stray comma?)", i);
			goto fail;
		}
		if (!parse_entry(s, n, &out->items[out->n], err, errlen))
			goto fail;
		out->n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return true;
fail:
	al_netlist_free(out);
	return false;
}

void al_netlist_free(struct al_netlist *list)
{
	if (!list)
		return;
	free(list->items);
	*list = (struct al_netlist)AL_NETLIST_INIT;
}
