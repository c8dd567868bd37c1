/* SPDX-License-Identifier: Apache-2.0 */
/* SSRF guard: which addresses an outgoing request from user input may connect to, and the
 * operator's allow list of CIDR ranges that override it. No curl, no Lua. */
#ifndef AL_HTTPC_SSRF_H
#define AL_HTTPC_SSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct al_cidr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network address, host bits zero (4 bytes used for AF_INET) */
	unsigned prefix;     /* 0..32 or 0..128 */
};

struct al_netlist {
	struct al_cidr *items; /* owned (al_netlist_free) */
	size_t n;
};

#define AL_NETLIST_INIT {0}

/* Parses "10.0.0.0/8, fd00::/8, 192.0.2.7" (a bare address is a single host) into *out, which
 * the caller frees with al_netlist_free. An empty or all-blank text is an empty list. Returns
 * false with err set (and *out empty) at the first bad entry: not an address, a prefix length
 * out of range, host bits set, or an empty entry. */
bool al_netlist_parse(const char *text, struct al_netlist *out, char *err, size_t errlen);
void al_netlist_free(struct al_netlist *list);
/* True when sa (AF_INET or AF_INET6) is inside one of the ranges. An IPv6 address that embeds
 * an IPv4 one (mapped, compatible, NAT64, 6to4) also matches through its IPv4 address. */
bool al_netlist_contains(const struct al_netlist *list, const struct sockaddr *sa);

/* The name of the blocked range sa is in ("loopback", "private", ...), or NULL when sa is a
 * public unicast address. Families other than IPv4 and IPv6 are "not an IP address". */
const char *al_ssrf_blocked_range(const struct sockaddr *sa);
/* True when a request may connect to sa: a public address, or one inside allow (may be NULL). */
bool al_ssrf_allowed(const struct sockaddr *sa, const struct al_netlist *allow);
/* Why sa is refused, as "address 127.0.0.1 is in a blocked range (loopback)", into out. Returns
 * false (out = "") when sa is allowed. */
bool al_ssrf_explain(const struct sockaddr *sa, const struct al_netlist *allow, char *out, size_t outlen);

#endif
