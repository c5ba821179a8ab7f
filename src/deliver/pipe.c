/*
 * pipe - the pipe(8) agent: hand a message to a command named in
 * master.cf, e.g.
 *
 *	dovecot unix - n n - - pipe flags=DRhu user=vmail:vmail
 *	    argv=/usr/lib/dovecot/dovecot-lda -f ${sender} -d ${recipient}
 *
 * One request is one command run, for all its recipients (a word with
 * ${recipient} becomes one word per recipient: pipe_expand.c); set
 * TRANSPORT_destination_recipient_limit = 1 for a command per recipient.
 * The command runs directly (no shell) as user= with that user's group or
 * GROUP and no supplementary groups, in directory= (deferring when that
 * fails) or else $queue_directory ("/" when user= cannot enter it),
 * with PATH, MAIL_CONFIG and the export_environment variables, for at
 * most TRANSPORT_time_limit (default $command_time_limit). The message
 * on its stdin gets the lines flags= asks for (F From_, R Return-Path, O
 * X-Original-To, D Delivered-To), "." and ">From " quoting, a blank line
 * at the end (B), and eol= line ends.
 *
 * Outcome, as Postfix's pipe(8) reports it: exit 0 is sent ("delivered
 * via TRANSPORT service", plus the command's output); otherwise an
 * enhanced status code at the start of the output decides, else the
 * sysexits.h code (EX_TEMPFAIL and EX_OSERR defer, the others bounce, an
 * unknown one bounces 5.3.0); the output (newlines as spaces) is in the
 * reason. A signal defers 4.3.0; the time limit bounces 5.3.0.
 *
 * Public: deliver_pipe.
 * Errors: a service without user= or argv=, an unknown user, root or the
 * mail_owner as user=, an unknown macro, flag D or O with several
 * recipients: a warning that names the service, and every recipient
 * deferred 4.3.5 "mail system configuration error". Size over size= bounces
 * 5.2.3; a Delivered-To: loop with flag D bounces 5.4.6.
 */
#include "deliver/pipe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "config/config.h"
#include "config/value.h"
#include "deliver/deliver.h"
#include "deliver/mailbox.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/qfile.h"

#define PIPE_OUTPUT_MAX 2000 /* command output kept for the reason text */

/* The parsed attributes, kept for the worker's life (one service each). */
static struct {
	const struct config *cf;
	struct pipe_conf pc;
	bool ok;
	struct buf why;
} conf_cache;

/* sysexits.h codes, as Postfix's pipe(8) reports them */
static const struct {
	int code;
	const char *dsn;
	const char *text;
} exit_codes[] = {
	{EX_USAGE, "5.3.0", "command line usage error"},
	{EX_DATAERR, "5.6.0", "data format error"},
	{EX_NOINPUT, "5.3.0", "cannot open input"},
	{EX_NOUSER, "5.1.1", "user unknown"},
	{EX_NOHOST, "5.1.2", "host name unknown"},
	{EX_UNAVAILABLE, "5.3.0", "service unavailable"},
	{EX_SOFTWARE, "5.3.0", "internal software error"},
	{EX_OSERR, "4.3.0", "system resource problem"},
	{EX_OSFILE, "5.3.0", "critical OS file missing"},
	{EX_CANTCREAT, "5.2.0", "can't create user output file"},
	{EX_IOERR, "5.3.0", "input/output error"},
	{EX_TEMPFAIL, "4.3.0", "temporary failure"},
	{EX_PROTOCOL, "5.5.0", "remote error in protocol"},
	{EX_NOPERM, "5.7.0", "permission denied"},
	{EX_CONFIG, "5.3.5", "local configuration error"},
};

/* One command run: what the child needs, and the identity it runs as. */
struct pipe_job {
	const struct delivery *d;
	const struct pipe_conf *pc;
	struct strv argv, env;
	const char *dir;
	long time_limit;
	struct buf input;
	uid_t uid;
	gid_t gid;
};

/* config_error - the admin's problem: warn with the service, defer everyone */
static void config_error(struct delivery *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void config_error(struct delivery *d, const char *fmt, ...)
{
	const struct master_service *svc = config_this_service(d->cf);
	struct buf why = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&why, fmt, ap);
	va_end(ap);
	if (svc && svc->file)
		log_warn("pipe service %s (%s, line %d): %s", d->transport, svc->file, svc->line,
			 buf_cstr(&why));
	else
		log_warn("pipe service %s: %s", d->transport, buf_cstr(&why));
	deliver_set_all(d, "4.3.5", d->transport, "mail system configuration error");
	buf_free(&why);
}

