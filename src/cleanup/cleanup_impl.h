/*
 * cleanup_impl - the state of one message in cleanup, shared by the files
 * of src/cleanup/ only.
 */
#ifndef OUTPOST_CLEANUP_CLEANUP_IMPL_H
#define OUTPOST_CLEANUP_CLEANUP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>

#include "cleanup/cleanup.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "mail/qfile.h"
#include "mail/resolve.h"
#include "mail/rewrite.h"

/* Error bits, first one wins for the reply (Postfix's order of concern). */
#define CLEANUP_E_WRITE		(1u << 0)	/* 451 4.3.0 queue file write error */
#define CLEANUP_E_SIZE		(1u << 1)	/* 552 5.3.4 message size */
#define CLEANUP_E_HOPS		(1u << 2)	/* 554 5.4.0 too many hops */
#define CLEANUP_E_REJECT	(1u << 3)	/* header/body checks: reply in reject */
#define CLEANUP_E_DEFER		(1u << 4)	/* alias expansion/table trouble: 451 */
#define CLEANUP_E_NOSPACE	(1u << 5)	/* 452 4.3.1 */

struct cleanup_rcpt {
	char *address;		/* as given */
	char *orcpt;		/* DSN ORCPT or NULL */
	unsigned notify;
	char *original;		/* original recipient from an earlier queue file, or NULL */
};

/* Per-process settings, read once by cleanup_init(). */
struct cleanup_cf {
	char *service;		/* cleanup_service_name that selects these settings */
	struct config *cf;
	struct config *owned_cf;	/* cf, when made from a master.cf entry */
	char *queue_dir;
	char *myhostname;
	long message_size_limit;
	long header_size_limit;
	long hopcount_limit;
	bool always_add_missing_headers;
	bool from_obsolete;	/* header_from_format = obsolete */
	bool enable_original_recipient;
	char *remote_header_rewrite_domain;
	bool sasl_authenticated_header;
	struct strv header_rewrite_clients;	/* local_header_rewrite_clients */
	struct strv inet_interfaces;
	struct resolve_list *mynetworks;	/* when permit_mynetworks is listed */
	struct strv always_bcc;
	struct table_list *sender_bcc;		/* sender_bcc_maps */
	struct table_list *recipient_bcc;	/* recipient_bcc_maps */
	struct rewrite_cf rw;
	struct rewrite_cf rw_plain;	/* receive_override_options=no_address_mappings */
	struct cleanup_checks *checks;
};

struct cleanup {
	struct cleanup_cf *ccf;
	struct rewrite_cf *rw;		/* &ccf->rw, or rw_plain without address mappings */
	bool no_checks;			/* receive_override_options=no_header_body_checks */
	bool no_mappings;
	struct qfile_writer *w;
	char id[QFILE_ID_MAX];
	struct timeval arrival;
	/* client facts, copied */
	char *client_addr, *client_name, *reverse_name, *helo, *proto;
	char *sasl_method, *sasl_username, *tls_summary, *server_name, *local_user;
	int client_port;
	bool local;		/* local submission */
	bool local_client;	/* matches local_header_rewrite_clients */
	bool rewrite_headers;	/* local_client or remote_header_rewrite_domain: rewrite
				 * header addresses, add missing headers */
	/* envelope */
	char *sender;		/* as given; NULL until cleanup_sender() */
	char *ret, *envid;
	char *full_name;	/* sendmail -F, NAME or GECOS; NULL if none */
	long declared_size;
	bool smtputf8;
	bool body_8bit;		/* BODY=8BITMIME */
	struct cleanup_rcpt *rcpt;
	size_t nrcpt, rcpt_cap;
	struct strv bcc;		/* access/header BCC actions */
	char *redirect;
	char *filter;
	char *hold;
	char *discard;
	struct strv prepend;	/* access PREPEND headers */
	/* content */
	bool started;		/* Received: written */
	bool in_body;
	bool open_line;		/* content written; its line break is still due */
	struct buf hdr;		/* current logical header (lines joined by "\n") */
	bool hdr_truncated;
	long header_bytes;
	long size;		/* content bytes seen */
	int hops;
	unsigned seen;		/* HDR_SEEN_* */
	struct buf line;	/* scratch */
	/* MIME structure, for mime_header_checks / nested_header_checks */
	enum { MIME_PRIMARY, MIME_BODY, MIME_PART_HEADERS, MIME_NESTED_HEADERS } mime;
	struct strv boundaries;	/* open multipart boundaries, innermost last */
	char *part_boundary;	/* boundary= of the header section being read */
	bool part_rfc822;	/* that section said message/rfc822 */
	/* outcome */
	unsigned errs;		/* CLEANUP_E_* */
	struct buf reject;	/* reply for CLEANUP_E_REJECT / DEFER */
	cleanup_done_fn done;
	void *done_ctx;
};

#define HDR_SEEN_FROM		(1u << 0)
#define HDR_SEEN_DATE		(1u << 1)
#define HDR_SEEN_MESSAGE_ID	(1u << 2)
#define HDR_SEEN_RESENT_FROM	(1u << 3)
#define HDR_SEEN_RESENT_DATE	(1u << 4)
#define HDR_SEEN_RESENT_MSGID	(1u << 5)
#define HDR_SEEN_RESENT		(1u << 6)	/* any Resent- header */
#define HDR_SEEN_TO		(1u << 7)	/* To/Cc/Bcc (any recipient header) */

/* cleanup_message.c */
void cleanup_start_content(struct cleanup *c);
int cleanup_content_line(struct cleanup *c, const char *line, size_t len);
int cleanup_content_cont(struct cleanup *c, const char *text, size_t len);
void cleanup_end_content(struct cleanup *c);
void cleanup_write(struct cleanup *c, const char *line, size_t len);
void cleanup_log_prefix(const struct cleanup *c, struct buf *out);

/* cleanup_mime.c */
void cleanup_mime_header(struct cleanup *c, const char *hdr, size_t len);
void cleanup_mime_headers_end(struct cleanup *c);
bool cleanup_mime_boundary(struct cleanup *c, const char *line, size_t len);

/* cleanup_checks.c */
struct cleanup_checks;
struct cleanup_checks *cleanup_checks_new(struct config *cf, struct buf *err);
void cleanup_checks_free(struct cleanup_checks **cp);
bool cleanup_checks_any_body(const struct cleanup_checks *k);
/* what a check asks of the header: keep, drop, or replace with out */
enum cleanup_check_result { CHECK_KEEP, CHECK_DROP, CHECK_REPLACED };
enum cleanup_check_kind { CHECK_PRIMARY, CHECK_MIME, CHECK_NESTED };
enum cleanup_check_result cleanup_check_header(struct cleanup *c, const char *hdr,
					       size_t len, enum cleanup_check_kind kind,
					       struct buf *out);
enum cleanup_check_result cleanup_check_body(struct cleanup *c, const char *line,
					     size_t len);

#endif
