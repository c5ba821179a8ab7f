/*
 * cmd_sendmail - sendmail(1), the standard way local programs hand mail to
 * the MTA. The message goes into queue_directory/maildrop/ as a queue file
 * (write, fsync, rename: durable before we exit 0); the pickup service
 * then feeds it through cleanup into the queue. maildrop/ is writable by
 * everyone and sticky, so this works for any user without set-id bits;
 * pickup learns who submitted a file from its owner, not from its content.
 * When the mail system is down the message stays in maildrop/ and is
 * delivered once Outpost starts: we say so, and still exit 0.
 *
 * The submitter's full name (-F, else the NAME environment variable, else
 * the GECOS field of the password file) travels as an envelope attribute;
 * cleanup uses it only for a From: header it adds, as Postfix does.
 *
 *	sendmail [-C DIR] [-f SENDER] [-F NAME] [-t] [-i|-oi] [-N DSN] [-R RET]
 *	         [-V ENVID] [-B TYPE] [-bm|-bs|-bp|-bi] [-q[Rsite]] [rcpt …]
 *
 * Accepted and ignored, as Postfix does: -oX… options (except -oi), -v, -h,
 * -L, -A, -U, -G, -O, -X FILE. Public: cmd_sendmail.
 * Bad input: an unknown option or no recipients prints the usage and
 * exits 64 (EX_USAGE); trouble writing the maildrop exits 75
 * (EX_TEMPFAIL) and nothing is queued.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/sendmail.h"
#include "config/config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/header.h"
#include "mail/qfile.h"

#define EX_USAGE_	64
#define EX_TEMPFAIL_	75

enum sm_mode { SM_DELIVER, SM_SMTP, SM_LIST, SM_ALIASES, SM_FLUSH };

struct sm_opts {
	const char *confdir;
	const char *sender;	/* NULL: the login name */
	const char *full_name;
	const char *envid;
	const char *ret;
	const char *body;
	const char *flush_site;
	unsigned notify;
	bool extract;
	bool ignore_dots;
	enum sm_mode mode;
	struct strv rcpts;
};

/* sm_usage - one line, EX_USAGE */
static int sm_usage(const char *why)
{
	if (why)
		fprintf(stderr, "sendmail: %s\n", why);
	fprintf(stderr, "usage: sendmail [-C dir] [-f sender] [-F name] [-t] [-i] [-N dsn] [-R ret] "
			"[-V envid] [-B type] [-bm|-bs|-bp|-bi] [-q] [recipient ...]\n");
	return EX_USAGE_;
}

/* parse_notify - "never" or a list of success, delay, failure */
static int parse_notify(const char *s, unsigned *out)
{
	char *copy = xstrdup(s), *cur = copy, *tok;
	int rc = 0;

	*out = 0;
	while ((tok = str_token(&cur, ", ")) != NULL) {
		if (str_eq_case(tok, "never"))
			*out |= QFILE_NOTIFY_NEVER;
		else if (str_eq_case(tok, "success"))
			*out |= QFILE_NOTIFY_SUCCESS;
		else if (str_eq_case(tok, "delay"))
			*out |= QFILE_NOTIFY_DELAY;
		else if (str_eq_case(tok, "failure"))
			*out |= QFILE_NOTIFY_FAILURE;
		else
			rc = -1;
	}
	if ((*out & QFILE_NOTIFY_NEVER) && *out != QFILE_NOTIFY_NEVER)
		rc = -1;
	free(copy);
	return rc;
}