/* conf_get - this service's attributes, parsed once per configuration */
static const struct pipe_conf *conf_get(struct delivery *d)
{
	const struct master_service *svc = config_this_service(d->cf);

	if (conf_cache.cf != d->cf) {
		pipe_conf_free(&conf_cache.pc);
		buf_reset(&conf_cache.why);
		conf_cache.cf = d->cf;
		if (svc == NULL) {
			buf_puts(&conf_cache.why, "no master.cf entry for this transport");
			conf_cache.ok = false;
		} else {
			conf_cache.ok = pipe_conf_parse(svc->args.v, svc->args.n, &conf_cache.pc,
							&conf_cache.why) == 0;
		}
	}
	if (!conf_cache.ok) {
		config_error(d, "%s", buf_cstr(&conf_cache.why));
		return NULL;
	}
	return &conf_cache.pc;
}

/* identity - user= as uid/gid for this delivery; -1 after config_error */
static int identity(struct delivery *d, const struct pipe_conf *pc, struct pipe_job *j)
{
	struct buf why = BUF_INIT;
	int rc = pipe_conf_identity(pc, config_str(d->cf, "mail_owner"), &j->uid, &j->gid, &why);

	if (rc < 0)
		config_error(d, "%s", buf_cstr(&why));
	buf_free(&why);
	return rc;
}

/* time_limit - TRANSPORT_time_limit, else command_time_limit */
static long time_limit(struct delivery *d)
{
	struct buf name = BUF_INIT;
	long secs = 0;

	buf_printf(&name, "%s_time_limit", d->transport);
	if (!(config_is_set(d->cf, name.data) || param_lookup(name.data)) ||
	    value_time(config_str(d->cf, name.data), 's', &secs) < 0 || secs <= 0)
		secs = config_time(d->cf, "command_time_limit");
	buf_free(&name);
	return secs;
}

/* add_line - one line of the command's input: quoting, then eol */
static void add_line(struct buf *out, const char *p, size_t len, unsigned flags,
		     const struct buf *eol)
{
	if ((flags & PIPE_F_DOT) && len > 0 && p[0] == '.')
		buf_putc(out, '.');
	if ((flags & PIPE_F_QUOTE_FROM) && len >= 5 && memcmp(p, "From ", 5) == 0)
		buf_putc(out, '>');
	buf_append(out, p, len);
	buf_append(out, eol->data, eol->len);
}

/* add_lines - every line of text; flags: the quoting that applies */
static void add_lines(struct buf *out, const struct buf *text, unsigned flags,
		      const struct buf *eol)
{
	const char *p = buf_cstr(text), *end = p + text->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		add_line(out, p, n, flags, eol);
		p += n + (nl != NULL);
	}
}

/* build_input - what the command reads: flags= lines, then the message */
static void build_input(const struct delivery *d, const struct pipe_conf *pc, const char *sender,
			const struct buf *content, struct buf *out)
{
	const struct delivery_rcpt *r = &d->rcpt[0];
	struct buf head = BUF_INIT;

	if (pc->flags & PIPE_F_FROM)
		mailbox_from_line(&head, sender, d->arrival);
	if (pc->flags & PIPE_F_RETURN)
		buf_printf(&head, "Return-Path: <%s>\n", sender);
	if (pc->flags & PIPE_F_ORIG)
		buf_printf(&head, "X-Original-To: %s\n",
			   r->original && *r->original ? r->original : r->address);
	if (pc->flags & PIPE_F_DELIVERED)
		buf_printf(&head, "Delivered-To: %s\n", r->address);
	add_lines(out, &head, 0, &pc->eol);
	add_lines(out, content, pc->flags & (PIPE_F_DOT | PIPE_F_QUOTE_FROM), &pc->eol);
	if (pc->flags & PIPE_F_BLANK)
		buf_append(out, pc->eol.data, pc->eol.len);
	buf_free(&head);
}

/* env_add - NAME=value */
static void env_add(struct strv *env, const char *name, const char *value)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s=%s", name, value);
	strv_push_take(env, buf_steal(&b));
}

/* build_env - PATH, MAIL_CONFIG and export_environment, nothing else */
static void build_env(struct delivery *d, struct strv *env)
{
	struct strv names = STRV_INIT;
	const char *v;

	env_add(env, "PATH", "/usr/bin:/bin");
	if ((v = config_dir(d->cf)) != NULL)
		env_add(env, "MAIL_CONFIG", v);
	config_list(d->cf, "export_environment", &names);
	for (size_t i = 0; i < names.n; i++) {
		const char *eq = strchr(names.v[i], '=');

		if (eq) /* NAME=value sets it */
			strv_push(env, names.v[i]);
		else if (strcmp(names.v[i], "PATH") && strcmp(names.v[i], "MAIL_CONFIG") &&
			 (v = getenv(names.v[i])) != NULL)
			env_add(env, names.v[i], v);
	}
	strv_free(&names);
}

