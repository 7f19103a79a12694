/* Unit tests of lib/net.c: the server-side request forgery guard. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "err.h"
#include "net.h"
#include "t.h"

/* Parse text into ss (IPv4 first); 0, or -1 when it is no address. */
static int
sockaddr_of(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(443);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(443);
		return 0;
	}
	return -1;
}

struct verdict {
	const char *addr;
	const char *why;	/* NULL: allowed */
};

static void
check(const char *allow, const struct verdict *v, size_t n)
{
	struct jobs_net_allow a = { 0 };
	struct sockaddr_storage ss;
	struct jobs_err err = { 0 };
	char why[160], name[200];
	size_t i;
	int ok;

	if (jobs_net_allow_parse(&a, allow, &err) != 0) {
		T_STR("allow list parses", err.msg, "");
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s %s with allow '%s'", v[i].addr,
		    v[i].why ? "refused" : "allowed", allow ? allow : "");
		if (sockaddr_of(v[i].addr, &ss) != 0) {
			T_OK(name, 0);	/* the test's address must parse */
			continue;
		}
		snprintf(why, sizeof(why), "junk");
		ok = jobs_net_allowed(&a, (struct sockaddr *)&ss, why, sizeof(why));
		T_INT(name, ok, v[i].why == NULL);
		T_STR(name, why, v[i].why ? v[i].why : "");
	}
}

#define N(v) (sizeof(v) / sizeof((v)[0]))

static void
defaults4(void)
{
	static const struct verdict v[] = {
		{ "8.8.8.8", NULL },
		{ "1.1.1.1", NULL },
		{ "0.0.0.0", "0.0.0.0 is an unspecified address" },
		{ "0.255.255.255", "0.255.255.255 is an unspecified address" },
		{ "1.0.0.0", NULL },
		{ "9.255.255.255", NULL },
		{ "10.0.0.0", "10.0.0.0 is a private address (RFC 1918)" },
		{ "10.255.255.255", "10.255.255.255 is a private address (RFC 1918)" },
		{ "11.0.0.0", NULL },
		{ "100.63.255.255", NULL },
		{ "100.64.0.0", "100.64.0.0 is a shared address (CGNAT)" },
		{ "100.100.100.200", "100.100.100.200 is a shared address (CGNAT)" },
		{ "100.127.255.255", "100.127.255.255 is a shared address (CGNAT)" },
		{ "100.128.0.0", NULL },
		{ "126.255.255.255", NULL },
		{ "127.0.0.1", "127.0.0.1 is a loopback address" },
		{ "127.255.255.255", "127.255.255.255 is a loopback address" },
		{ "128.0.0.0", NULL },
		{ "169.253.255.255", NULL },
		{ "169.254.0.1", "169.254.0.1 is a link-local address" },
		{ "169.254.169.254",
		    "169.254.169.254 is a link-local address (cloud metadata)" },
		{ "169.254.255.255", "169.254.255.255 is a link-local address" },
		{ "169.255.0.0", NULL },
		{ "172.15.255.255", NULL },
		{ "172.16.0.0", "172.16.0.0 is a private address (RFC 1918)" },
		{ "172.31.255.255", "172.31.255.255 is a private address (RFC 1918)" },
		{ "172.32.0.0", NULL },
		{ "192.0.0.170",
		    "192.0.0.170 is a reserved address (IETF protocol assignments)" },
		{ "192.0.2.1", "192.0.2.1 is a documentation address" },
		{ "192.0.3.0", NULL },
		{ "192.88.99.1", "192.88.99.1 is a reserved address (6to4 relay anycast)" },
		{ "192.167.255.255", NULL },
		{ "192.168.0.0", "192.168.0.0 is a private address (RFC 1918)" },
		{ "192.168.255.255", "192.168.255.255 is a private address (RFC 1918)" },
		{ "192.169.0.0", NULL },
		{ "198.17.255.255", NULL },
		{ "198.18.0.0", "198.18.0.0 is a benchmarking address" },
		{ "198.19.255.255", "198.19.255.255 is a benchmarking address" },
		{ "198.20.0.0", NULL },
		{ "198.51.100.7", "198.51.100.7 is a documentation address" },
		{ "203.0.113.9", "203.0.113.9 is a documentation address" },
		{ "223.255.255.255", NULL },
		{ "224.0.0.1", "224.0.0.1 is a multicast address" },
		{ "239.255.255.255", "239.255.255.255 is a multicast address" },
		{ "240.0.0.1", "240.0.0.1 is a reserved address" },
		{ "255.255.255.254", "255.255.255.254 is a reserved address" },
		{ "255.255.255.255", "255.255.255.255 is the broadcast address" },
	};

	check(NULL, v, N(v));
}