/* opt_value - the value of "-fX" or "-f X"; NULL if missing */
static const char *opt_value(int argc, char **argv, int *i)
{
	if (argv[*i][2])
		return argv[*i] + 2;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* parse_b - -bm, -bs, -bp, -bi */
static int parse_b(struct sm_opts *o, const char *v)
{
	if (strcmp(v, "m") == 0)
		o->mode = SM_DELIVER;
	else if (strcmp(v, "s") == 0)
		o->mode = SM_SMTP;
	else if (strcmp(v, "p") == 0)
		o->mode = SM_LIST;
	else if (strcmp(v, "i") == 0)
		o->mode = SM_ALIASES;
	else
		return -1;
	return 0;
}

/* parse_one - one option; 1 = consumed, -1 = bad */
static int parse_one(struct sm_opts *o, int argc, char **argv, int *i)
{
	char c = argv[*i][1];
	const char *v;

	switch (c) {
	case 't':
		o->extract = true;
		return 1;
	case 'i':
		o->ignore_dots = true;
		return 1;
	case 'v':
		return 1;
	case 'o':	/* -oi means -i; other -oX options are sendmail.cf knobs */
		if (strcmp(argv[*i], "-oi") == 0)
			o->ignore_dots = true;
		return 1;
	case 'b':
		return parse_b(o, argv[*i] + 2) < 0 ? -1 : 1;
	case 'q':
		o->mode = SM_FLUSH;
		if (argv[*i][2] == 'R' || argv[*i][2] == 'S')
			o->flush_site = argv[*i] + 3;
		return 1;
	}
	if (strchr("CfFrNRVBhLAUGOX", c) == NULL || (v = opt_value(argc, argv, i)) == NULL)
		return -1;
	switch (c) {
	case 'C':
		o->confdir = v;
		break;
	case 'f':
	case 'r':
		o->sender = v;
		break;
	case 'F':
		o->full_name = v;
		break;
	case 'N':
		return parse_notify(v, &o->notify) < 0 ? -1 : 1;
	case 'R':
		if (!str_eq_case(v, "full") && !str_eq_case(v, "hdrs"))
			return -1;
		o->ret = str_eq_case(v, "full") ? "FULL" : "HDRS";
		break;
	case 'V':
		o->envid = v;
		break;
	case 'B':
		o->body = v;
		break;
	}
	return 1;
}

/* parse_args - options, then recipients */
static int parse_args(struct sm_opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		const char *opt = argv[i];

		if (parse_one(o, argc, argv, &i) < 0) {
			fprintf(stderr, "sendmail: bad or incomplete option %s%s%s\n", opt,
				opt != argv[i] ? " " : "", opt != argv[i] ? argv[i] : "");
			return -1;
		}
	}
	for (; i < argc; i++) {
		/* recipients may be comma-separated, as with sendmail */
		char *copy = xstrdup(argv[i]), *cur = copy, *tok;

		while ((tok = str_token(&cur, ", ")) != NULL)
			strv_push(&o->rcpts, tok);
		free(copy);
	}
	return 0;
}

/* strip_angle - "<a@b>" -> "a@b"; "<>" -> "" */
static char *strip_angle(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return xstrndup(s + 1, n - 2);
	return xstrdup(s);
}

/* extract_headers - recipients from To/Cc/Bcc (or their Resent- forms) */
static void extract_headers(const struct buf *hdrs, struct strv *out)
{
	struct strv plain = STRV_INIT, resent = STRV_INIT;
	const char *p = hdrs->data ? hdrs->data : "", *end = p + hdrs->len;

	while (p < end) {
		const char *e = p;
		const struct header_info *hi;

		/* one header with its continuation lines */
		do {
			const char *nl = memchr(e, '\n', (size_t)(end - e));

			e = nl ? nl + 1 : end;
		} while (e < end && (*e == ' ' || *e == '\t'));
		hi = header_classify(p, (size_t)(e - p));
		if (hi && (hi->flags & HDR_F_EXTRACT)) {
			struct header_addrs list = HEADER_ADDRS_INIT;
			struct buf value = BUF_INIT;
			size_t off = header_value_offset(p, (size_t)(e - p));

			header_unfold(p + off, (size_t)(e - p) - off, &value);
			header_addrs_parse(value.data ? value.data : "", value.len, &list);
			for (size_t k = 0; k < list.n; k++)
				if (*list.v[k].addr)
					strv_push((hi->flags & HDR_F_RESENT) ? &resent : &plain,
						  list.v[k].addr);
			header_addrs_free(&list);
			buf_free(&value);
		}
		p = e;
	}
	for (size_t k = 0; k < (resent.n ? resent.n : plain.n); k++)
		strv_push(out, resent.n ? resent.v[k] : plain.v[k]);
	strv_free(&plain);
	strv_free(&resent);
}