/* clean_output - the command's words for a reason text: one line, printable */
static void clean_output(struct buf *out)
{
	for (size_t i = 0; i < out->len; i++) {
		unsigned char c = (unsigned char)out->data[i];

		if (c == '\n' || c == '\t' || c == '\r')
			out->data[i] = ' ';
		else if (c < ' ' || c == 0x7f || c == 0)
			out->data[i] = '_';
	}
}

/* leading_dsn - length of an enhanced status code that opens text, or 0 */
static size_t leading_dsn(const char *s)
{
	size_t i = 1;

	if ((s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		size_t digits = 0;

		for (i++; s[i] >= '0' && s[i] <= '9' && digits < 3; i++)
			digits++;
		if (digits == 0 || (part == 0 && s[i] != '.'))
			return 0;
	}
	return (s[i] == ' ' || s[i] == 0) ? i : 0;
}

/* job_outcome - Postfix's reading of the exit status and output */
static void job_outcome(const struct pipe_job *j, const struct deliver_exec_result *res,
			struct buf *output, struct deliver_outcome *o)
{
	const char *cmd = j->pc->argv.v[0], *text;
	int status = res->status, code;
	size_t n;

	clean_output(output);
	text = buf_cstr(output);
	if (res->timed_out) {
		log_warn("%s: command time limit of %lds exceeded: %s", j->d->queue_id,
			 j->time_limit, cmd);
		deliver_outcome_set(o, "5.3.0", "Command time limit exceeded: \"%s\"", cmd);
	} else if (WIFSIGNALED(status)) {
		deliver_outcome_set(o, "4.3.0", "Command died with signal %d: \"%s\"%s%s",
				    WTERMSIG(status), cmd, *text ? ". Command output: " : "", text);
	} else if ((code = WEXITSTATUS(status)) == 0) {
		while (output->len > 0 && output->data[output->len - 1] == ' ')
			output->data[--output->len] = 0; /* Postfix trims here only */
		deliver_outcome_set(o, "2.0.0", "delivered via %s service%s%s%s", j->d->transport,
				    *text ? " (" : "", text, *text ? ")" : "");
	} else if ((n = leading_dsn(text)) != 0) {
		char dsn[16];

		snprintf(dsn, sizeof(dsn), "%.*s", (int)n, text);
		text += n;
		text += strspn(text, " ");
		deliver_outcome_set(o, dsn, "%s", text);
	} else {
		for (size_t i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++) {
			if (exit_codes[i].code == code) {
				deliver_outcome_set(o, exit_codes[i].dsn, "%s%s%s",
						    exit_codes[i].text,
						    *text ? ". Command output: " : "", text);
				return;
			}
		}
		deliver_outcome_set(o, "5.3.0", "Command died with status %d: \"%s\"%s%s", code,
				    cmd, *text ? ". Command output: " : "", text);
	}
}

/* job_run - runs as user=: the command, then its outcome */
static void job_run(void *ctx, struct deliver_outcome *o)
{
	struct pipe_job *j = ctx;
	struct deliver_exec x = {
		.argv = j->argv.v,
		.envp = j->env.v,
		.dir = j->dir,
		.dir_required = j->pc->directory != NULL,
		.time_limit = j->time_limit,
		.output_max = PIPE_OUTPUT_MAX,
	};
	struct deliver_exec_result res = {.output = BUF_INIT};

	if (deliver_exec(&x, &j->input, &res) < 0)
		deliver_outcome_set(o, "4.3.0", "cannot run command \"%s\": %m", j->argv.v[0]);
	else
		job_outcome(j, &res, &res.output, o);
	buf_free(&res.output);
}

/* client_vars - the client facts cleanup kept in the queue file */
static struct qfile *client_vars(const struct delivery *d, struct pipe_vars *v)
{
	struct buf err = BUF_INIT;
	int fd = dup(d->content_fd), why;
	struct qfile *q = fd < 0 ? NULL : qfile_open_fd(fd, d->queue_id, &why, &err);

	if (fd >= 0 && q == NULL)
		log_warn("%s: cannot read client attributes: %s", d->queue_id, buf_cstr(&err));
	buf_free(&err);
	if (q == NULL)
		return NULL;
	v->client_address = qfile_attr(q, QATTR_CLIENT_ADDR);
	v->client_hostname = qfile_attr(q, QATTR_CLIENT_NAME);
	v->client_port = qfile_attr(q, QATTR_CLIENT_PORT);
	v->client_helo = qfile_attr(q, QATTR_HELO);
	v->client_protocol = qfile_attr(q, QATTR_PROTO);
	v->sasl_method = qfile_attr(q, QATTR_SASL_METHOD);
	v->sasl_username = qfile_attr(q, QATTR_SASL_USERNAME);
	v->sasl_sender = qfile_attr(q, "sasl_sender");
	return q;
}

/* expand_argv - the command line for this request; -1 after config_error */
static int expand_argv(struct delivery *d, const struct pipe_conf *pc, const char *sender,
		       struct pipe_job *j)
{
	const char **rcpt = xcalloc(d->nrcpt + 1, sizeof(*rcpt));
	const char **orig = xcalloc(d->nrcpt + 1, sizeof(*orig));
	struct buf err = BUF_INIT;
	char size[32];
	struct pipe_vars v = {
		.sender = sender,
		.nexthop = d->nexthop,
		.queue_id = d->queue_id,
		.size = size,
		.delimiters = config_str(d->cf, "recipient_delimiter"),
		.nrcpt = d->nrcpt,
		.rcpt = rcpt,
		.original = orig,
	};
	struct qfile *q = client_vars(d, &v);
	int rc;

	snprintf(size, sizeof(size), "%lld", (long long)d->content_length);
	for (size_t i = 0; i < d->nrcpt; i++) {
		rcpt[i] = d->rcpt[i].address;
		orig[i] = d->rcpt[i].original && *d->rcpt[i].original ? d->rcpt[i].original
								      : d->rcpt[i].address;
	}
	if ((rc = pipe_expand(&pc->argv, pc->flags, &v, &j->argv, &err)) < 0)
		config_error(d, "argv=: %s", buf_cstr(&err));
	qfile_free(&q);
	free(rcpt);
	free(orig);
	buf_free(&err);
	return rc;
}

/* precheck - trouble found before running anything; true when all are set */
static bool precheck(struct delivery *d, const struct pipe_conf *pc, const struct buf *content)
{
	if ((pc->flags & (PIPE_F_DELIVERED | PIPE_F_ORIG)) && d->nrcpt > 1) {
		config_error(d, "flag %c needs %s_destination_recipient_limit = 1",
			     (pc->flags & PIPE_F_DELIVERED) ? 'D' : 'O', d->transport);
		return true;
	}
	if (pc->size_limit > 0 && d->content_length > pc->size_limit) {
		deliver_set_all(d, "5.2.3", d->transport, "message too large");
		return true;
	}
	if ((pc->flags & PIPE_F_DELIVERED) && d->nrcpt == 1 &&
	    deliver_loop_check(content, d->rcpt[0].address)) {
		deliver_set_all(d, "5.4.6", d->transport, "mail forwarding loop for %s",
				d->rcpt[0].address);
		return true;
	}
	return false;
}

/* deliver_pipe - the agent */
void deliver_pipe(struct delivery *d)
{
	const struct pipe_conf *pc = conf_get(d);
	struct pipe_job j = {.d = d, .pc = pc};
	struct buf content = BUF_INIT;
	struct deliver_outcome o;
	const char *sender;

	if (pc == NULL || d->nrcpt == 0 || identity(d, pc, &j) < 0)
		goto done;
	if (deliver_content_read(d, &content) < 0) {
		deliver_set_all(d, "4.3.0", d->transport, "cannot read queue file: %m");
		goto done;
	}
	if (precheck(d, pc, &content))
		goto done;
	sender = *d->sender ? d->sender : pc->null_sender;
	if (expand_argv(d, pc, sender, &j) < 0)
		goto done;
	build_env(d, &j.env);
	build_input(d, pc, sender, &content, &j.input);
	j.dir = pc->directory ? pc->directory : config_str(d->cf, "queue_directory");
	j.time_limit = time_limit(d);
	deliver_as_user(j.uid, j.gid, NULL, job_run, &j, &o);
	if (o.dsn[0] == 0)
		deliver_outcome_set(&o, "4.3.0", "delivery failed without a reason");
	deliver_set_all(d, o.dsn, d->transport, "%s", o.text);
done:
	strv_free(&j.argv);
	strv_free(&j.env);
	buf_free(&j.input);
	buf_free(&content);
}
