#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "net.h"
#include "text.h"

/*
 * Every address is handled as 16 bytes, IPv4 ones IPv4-mapped, so one
 * prefix comparison serves both families and an IPv4 allow-list entry
 * matches the same host reached over ::ffff:a.b.c.d.
 */

struct range4 {
	uint32_t net;
	int prefix;
	const char *what;
};

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | \
	((uint32_t)(c) << 8) | (uint32_t)(d))

/* First match wins: the specific entries come before their enclosing range. */
static const struct range4 ranges4[] = {
	{ V4(0, 0, 0, 0), 8, "an unspecified address" },
	{ V4(10, 0, 0, 0), 8, "a private address (RFC 1918)" },
	{ V4(100, 64, 0, 0), 10, "a shared address (CGNAT)" },
	{ V4(127, 0, 0, 0), 8, "a loopback address" },
	{ V4(169, 254, 169, 254), 32, "a link-local address (cloud metadata)" },
	{ V4(169, 254, 0, 0), 16, "a link-local address" },
	{ V4(172, 16, 0, 0), 12, "a private address (RFC 1918)" },
	{ V4(192, 0, 0, 0), 24, "a reserved address (IETF protocol assignments)" },
	{ V4(192, 0, 2, 0), 24, "a documentation address" },
	{ V4(192, 88, 99, 0), 24, "a reserved address (6to4 relay anycast)" },
	{ V4(192, 168, 0, 0), 16, "a private address (RFC 1918)" },
	{ V4(198, 18, 0, 0), 15, "a benchmarking address" },
	{ V4(198, 51, 100, 0), 24, "a documentation address" },
	{ V4(203, 0, 113, 0), 24, "a documentation address" },
	{ V4(224, 0, 0, 0), 4, "a multicast address" },
	{ V4(255, 255, 255, 255), 32, "the broadcast address" },
	{ V4(240, 0, 0, 0), 4, "a reserved address" },
};

enum { EMBED_NONE, EMBED_MAPPED, EMBED_NAT64, EMBED_6TO4 };

struct range6 {
	unsigned char net[16];
	int prefix;
	const char *what;	/* NULL: judged by the IPv4 address it carries */
	int embed;
};

static const struct range6 ranges6[] = {
	{ { 0 }, 128, "an unspecified address", EMBED_NONE },
	{ { [15] = 1 }, 128, "a loopback address", EMBED_NONE },
	{ { [10] = 0xff, [11] = 0xff }, 96, NULL, EMBED_MAPPED },
	{ { 0, 0x64, 0xff, 0x9b }, 96, NULL, EMBED_NAT64 },
	{ { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, "a local-use NAT64 address", EMBED_NONE },
	{ { 0 }, 96, "an IPv4-compatible address (deprecated)", EMBED_NONE },
	{ { 0x01, 0x00 }, 64, "a discard-only address", EMBED_NONE },
	{ { 0x20, 0x01, 0x00, 0x00 }, 32, "a Teredo address", EMBED_NONE },
	{ { 0x20, 0x01, 0x00, 0x02, 0, 0 }, 48, "a benchmarking address", EMBED_NONE },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, "a documentation address", EMBED_NONE },
	{ { 0x3f, 0xff }, 20, "a documentation address", EMBED_NONE },
	{ { 0x20, 0x02 }, 16, NULL, EMBED_6TO4 },
	{ { 0xfc }, 7, "a unique-local address", EMBED_NONE },
	{ { 0xfe, 0x80 }, 10, "a link-local address", EMBED_NONE },
	{ { 0xfe, 0xc0 }, 10, "a site-local address (deprecated)", EMBED_NONE },
	{ { 0xff }, 8, "a multicast address", EMBED_NONE },
};

