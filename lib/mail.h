/*
 * mail.h - mail without the network (DESIGN §7): the one rule for a
 * mailto: destination, the RFC 5322 message a mail row becomes, and the
 * base64 both need.  No libcurl, no libcrypto: jobs-enqueue checks an
 * address with the same rule the sender uses, without paying for the
 * sender's libraries (DESIGN §3).  Sending the message is lib/send.h's;
 * writing it to the spool is jobs-deliver's.
 */
#ifndef JOBS_MAIL_H
#define JOBS_MAIL_H

#include <stddef.h>
#include <stdint.h>

struct jobs_err;

#define JOBS_MAIL_ADDR_MAX 256	/* a bare address (at most 254) and its NUL */
#define JOBS_MAIL_MAX (64L * 1024 * 1024)	/* a built message, after encoding */

/* Bytes jobs_mail_base64_encode() writes for n bytes, the NUL included. */
#define JOBS_MAIL_BASE64_SIZE(n) (4 * (((n) + 2) / 3) + 1)

/*
 * Base64 (RFC 4648, the standard alphabet, padded) of the n bytes at in,
 * into out (JOBS_MAIL_BASE64_SIZE(n) bytes), terminated.
 */
void jobs_mail_base64_encode(const unsigned char *in, size_t n, char *out);

/*
 * Decode the base64 string in into out (size bytes), its length in
 * *outlen.  The standard alphabet only, no blanks; up to two '=' at the
 * end, optional (not checked against the length).  0, or -1 when in is
 * not base64 or does not fit.
 */
int jobs_mail_base64_decode(const char *in, unsigned char *out, size_t size,
    size_t *outlen);

/*
 * Check a mailto: destination (the scheme in any case): exactly one
 * address, %XX decoded, no ?query (bcc=, headers), no fragment, no list
 * (',' plain or %2C), no CR/LF or other controls, a dot-atom local part of
 * at most 64 bytes, a host name domain, 254 bytes in all.  The bare
 * address goes to addr (size bytes; JOBS_MAIL_ADDR_MAX is enough).  0, or
 * -1 with err (JOBS_EUSAGE) saying what is wrong.  jobs-enqueue refuses
 * with this rule what the sender would refuse.
 */
int jobs_mail_check_address(const char *dest, char *addr, size_t size,
    struct jobs_err *err);

/* Who mail comes from: filled by jobs_mail_sender_init(), no heap. */
struct jobs_mail_sender {
	char host[256];		/* this host's name: Message-ID, default From */
	char from_addr[256];	/* the envelope sender, a bare address */
	char from_hdr[768];	/* the From: field's value */
	int64_t now_s;		/* Date for a message without created_at */
};

/*
 * Fill s for the sender from ("addr" or "Name <addr>"; NULL or "":
 * jobs@HOSTNAME) at now_s (0: time(NULL)).  A name that is not ASCII is
 * RFC 2047-encoded, an ASCII one quoted.  0, or -1 with err (JOBS_EUSAGE:
 * from is not an address; JOBS_ETEMP: out of memory).
 */
int jobs_mail_sender_init(struct jobs_mail_sender *s, const char *from,
    int64_t now_s, struct jobs_err *err);

/* One mail; every pointer borrowed. */
struct jobs_mail_msg {
	const char *destination;	/* mailto:ADDRESS */
	const char *subject;	/* NULL: no Subject field */
	const char *body;	/* UTF-8; NULL is empty */
	const char *key;	/* the idempotency key: the Message-ID */
	int64_t created_at;	/* epoch s for Date; 0: the sender's now_s */
};

/*
 * Build the RFC 5322 message for m, with CRLF line ends: Date (created_at,
 * else now_s, in English whatever the locale), From, To, Subject (only
 * when given; newlines and controls dropped; RFC 2047 UTF-8 encoded-words
 * when not plain ASCII, over 900 bytes or holding "=?"), Message-ID
 * derived from the key (<first 16 bytes of its SHA-256 in hex@jobs.HOST>,
 * the same for every attempt), MIME 1.0 text/plain UTF-8 in 7bit, 8bit or
 * quoted-printable (a line over 998 bytes), Auto-Submitted:
 * auto-generated, then the body.  No dot-stuffing (libcurl does it on the
 * wire; a spool file wants none).  Returns a new string the caller frees,
 * or NULL with err: JOBS_EUSAGE for a bad address or no key, JOBS_ETEMP
 * when over JOBS_MAIL_MAX or out of memory.
 */
char *jobs_mail_build(const struct jobs_mail_sender *s,
    const struct jobs_mail_msg *m, struct jobs_err *err);

/*
 * jobs_mail_sender_init(from, now_s) then jobs_mail_build(): one message
 * on its own.  The caller frees the result; NULL with err.
 */
char *jobs_mail_message(const char *from, int64_t now_s,
    const struct jobs_mail_msg *m, struct jobs_err *err);

#endif
