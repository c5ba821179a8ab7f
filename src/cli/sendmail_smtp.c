/*
 * sendmail_smtp - `sendmail -bs`: a small SMTP dialogue on stdin/stdout for
 * programs that speak SMTP to a local MTA (e.g. some mail user agents).
 * Each accepted message goes into maildrop/ exactly like plain sendmail.
 * Supported: HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, VRFY (252), QUIT;
 * MAIL/RCPT parameters are ignored. No AUTH or TLS: the peer is a local
 * process and the submitting user is known from the file owner.
 *
 * Public: sendmail_smtp.
 * Bad input: wrong order gives 503, unknown verbs 502, a missing address
 * 501; a maildrop write failure gives 451 and the message is not kept.
 */
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/sendmail.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/qfile.h"

struct smtp_state {
	const char *qdir;
	char *sender;		/* NULL: no MAIL yet */
	struct strv rcpts;
	char host[256];
};

/* reply - one line, CRLF, flushed */
static void reply(const char *text)
{
	printf("%s\r\n", text);
	fflush(stdout);
}

/* read_line - one line without CR/LF; false at EOF */
static bool read_line(char **line, size_t *cap, size_t *len)
{
	ssize_t n = getline(line, cap, stdin);

	if (n <= 0)
		return false;
	*len = (size_t)n;
	while (*len > 0 && ((*line)[*len - 1] == '\n' || (*line)[*len - 1] == '\r'))
		(*line)[--*len] = 0;
	return true;
}

/* path_arg - the address in "FROM:<a@b> PARAMS"; NULL if malformed */
static char *path_arg(const char *arg)
{
	const char *lt = strchr(arg, '<'), *gt;

	if (lt == NULL) {
		const char *colon = strchr(arg, ':');
		char *copy, *cur, *tok;

		if (colon == NULL)
			return NULL;
		copy = xstrdup(colon + 1);
		cur = copy;
		tok = str_token(&cur, " ");
		tok = tok ? xstrdup(tok) : NULL;
		free(copy);
		return tok;
	}
	if ((gt = strchr(lt, '>')) == NULL)
		return NULL;
	return xstrndup(lt + 1, (size_t)(gt - lt - 1));
}

/* reset - forget the transaction */
static void reset(struct smtp_state *s)
{
	xfree(&s->sender);
	strv_free(&s->rcpts);
}

/* do_data - read the message and queue it */
static void do_data(struct smtp_state *s, char **line, size_t *cap)
{
	struct buf err = BUF_INIT, msg = BUF_INIT;
	struct qfile_writer *w;
	struct passwd *pw = getpwuid(getuid());
	bool ok = true;
	size_t len;

	if ((w = qfile_create(s->qdir, "maildrop", &err)) == NULL)
		ok = false;
	reply("354 End data with <CR><LF>.<CR><LF>");
	while (read_line(line, cap, &len)) {
		const char *p = *line;

		if (len == 1 && p[0] == '.')
			break;
		if (p[0] == '.') {	/* dot-unstuffing */
			p++;
			len--;
		}
		if (ok && qfile_append_line(w, p, len) < 0)
			ok = false;
	}
	if (ok) {
		qfile_set_sender(w, s->sender);
		qfile_add_attr(w, QATTR_PROTO, "local");
		if (pw)
			qfile_add_attr(w, QATTR_LOCAL_USER, pw->pw_name);
		for (size_t i = 0; i < s->rcpts.n; i++)
			qfile_add_rcpt(w, s->rcpts.v[i], NULL, NULL, 0);
		buf_printf(&msg, "250 2.0.0 Ok: queued as %s", qfile_writer_id(w));
		ok = qfile_commit(&w, &err) == 0;
	}
	if (ok) {
		reply(msg.data);
		(void)qfile_notify(s->qdir, "pickup", "W");
	} else {
		qfile_abort(&w);
		reply(err.len && err.data[0] == '4' ? err.data : "451 4.3.0 Error: queue file write error");
	}
	reset(s);
	buf_free(&err);
	buf_free(&msg);
}

/* do_command - one command line; false after QUIT */
static bool do_command(struct smtp_state *s, char *line, char **buf, size_t *cap)
{
	char *cur = line, *verb = str_token(&cur, " ");
	char *arg = cur;

	if (verb == NULL)
		reply("500 5.5.2 Error: bad syntax");
	else if (str_eq_case(verb, "QUIT")) {
		reply("221 2.0.0 Bye");
		return false;
	} else if (str_eq_case(verb, "HELO")) {
		printf("250 %s\r\n", s->host);
		fflush(stdout);
	} else if (str_eq_case(verb, "EHLO")) {
		printf("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n", s->host);
		fflush(stdout);
	} else if (str_eq_case(verb, "NOOP"))
		reply("250 2.0.0 Ok");
	else if (str_eq_case(verb, "RSET")) {
		reset(s);
		reply("250 2.0.0 Ok");
	} else if (str_eq_case(verb, "VRFY"))
		reply("252 2.0.0 Send some mail, I'll try my best");
	else if (str_eq_case(verb, "MAIL")) {
		char *a = s->sender ? NULL : path_arg(arg);

		if (s->sender)
			reply("503 5.5.1 Error: nested MAIL command");
		else if (a == NULL || strncasecmp(arg, "FROM:", 5) != 0) {
			reply("501 5.5.4 Syntax: MAIL FROM:<address>");
			free(a);
		} else {
			s->sender = a;
			reply("250 2.1.0 Ok");
		}
	} else if (str_eq_case(verb, "RCPT")) {
		char *a = path_arg(arg);

		if (s->sender == NULL)
			reply("503 5.5.1 Error: need MAIL command");
		else if (a == NULL || *a == 0)
			reply("501 5.5.4 Syntax: RCPT TO:<address>");
		else {
			strv_push(&s->rcpts, a);
			reply("250 2.1.5 Ok");
		}
		free(a);
	} else if (str_eq_case(verb, "DATA")) {
		if (s->rcpts.n == 0)
			reply("503 5.5.1 Error: need RCPT command");
		else
			do_data(s, buf, cap);
	} else
		reply("502 5.5.2 Error: command not recognized");
	return true;
}

/* sendmail_smtp - the dialogue until QUIT or end of input */
int sendmail_smtp(const char *qdir)
{
	struct smtp_state s = { .qdir = qdir };
	char *line = NULL;
	size_t cap = 0, len;

	if (gethostname(s.host, sizeof(s.host) - 1) < 0)
		snprintf(s.host, sizeof(s.host), "localhost");
	printf("220 %s ESMTP Outpost (sendmail -bs)\r\n", s.host);
	fflush(stdout);
	while (read_line(&line, &cap, &len)) {
		char *copy = xstrdup(line);
		bool more = do_command(&s, copy, &line, &cap);

		free(copy);
		if (!more)
			break;
	}
	reset(&s);
	free(line);
	return 0;
}