static void
defaults6(void)
{
	static const struct verdict v[] = {
		{ "2606:4700:4700::1111", NULL },
		{ "2000::1", NULL },
		{ "::", ":: is an unspecified address" },
		{ "::1", "::1 is a loopback address" },
		{ "::2", "::2 is an IPv4-compatible address (deprecated)" },
		{ "::127.0.0.1", "::127.0.0.1 is an IPv4-compatible address (deprecated)" },
		{ "::ffff:127.0.0.1",
		    "::ffff:127.0.0.1 is IPv4-mapped 127.0.0.1, a loopback address" },
		{ "::ffff:7f00:1",
		    "::ffff:127.0.0.1 is IPv4-mapped 127.0.0.1, a loopback address" },
		{ "::ffff:10.0.0.1", "::ffff:10.0.0.1 is IPv4-mapped 10.0.0.1,"
		    " a private address (RFC 1918)" },
		{ "::ffff:169.254.169.254", "::ffff:169.254.169.254 is IPv4-mapped"
		    " 169.254.169.254, a link-local address (cloud metadata)" },
		{ "::ffff:0.0.0.0",
		    "::ffff:0.0.0.0 is IPv4-mapped 0.0.0.0, an unspecified address" },
		{ "::ffff:8.8.8.8", NULL },
		{ "64:ff9b::7f00:1",
		    "64:ff9b::7f00:1 is NAT64 for 127.0.0.1, a loopback address" },
		{ "64:ff9b::169.254.169.254", "64:ff9b::a9fe:a9fe is NAT64 for"
		    " 169.254.169.254, a link-local address (cloud metadata)" },
		{ "64:ff9b::c0a8:101", "64:ff9b::c0a8:101 is NAT64 for 192.168.1.1,"
		    " a private address (RFC 1918)" },
		{ "64:ff9b::8.8.8.8", NULL },
		{ "64:ff9b:1::1", "64:ff9b:1::1 is a local-use NAT64 address" },
		{ "2002:7f00:1::1",
		    "2002:7f00:1::1 is 6to4 for 127.0.0.1, a loopback address" },
		{ "2002:808:808::1", NULL },
		{ "fc00::1", "fc00::1 is a unique-local address" },
		{ "fd00:ec2::254", "fd00:ec2::254 is a unique-local address" },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		    "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff is a unique-local address" },
		{ "fbff::1", "fbff::1 is a reserved address" },
		{ "fe80::1", "fe80::1 is a link-local address" },
		{ "febf:ffff::1", "febf:ffff::1 is a link-local address" },
		{ "fec0::1", "fec0::1 is a site-local address (deprecated)" },
		{ "ff02::1", "ff02::1 is a multicast address" },
		{ "ff0e::1", "ff0e::1 is a multicast address" },
		{ "100::1", "100::1 is a discard-only address" },
		{ "2001::1", "2001::1 is a Teredo address" },
		{ "2001:2::1", "2001:2::1 is a benchmarking address" },
		{ "2001:db8::1", "2001:db8::1 is a documentation address" },
		{ "3fff::1", "3fff::1 is a documentation address" },
		{ "3fff:1000::1", NULL },
		{ "1fff:ffff::1", "1fff:ffff::1 is a reserved address" },
		{ "4000::1", "4000::1 is a reserved address" },
	};

	check(NULL, v, N(v));
}