/* Do the first prefix bits of a and b agree? */
static int
prefix_match(const unsigned char *a, const unsigned char *b, int prefix)
{
	int whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[whole] ^ b[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

static void
mapped(unsigned char a16[16], uint32_t v4)
{
	memset(a16, 0, 10);
	a16[10] = a16[11] = 0xff;
	a16[12] = (unsigned char)(v4 >> 24);
	a16[13] = (unsigned char)(v4 >> 16);
	a16[14] = (unsigned char)(v4 >> 8);
	a16[15] = (unsigned char)v4;
}

static uint32_t
load4(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int
listed(const struct jobs_net_allow *a, const unsigned char a16[16])
{
	int i;

	for (i = 0; a != NULL && i < a->n; i++)
		if (prefix_match(a16, a->cidr[i].addr, a->cidr[i].prefix))
			return 1;
	return 0;
}

/* What kind of refused IPv4 address v4 is, or NULL when it is public. */
static const char *
judge4(uint32_t v4)
{
	size_t i;

	for (i = 0; i < sizeof(ranges4) / sizeof(ranges4[0]); i++) {
		const struct range4 *r = &ranges4[i];
		uint32_t mask = r->prefix == 0 ? 0 : 0xffffffffu << (32 - r->prefix);

		if ((v4 & mask) == r->net)
			return r->what;
	}
	return NULL;
}

static void
format4(uint32_t v4, char *out, size_t size)
{
	snprintf(out, size, "%u.%u.%u.%u", (unsigned)(v4 >> 24),
	    (unsigned)(v4 >> 16) & 0xff, (unsigned)(v4 >> 8) & 0xff,
	    (unsigned)v4 & 0xff);
}

/* "ADDR is WHAT", or "ADDR is HOW V4, WHAT" when ADDR carries V4. */
static int
refuse(char *why, size_t size, const char *addr, const char *how,
    const char *v4, const char *what)
{
	if (size > 0 && how == NULL)
		snprintf(why, size, "%s is %s", addr, what);
	else if (size > 0)
		snprintf(why, size, "%s is %s %s, %s", addr, how, v4, what);
	return 0;
}

int
jobs_net_allowed(const struct jobs_net_allow *a, const struct sockaddr *sa,
    char *why, size_t size)
{
	unsigned char a16[16], e16[16];
	char text[INET6_ADDRSTRLEN], text4[INET_ADDRSTRLEN];
	const struct range6 *r = NULL;
	const char *what;
	uint32_t v4;
	size_t i;

	if (size > 0)
		why[0] = '\0';
	if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		if (size > 0)
			snprintf(why, size, "not an IP address");
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		v4 = ntohl(sin.sin_addr.s_addr);
		mapped(a16, v4);
		if (listed(a, a16) || (what = judge4(v4)) == NULL)
			return 1;
		format4(v4, text4, sizeof(text4));
		return refuse(why, size, text4, NULL, NULL, what);
	}
	{
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(a16, &sin6.sin6_addr, 16);
	}
	if (listed(a, a16))
		return 1;
	inet_ntop(AF_INET6, a16, text, sizeof(text));
	for (i = 0; i < sizeof(ranges6) / sizeof(ranges6[0]); i++)
		if (prefix_match(a16, ranges6[i].net, ranges6[i].prefix)) {
			r = &ranges6[i];
			break;
		}
	if (r == NULL) {
		if ((a16[0] & 0xe0) == 0x20)	/* 2000::/3, global unicast */
			return 1;
		return refuse(why, size, text, NULL, NULL, "a reserved address");
	}
	if (r->embed == EMBED_NONE)
		return refuse(why, size, text, NULL, NULL, r->what);
	/* The address carries an IPv4 one: that is where it leads. */
	v4 = load4(r->embed == EMBED_6TO4 ? a16 + 2 : a16 + 12);
	mapped(e16, v4);
	if (listed(a, e16) || (what = judge4(v4)) == NULL)
		return 1;
	format4(v4, text4, sizeof(text4));
	return refuse(why, size, text, r->embed == EMBED_MAPPED ? "IPv4-mapped" :
	    r->embed == EMBED_NAT64 ? "NAT64 for" : "6to4 for", text4, what);
}

/* The entry as it may be shown: short and without control characters. */
static const char *
shown(const char *s, size_t len, char *out, size_t size)
{
	return jobs_text_clean(s, len > 60 ? 60 : len, out, size, 0);
}

static int
add(struct jobs_net_allow *a, const char *s, size_t len, struct jobs_err *err)
{
	char buf[64], show[80], *slash, *end;
	struct jobs_net_cidr c;
	struct in_addr in4;
	long prefix;
	int max, i;

	shown(s, len, show, sizeof(show));
	if (len >= sizeof(buf))
		return jobs_err_set(err, JOBS_EUSAGE, "bad network '%s...': too long",
		    show);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	memset(&c, 0, sizeof(c));
	if (inet_pton(AF_INET, buf, &in4) == 1) {
		mapped(c.addr, ntohl(in4.s_addr));
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		max = 128;
	else
		return jobs_err_set(err, JOBS_EUSAGE, "bad network '%s': not an"
		    " IPv4 or IPv6 address", show);
	prefix = max;
	if (slash != NULL) {
		/* Digits only: strtol would take " 8", "+8" and "0x8". */
		for (end = slash + 1; *end >= '0' && *end <= '9'; end++)
			;
		if (end == slash + 1 || *end != '\0' || end - slash > 4 ||
		    (prefix = strtol(slash + 1, NULL, 10)) > max)
			return jobs_err_set(err, JOBS_EUSAGE, "bad network '%s':"
			    " prefix length must be 0 to %d", show, max);
	}
	c.prefix = (int)prefix + (max == 32 ? 96 : 0);
	for (i = c.prefix; i < 128; i++)
		if (c.addr[i / 8] & (0x80 >> (i % 8)))
			return jobs_err_set(err, JOBS_EUSAGE, "bad network '%s':"
			    " host bits set past the /%ld prefix", show, prefix);
	if (a->n >= JOBS_NET_ALLOW_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "bad network '%s': more"
		    " than %d networks", show, JOBS_NET_ALLOW_MAX);
	a->cidr[a->n++] = c;
	return 0;
}

int
jobs_net_allow_add(struct jobs_net_allow *a, const char *cidr,
    struct jobs_err *err)
{
	return add(a, cidr, strlen(cidr), err);
}

int
jobs_net_allow_parse(struct jobs_net_allow *a, const char *list,
    struct jobs_err *err)
{
	const char *p = list, *e, *end;
	int n0 = a->n;

	if (list == NULL)
		return 0;
	while (*p != '\0') {
		end = p + strcspn(p, ",");
		for (e = end; e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && add(a, p, (size_t)(e - p), err) == -1) {
			a->n = n0;
			return -1;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}
