/*
 * pipe - the pipe(8) agent's pieces: the command attributes of a master.cf
 * service (pipe_conf.c), the $macro expansion of its argv (pipe_expand.c),
 * and the agent (pipe.c).
 */
#ifndef OUTPOST_DELIVER_PIPE_H
#define OUTPOST_DELIVER_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/str.h"

/* flags= letters */
#define PIPE_F_BLANK (1u << 0)	     /* B: blank line after the message */
#define PIPE_F_DELIVERED (1u << 1)   /* D: Delivered-To: + loop check */
#define PIPE_F_FROM (1u << 2)	     /* F: "From sender date" line */
#define PIPE_F_ORIG (1u << 3)	     /* O: X-Original-To: */
#define PIPE_F_RETURN (1u << 4)	     /* R: Return-Path: */
#define PIPE_F_FINAL (1u << 5)	     /* X: final delivery (accepted) */
#define PIPE_F_FOLD_HOST (1u << 6)   /* h: lower-case domains */
#define PIPE_F_QUOTE (1u << 7)	     /* q: RFC 822 quoting of local parts */
#define PIPE_F_FOLD_USER (1u << 8)   /* u: lower-case local parts */
#define PIPE_F_DOT (1u << 9)	     /* .: dot-stuffing */
#define PIPE_F_QUOTE_FROM (1u << 10) /* >: ">From " quoting */

struct pipe_conf {
	unsigned flags;
	char *user;	      /* user= name */
	char *group;	      /* user=name:GROUP, or NULL */
	struct strv argv;     /* argv= words, braces removed, macros unexpanded */
	long long size_limit; /* size=, 0 = none */
	char *directory;      /* directory=, or NULL ($queue_directory) */
	struct buf eol;	      /* eol= decoded; default "\n" */
	char *null_sender;    /* null_sender=; default "MAILER-DAEMON" */
};

/* The attributes after "pipe" in master.cf; -1 with a reason in err. */
int pipe_conf_parse(char *const *words, size_t n, struct pipe_conf *pc, struct buf *err);
void pipe_conf_free(struct pipe_conf *pc);
/* user= as ids; -1 with why for an unknown user or group, root, or the
 * mail_owner account. */
int pipe_conf_identity(const struct pipe_conf *pc, const char *mail_owner, uid_t *uid, gid_t *gid,
		       struct buf *why);

struct config;
/* `outpost check`: a line per pipe service that cannot deliver. */
int pipe_lint(struct config *cf, struct strv *out);

/* What the macros of argv= expand to. Per-recipient arrays have nrcpt
 * entries; an argument that names a per-recipient macro expands into one
 * argument per recipient, as Postfix does. */
struct pipe_vars {
	const char *sender; /* after null_sender= replacement */
	const char *nexthop, *queue_id, *size;
	const char *client_address, *client_hostname, *client_port, *client_helo;
	const char *client_protocol, *sasl_method, *sasl_username, *sasl_sender;
	const char *delimiters; /* recipient_delimiter */
	size_t nrcpt;
	const char *const *rcpt;     /* envelope recipients */
	const char *const *original; /* original recipients (or the same) */
};

/* Expand every argv word; -1 with err on an unknown macro or bad syntax. */
int pipe_expand(const struct strv *argv, unsigned flags, const struct pipe_vars *v,
		struct strv *out, struct buf *err);

#endif