static void
allowed(void)
{
	static const struct verdict tests[] = {
		{ "127.0.0.1", NULL },
		{ "127.255.255.255", NULL },
		{ "::1", NULL },
		{ "::ffff:127.0.0.1", NULL },
		{ "64:ff9b::7f00:1", NULL },
		{ "2002:7f00:1::1", NULL },
		{ "10.1.2.0", NULL },
		{ "10.1.2.255", NULL },
		{ "10.1.1.255", "10.1.1.255 is a private address (RFC 1918)" },
		{ "10.1.3.0", "10.1.3.0 is a private address (RFC 1918)" },
		{ "169.254.169.254",
		    "169.254.169.254 is a link-local address (cloud metadata)" },
		{ "::2", "::2 is an IPv4-compatible address (deprecated)" },
		{ "8.8.8.8", NULL },
	};
	static const struct verdict ula[] = {
		{ "fd00:ec2::254", NULL },
		{ "fdff::1", NULL },
		{ "fc00::1", "fc00::1 is a unique-local address" },
		{ "::1", "::1 is a loopback address" },
	};
	static const struct verdict all4[] = {
		{ "127.0.0.1", NULL },
		{ "255.255.255.255", NULL },
		{ "::ffff:10.0.0.1", NULL },
		{ "::1", "::1 is a loopback address" },
	};

	check("127.0.0.0/8, ::1/128, 10.1.2.0/24", tests, N(tests));
	check("fd00::/8", ula, N(ula));
	check("0.0.0.0/0", all4, N(all4));
}

static void
odd_calls(void)
{
	struct sockaddr_un un;
	struct sockaddr_storage ss;
	char why[64];

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	T_INT("a Unix socket is refused",
	    jobs_net_allowed(NULL, (struct sockaddr *)&un, why, sizeof(why)), 0);
	T_STR("as not an IP address", why, "not an IP address");
	sockaddr_of("127.0.0.1", &ss);
	T_INT("no reason buffer is fine",
	    jobs_net_allowed(NULL, (struct sockaddr *)&ss, NULL, 0), 0);
	jobs_net_allowed(NULL, (struct sockaddr *)&ss, why, 10);
	T_STR("a short reason buffer is cut, terminated", why, "127.0.0.1");
}