/* read_message - stdin into the writer; headers kept aside for -t */
static int read_message(struct qfile_writer *w, const struct sm_opts *o, struct buf *hdrs)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool in_headers = true;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;

		if (line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (!o->ignore_dots && len == 1 && line[0] == '.')
			break;
		if (in_headers && (len == 0 || (hdrs->len == 0 && header_name_len(line, len) == 0)))
			in_headers = false;	/* an empty line or a body without headers */
		if (in_headers) {
			buf_append(hdrs, line, len);
			buf_putc(hdrs, '\n');
		}
		rc = qfile_append_line(w, line, len);
	}
	free(line);
	return rc;
}

/* login_name - who runs us */
static char *login_name(void)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw && pw->pw_name)
		return xstrdup(pw->pw_name);
	{
		struct buf b = BUF_INIT;

		buf_printf(&b, "uid%ld", (long)getuid());
		return buf_steal(&b);
	}
}

/* gecos_name - the full name in the password file: up to the first comma,
 * each '&' standing for the login name with a capital initial */
static char *gecos_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	struct buf b = BUF_INIT;

	if (pw == NULL || pw->pw_gecos == NULL)
		return NULL;
	for (const char *p = pw->pw_gecos; *p && *p != ','; p++) {
		if (*p != '&') {
			buf_putc(&b, *p);
			continue;
		}
		for (const char *l = pw->pw_name; *l; l++)
			buf_putc(&b, l == pw->pw_name ? toupper((unsigned char)*l) : *l);
	}
	return buf_steal(&b);
}

/* full_name - -F, else $NAME, else the GECOS field; "" means none */
static char *full_name(const struct sm_opts *o)
{
	const char *env = getenv("NAME");

	if (o->full_name)
		return xstrdup(o->full_name);
	if (env)
		return xstrdup(env);
	return gecos_name();
}

/* fill_envelope - sender, attributes, recipients */
static int fill_envelope(struct qfile_writer *w, struct sm_opts *o, const struct buf *hdrs)
{
	char *login = login_name();
	char *sender = o->sender ? strip_angle(o->sender) : xstrdup(login);
	char *name = full_name(o);
	struct strv all = STRV_INIT;

	qfile_set_sender(w, sender);
	qfile_add_attr(w, QATTR_LOCAL_USER, login);
	qfile_add_attr(w, QATTR_PROTO, "local");
	if (name && *name)
		qfile_add_attr(w, QATTR_FULLNAME, name);
	if (o->envid)
		qfile_add_attr(w, QATTR_ENVID, o->envid);
	if (o->ret)
		qfile_add_attr(w, QATTR_RET, o->ret);
	if (o->body && str_eq_case(o->body, "8BITMIME"))
		qfile_add_attr(w, QATTR_8BIT, "1");
	for (size_t i = 0; i < o->rcpts.n; i++)
		strv_push(&all, o->rcpts.v[i]);
	if (o->extract)
		extract_headers(hdrs, &all);
	for (size_t i = 0; i < all.n; i++) {
		char *r = strip_angle(all.v[i]);

		if (*r)
			qfile_add_rcpt(w, r, NULL, NULL, o->notify);
		free(r);
	}
	strv_free(&all);
	free(name);
	free(sender);
	free(login);
	return qfile_writer_nrcpt(w) > 0 ? 0 : -1;
}

