/*
 * net.h - the server-side request forgery guard: which IP addresses a
 * destination taken from a row may reach (DESIGN §7).
 *
 * Pure functions, no I/O: the sender calls jobs_net_allowed() from libcurl's
 * open-socket callback, so the check sees every address DNS returned and
 * every redirect hop, at the moment of connecting.
 *
 * Refused by default: loopback, unspecified, private (RFC 1918), link-local
 * (cloud metadata), shared CGNAT, IETF protocol assignments, benchmarking,
 * documentation, multicast, broadcast and reserved IPv4; and in IPv6 the
 * loopback, unspecified, unique-local, link-local, site-local, multicast,
 * discard, documentation, Teredo, IPv4-compatible and everything outside
 * 2000::/3.  IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16) addresses are judged by the IPv4 address they carry.
 * An address inside an allow-listed network is allowed whatever its kind.
 */
#ifndef JOBS_NET_H
#define JOBS_NET_H

#include <stddef.h>

struct jobs_err;
struct sockaddr;

#define JOBS_NET_ALLOW_MAX 32

/* One network; IPv4 ones are kept IPv4-mapped (prefix + 96). */
struct jobs_net_cidr {
	unsigned char addr[16];
	int prefix;		/* 0..128 */
};

/* An allow list: zero-initialise it, then add to it. No heap. */
struct jobs_net_allow {
	int n;
	struct jobs_net_cidr cidr[JOBS_NET_ALLOW_MAX];
};

/*
 * Add one network ("10.1.2.0/24", "::1/128", or an address alone for a
 * single host) to a.  Host bits set past the prefix are an error, not
 * silently masked.  0, or -1 with err (JOBS_EUSAGE) naming the entry.
 */
int jobs_net_allow_add(struct jobs_net_allow *a, const char *cidr,
    struct jobs_err *err);

/*
 * Add a comma-separated list ("127.0.0.0/8, ::1/128") to a, as
 * JOBS_ALLOW_NETWORKS holds it: blanks around entries and empty entries are
 * ignored; NULL or "" adds nothing.  0, or -1 with err naming the first bad
 * entry (a is then left as it was).
 */
int jobs_net_allow_parse(struct jobs_net_allow *a, const char *list,
    struct jobs_err *err);

/*
 * May sa (AF_INET or AF_INET6) be connected to?  a may be NULL (nothing
 * extra allowed).  Returns 1 when allowed (why set to ""), 0 when refused,
 * with why filled (size bytes, may be 0) with a one-line reason such as
 * "127.0.0.1 is a loopback address".
 */
int jobs_net_allowed(const struct jobs_net_allow *a, const struct sockaddr *sa,
    char *why, size_t size);

#endif