static void
parse(void)
{
	static const struct { const char *list; int n; const char *msg; } cases[] = {
		{ "", 0, NULL },
		{ " , ,", 0, NULL },
		{ "127.0.0.0/8", 1, NULL },
		{ " 127.0.0.0/8 , ::1/128,10.1.2.0/24 ", 3, NULL },
		{ "127.0.0.0/8,,10.1.2.0/24,", 2, NULL },
		{ "\t127.0.0.1\t", 1, NULL },
		{ "::/0", 1, NULL },
		{ "0.0.0.0/0", 1, NULL },
		{ "10.0.0.0/032", 1, NULL },
		{ "127.0.0.0/33", -1,
		    "bad network '127.0.0.0/33': prefix length must be 0 to 32" },
		{ "::1/129", -1, "bad network '::1/129': prefix length must be 0 to 128" },
		{ "127.0.0.0/", -1,
		    "bad network '127.0.0.0/': prefix length must be 0 to 32" },
		{ "127.0.0.0/+8", -1,
		    "bad network '127.0.0.0/+8': prefix length must be 0 to 32" },
		{ "127.0.0.0/ 8", -1,
		    "bad network '127.0.0.0/ 8': prefix length must be 0 to 32" },
		{ "127.0.0.0/0x8", -1,
		    "bad network '127.0.0.0/0x8': prefix length must be 0 to 32" },
		{ "127.0.0.0/00008", -1,
		    "bad network '127.0.0.0/00008': prefix length must be 0 to 32" },
		{ "10.1.2/24", -1,
		    "bad network '10.1.2/24': not an IPv4 or IPv6 address" },
		{ "010.0.0.0/8", -1,
		    "bad network '010.0.0.0/8': not an IPv4 or IPv6 address" },
		{ "localhost", -1,
		    "bad network 'localhost': not an IPv4 or IPv6 address" },
		{ "fe80::1%eth0/128", -1,
		    "bad network 'fe80::1%eth0/128': not an IPv4 or IPv6 address" },
		{ "10.1.2.3/24", -1,
		    "bad network '10.1.2.3/24': host bits set past the /24 prefix" },
		{ "fd00::1/8", -1,
		    "bad network 'fd00::1/8': host bits set past the /8 prefix" },
		{ "127.0.0.0/8, bogus, ::1", -1,
		    "bad network 'bogus': not an IPv4 or IPv6 address" },
		{ "127.0.0.0/8 10.0.0.0/8", -1,
		    "bad network '127.0.0.0/8 10.0.0.0/8': prefix length must be 0 to 32" },
		{ "1.2.3.4\x1b[31m", -1,
		    "bad network '1.2.3.4[31m': not an IPv4 or IPv6 address" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:1111:2222:"
		    "3333:4444:5555:6666", -1,
		    "bad network '1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:"
		    "1111:2222:...': too long" },
	};
	struct jobs_net_allow a;
	struct jobs_err err;
	char list[1024], name[160];
	size_t i, off;
	int rc;

	for (i = 0; i < N(cases); i++) {
		memset(&a, 0, sizeof(a));
		err.msg[0] = '\0';
		rc = jobs_net_allow_parse(&a, cases[i].list, &err);
		snprintf(name, sizeof(name), "parse '%s'", cases[i].list);
		T_INT(name, rc, cases[i].n < 0 ? -1 : 0);
		T_INT(name, a.n, cases[i].n < 0 ? 0 : cases[i].n);
		T_STR(name, err.msg, cases[i].msg ? cases[i].msg : "");
		if (cases[i].msg != NULL)
			T_INT("a parse error is a usage error", err.code, JOBS_EUSAGE);
	}
	memset(&a, 0, sizeof(a));
	T_INT("NULL adds nothing", jobs_net_allow_parse(&a, NULL, &err), 0);
	T_INT("and leaves the list empty", a.n, 0);

	/* Parsing appends: the config's list, then the environment's. */
	T_INT("a first list", jobs_net_allow_parse(&a, "10.0.0.0/8", &err), 0);
	T_INT("a second list", jobs_net_allow_parse(&a, "127.0.0.0/8", &err), 0);
	T_INT("appends", a.n, 2);
	T_INT("a failing third", jobs_net_allow_parse(&a, "::1, nope", &err), -1);
	T_INT("leaves the first two as they were", a.n, 2);
	T_INT("one entry at a time", jobs_net_allow_add(&a, "::1/128", &err), 0);
	T_INT("adds it", a.n, 3);
	T_INT("a bad single entry", jobs_net_allow_add(&a, "::1/200", &err), -1);
	T_STR("says why", err.msg, "bad network '::1/200': prefix length must be"
	    " 0 to 128");

	memset(&a, 0, sizeof(a));
	for (off = 0, i = 0; i <= JOBS_NET_ALLOW_MAX; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "10.0.%zu.0/24,", i);
	T_INT("more networks than the list holds",
	    jobs_net_allow_parse(&a, list, &err), -1);
	T_STR("says how many fit", err.msg, "bad network '10.0.32.0/24': more"
	    " than 32 networks");
	T_INT("and adds none of them", a.n, 0);
}

int
main(void)
{
	defaults4();
	defaults6();
	allowed();
	odd_calls();
	parse();
	return t_done();
}