/* submit - write one message into maildrop/ */
static int submit(const char *qdir, struct sm_opts *o)
{
	struct buf err = BUF_INIT, hdrs = BUF_INIT;
	struct qfile_writer *w = qfile_create(qdir, "maildrop", &err);
	char id[QFILE_ID_MAX];
	int rc = 0;

	if (w == NULL) {
		fprintf(stderr, "sendmail: fatal: cannot queue the message: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_TEMPFAIL_;
	}
	snprintf(id, sizeof(id), "%s", qfile_writer_id(w));
	if (read_message(w, o, &hdrs) < 0) {
		rc = EX_TEMPFAIL_;
		buf_puts(&err, qfile_writer_error(w) ? qfile_writer_error(w) : "read error");
	}
	else if (fill_envelope(w, o, &hdrs) < 0) {
		qfile_abort(&w);
		buf_free(&hdrs);
		return sm_usage(o->extract ? "no recipient addresses found in message header"
					   : "recipient addresses must be given on the command line or with -t");
	} else if (qfile_commit(&w, &err) < 0)
		rc = EX_TEMPFAIL_;
	if (rc) {
		fprintf(stderr, "sendmail: fatal: cannot queue the message: %s\n",
			err.len ? err.data : strerror(errno));
		qfile_abort(&w);
	} else if (qfile_notify(qdir, "pickup", "W") < 0 && errno != EACCES) {
		/* EACCES: public/ is closed to us; pickup still finds the
		 * file on its next scan, within a second */
		fprintf(stderr, "sendmail: warning: the mail system is down: message %s is kept in "
				"%s/maildrop and will be delivered when Outpost starts\n",
			id, qdir);
	}
	buf_free(&err);
	buf_free(&hdrs);
	return rc;
}

/* run_newaliases - -bi: the newaliases command, when this build has it */
static int run_newaliases(const char *confdir)
{
	for (const struct command *c = commands; c->name; c++) {
		if (c->alias && strcmp(c->alias, "newaliases") == 0) {
			char *args[4] = { "newaliases", NULL, NULL, NULL };
			int n = 1;

			if (confdir) {
				args[n++] = "-c";
				args[n++] = (char *)(uintptr_t)confdir;
			}
			return c->fn(n, args);
		}
	}
	fprintf(stderr, "sendmail: fatal: newaliases is not available in this build\n");
	return EX_TEMPFAIL_;
}

/* queue_dir_for - queue_directory of the configuration */
static char *queue_dir_for(const char *confdir)
{
	struct buf err = BUF_INIT;
	struct config *cf = config_load(confdir, &err);
	char *q = NULL;

	if (cf == NULL) {
		while (err.len && err.data[err.len - 1] == '\n')
			buf_truncate(&err, err.len - 1);
		fprintf(stderr, "sendmail: fatal: %s\n", buf_cstr(&err));
	}
	else
		q = xstrdup(config_str(cf, "queue_directory"));
	config_free(&cf);
	buf_free(&err);
	return q;
}

/* cmd_sendmail - dispatch on the mode */
int cmd_sendmail(int argc, char **argv)
{
	struct sm_opts o = { 0 };
	char *qdir;
	int rc;

	o.mode = SM_DELIVER;
	if (parse_args(&o, argc, argv) < 0) {
		strv_free(&o.rcpts);
		return sm_usage(NULL);
	}
	if (o.confdir == NULL && (o.confdir = getenv("OUTPOST_CONFIG_DIR")) == NULL)
		o.confdir = CONFIG_DEFAULT_DIR;
	if (o.mode == SM_ALIASES) {
		strv_free(&o.rcpts);
		return run_newaliases(o.confdir);
	}
	if ((qdir = queue_dir_for(o.confdir)) == NULL) {
		strv_free(&o.rcpts);
		return EX_TEMPFAIL_;
	}
	switch (o.mode) {
	case SM_LIST: {
		char *args[4] = { "queue", "-c", (char *)(uintptr_t)o.confdir, NULL };

		rc = cmd_queue(3, args);
		break;
	}
	case SM_FLUSH: {
		struct buf cmd = BUF_INIT;

		buf_printf(&cmd, "F%s%s", o.flush_site && *o.flush_site ? " " : "",
			   o.flush_site ? o.flush_site : "");
		rc = qfile_wakeup(qdir, cmd.data) < 0 ? EX_TEMPFAIL_ : 0;
		if (rc)
			fprintf(stderr, "sendmail: fatal: cannot flush the queue: mail system is down\n");
		buf_free(&cmd);
		break;
	}
	case SM_SMTP:
		rc = sendmail_smtp(qdir);
		break;
	default:
		if (!o.extract && o.rcpts.n == 0)
			rc = sm_usage("recipient addresses must be given on the command line or with -t");
		else
			rc = submit(qdir, &o);
	}
	free(qdir);
	strv_free(&o.rcpts);
	return rc;
}
