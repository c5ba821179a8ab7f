/*
 * cmd_explain - `outpost explain`: replay an SMTP transaction through the
 * restriction engine (the very code smtpd runs) and show what each step
 * answers and why.
 *
 * Public: cmd_explain.
 *
 * Usage:
 *   outpost explain [-c DIR] [-v] [--client ADDR[=NAME]] [--helo NAME]
 *                   [--sasl LOGIN] [--tls] --from ADDR --to ADDR [--to ADDR…]
 *   outpost explain [-c DIR] [-v] --script FILE
 *
 * A script is a list of steps, one per line ("#" starts a comment):
 *   config            main.cf lines follow, up to "end" (then the script
 *                     runs in a scratch directory holding main.cf and the
 *                     files below, so relative table names work)
 *   file NAME         the file's lines follow, up to "end"
 *   session           a new SMTP connection (client, login, TLS reset)
 *   client ADDR [NAME] [REVERSE]
 *   helo NAME | ehlo NAME
 *   sasl LOGIN        the client authenticated as LOGIN
 *   tls [FINGERPRINT [verified]]
 *   pipelining        the client talked ahead without PIPELINING
 *   mail <ADDR> | rcpt <ADDR> | data | eod | rset | etrn DOMAIN | vrfy <ADDR>
 * Output: every step with its reply, plus (with -v) the trace of
 * restrictions and table keys behind it.
 *
 * Bad input: a bad script line, configuration or restriction list is
 * reported on stderr with file:line; exit status 2. Otherwise exit 0.
 */
#include <errno.h>
#include <ftw.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "config/config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/addr.h"
#include "smtpd/smtpd_check.h"

struct explain {
	struct config *cf;
	struct event_base *base;
	struct smtpd_checks *checks;
	struct smtpd_check_session *sess;
	struct strv trace;
	bool verbose;
	/* session facts */
	char *client_addr, *client_name, *reverse_name, *helo, *sasl, *sender;
	char *last_rcpt;	/* the one recipient, named at DATA when there is one */
	char *fingerprint;
	bool tls, verified, pipelining, esmtp, in_mail;
	size_t rcpt_count;
	/* result of the running check */
	bool done;
	struct buf reply;
	struct strv effects;
};

/* set_str - replace an owned string */
static void set_str(char **p, const char *v)
{
	free(*p);
	*p = v ? xstrdup(v) : NULL;
}

/* on_verdict - copy what we print; the verdict dies after this call */
static void on_verdict(void *ctx, struct smtpd_verdict *v)
{
	struct explain *e = ctx;

	e->done = true;
	buf_reset(&e->reply);
	if (v->decision != SMTPD_OK)
		buf_puts(&e->reply, buf_cstr(&v->reply));
	for (size_t i = 0; i < v->warnings.n; i++) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "log: NOQUEUE: %s", v->warnings.v[i]);
		strv_push_take(&e->effects, buf_steal(&b));
	}
	if (v->hold_set) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "hold: %s", buf_cstr(&v->hold));
		strv_push_take(&e->effects, buf_steal(&b));
	}
	if (v->discard)
		strv_push(&e->effects, "discard");
	if (v->filter.len) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "filter: %s", buf_cstr(&v->filter));
		strv_push_take(&e->effects, buf_steal(&b));
	}
	if (v->redirect.len) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "redirect: %s", buf_cstr(&v->redirect));
		strv_push_take(&e->effects, buf_steal(&b));
	}
	for (size_t i = 0; i < v->bcc.n; i++) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "bcc: %s", v->bcc.v[i]);
		strv_push_take(&e->effects, buf_steal(&b));
	}
	for (size_t i = 0; i < v->prepend.n; i++) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "prepend: %s", v->prepend.v[i]);
		strv_push_take(&e->effects, buf_steal(&b));
	}
}

/* check - run one stage to its verdict (dispatching the event loop if needed) */
static const char *check(struct explain *e, enum smtpd_stage stage, const char *rcpt,
			 const char *etrn)
{
	struct smtpd_facts f;
	struct smtpd_check_run *run;

	memset(&f, 0, sizeof(f));
	f.client_addr = e->client_addr;
	f.client_name = e->client_name;
	f.reverse_name = e->reverse_name;
	f.client_port = 54321;
	f.server_addr = "127.0.0.1";
	f.server_port = 25;
	f.helo = e->helo;
	f.protocol = e->esmtp ? "ESMTP" : "SMTP";
	f.tls = e->tls;
	if (e->tls) {
		f.tls_protocol = "TLSv1.3";
		f.tls_cipher = "TLS_AES_256_GCM_SHA384";
		f.tls_bits = 256;
		f.ccert_fingerprint = e->fingerprint;
		f.ccert_verified = e->verified;
	}
	f.sasl_username = e->sasl;
	f.sasl_method = e->sasl ? "PLAIN" : NULL;
	f.sender = e->sender;
	f.recipient = rcpt;
	f.recipient_count = e->rcpt_count;
	f.etrn_domain = etrn;
	f.pipelining_violation = e->pipelining;
	f.queue_id = "NOQUEUE";
	f.service = "smtp";
	e->done = false;
	strv_free(&e->effects);
	run = smtpd_check_run(e->sess, stage, &f, on_verdict, e);
	if (run != NULL) {
		while (!e->done && event_base_loop(e->base, EVLOOP_ONCE) == 0)
			;
		if (!e->done) {
			smtpd_check_cancel(&run);
			buf_set(&e->reply, "(no verdict: event loop ended)");
		}
	}
	return e->reply.len ? buf_cstr(&e->reply) : NULL;
}

/* show - one step and its reply */
static void show(struct explain *e, const char *step, const char *reply, const char *ok)
{
	printf("%s\n", step);
	if (e->verbose)
		for (size_t i = 0; i < e->trace.n; i++)
			printf("  | %s\n", e->trace.v[i]);
	strv_free(&e->trace);
	for (size_t i = 0; i < e->effects.n; i++)
		printf("  + %s\n", e->effects.v[i]);
	printf("  %s\n", reply ? reply : ok);
}

/* parse_addr - "<addr>" (or bare) as smtpd would parse it; NULL + err on bad input */
static char *parse_addr(const char *arg, const char **err)
{
	struct addr_path p;
	const char *rest = NULL;
	char *out = NULL;

	addr_path_init(&p);
	if (addr_parse_path(arg, 0, &p, &rest, err) == 0)
		out = xstrdup(buf_cstr(&p.addr));
	addr_path_free(&p);
	return out;
}

/* session_reset - a new connection: default client, no login */
static void session_reset(struct explain *e)
{
	set_str(&e->client_addr, "192.0.2.1");
	set_str(&e->client_name, "unknown");
	set_str(&e->reverse_name, "unknown");
	set_str(&e->helo, NULL);
	set_str(&e->sasl, NULL);
	set_str(&e->sender, NULL);
	set_str(&e->fingerprint, NULL);
	e->tls = e->verified = e->pipelining = e->esmtp = e->in_mail = false;
	e->rcpt_count = 0;
	smtpd_check_session_free(&e->sess);
	e->sess = smtpd_check_session_new(e->checks);
	smtpd_check_session_trace(e->sess, &e->trace);
}

/* step - one transaction line; -1 on a bad line */
static int step(struct explain *e, char *line, const char *where)
{
	char *cur = line;
	char *verb = str_token(&cur, STR_SPACE);
	char *arg = cur ? str_trim(cur) : NULL;
	const char *reply, *err = NULL;
	struct buf title = BUF_INIT;

	if (verb == NULL)
		return 0;
	buf_printf(&title, "%s%s%s", verb, arg && *arg ? " " : "", arg ? arg : "");
	if (strcmp(verb, "session") == 0) {
		session_reset(e);
		printf("-- session\n");
	} else if (strcmp(verb, "client") == 0) {
		char *a = str_token(&cur, STR_SPACE), *n = str_token(&cur, STR_SPACE);
		char *rv = str_token(&cur, STR_SPACE);

		if (a == NULL)
			goto bad;
		set_str(&e->client_addr, a);
		set_str(&e->client_name, n ? n : "unknown");
		set_str(&e->reverse_name, rv ? rv : n ? n : "unknown");
		reply = check(e, SMTPD_STAGE_CONNECT, NULL, NULL);
		show(e, buf_cstr(&title), reply, "220 (connected)");
	} else if (strcmp(verb, "helo") == 0 || strcmp(verb, "ehlo") == 0) {
		if (arg == NULL || *arg == '\0')
			goto bad;
		set_str(&e->helo, arg);
		e->esmtp = verb[0] == 'e';
		reply = check(e, SMTPD_STAGE_HELO, NULL, NULL);
		show(e, buf_cstr(&title), reply, "250 (hello)");
	} else if (strcmp(verb, "sasl") == 0) {
		set_str(&e->sasl, arg && *arg ? arg : NULL);
		printf("%s\n  235 2.7.0 Authentication successful\n", buf_cstr(&title));
	} else if (strcmp(verb, "tls") == 0) {
		char *fp = str_token(&cur, STR_SPACE), *ver = str_token(&cur, STR_SPACE);

		e->tls = true;
		set_str(&e->fingerprint, fp);
		e->verified = ver && strcmp(ver, "verified") == 0;
		printf("%s\n  220 2.0.0 Ready to start TLS\n", buf_cstr(&title));
	} else if (strcmp(verb, "pipelining") == 0) {
		e->pipelining = true;
		printf("pipelining\n");
	} else if (strcmp(verb, "mail") == 0) {
		char *a = parse_addr(arg ? arg : "", &err);

		if (a == NULL)
			goto bad;
		smtpd_check_session_reset(e->sess);
		set_str(&e->sender, a);
		free(a);
		e->rcpt_count = 0;
		reply = check(e, SMTPD_STAGE_MAIL, NULL, NULL);
		e->in_mail = reply == NULL;
		if (reply)
			set_str(&e->sender, NULL);
		show(e, buf_cstr(&title), reply, "250 2.1.0 Ok");
	} else if (strcmp(verb, "rcpt") == 0 || strcmp(verb, "vrfy") == 0) {
		char *a = parse_addr(arg ? arg : "", &err);
		bool rcpt = verb[0] == 'r';

		if (a == NULL)
			goto bad;
		reply = check(e, rcpt ? SMTPD_STAGE_RCPT : SMTPD_STAGE_VRFY, a, NULL);
		if (reply == NULL && rcpt) {
			e->rcpt_count++;
			set_str(&e->last_rcpt, a);
		}
		free(a);
		show(e, buf_cstr(&title), reply, rcpt ? "250 2.1.5 Ok" : "252 2.0.0 Ok");
	} else if (strcmp(verb, "data") == 0) {
		reply = check(e, SMTPD_STAGE_DATA, e->rcpt_count == 1 ? e->last_rcpt : NULL, NULL);
		show(e, buf_cstr(&title), reply, "354 End data with <CR><LF>.<CR><LF>");
	} else if (strcmp(verb, "eod") == 0) {
		reply = check(e, SMTPD_STAGE_END_OF_DATA, e->rcpt_count == 1 ? e->last_rcpt : NULL,
			      NULL);
		show(e, buf_cstr(&title), reply, "250 2.0.0 Ok: queued");
	} else if (strcmp(verb, "etrn") == 0) {
		reply = check(e, SMTPD_STAGE_ETRN, NULL, arg);
		show(e, buf_cstr(&title), reply, "250 Queuing started");
	} else if (strcmp(verb, "rset") == 0) {
		smtpd_check_session_reset(e->sess);
		set_str(&e->sender, NULL);
		e->rcpt_count = 0;
		printf("rset\n  250 2.0.0 Ok\n");
	} else {
		goto bad;
	}
	buf_free(&title);
	return 0;
bad:
	fprintf(stderr, "outpost: %s: bad step \"%s\"%s%s\n", where, buf_cstr(&title),
		err ? ": " : "", err ? err : "");
	buf_free(&title);
	return -1;
}

/* write_file - a scratch file of the script */
static int write_file(const char *dir, const char *name, const char *text)
{
	struct buf path = BUF_INIT;
	FILE *fp;
	int rc = 0;

	buf_printf(&path, "%s/%s", dir, name);
	if ((fp = fopen(buf_cstr(&path), "w")) == NULL ||
	    fputs(text, fp) == EOF || fclose(fp) == EOF) {
		fprintf(stderr, "outpost: write %s: %s\n", buf_cstr(&path), strerror(errno));
		rc = -1;
	}
	buf_free(&path);
	return rc;
}

/* start - load the configuration and the restriction engine */
static int start(struct explain *e, const char *dir)
{
	struct buf err = BUF_INIT;

	e->cf = config_load(dir, &err);
	if (e->cf == NULL) {
		fprintf(stderr, "%s", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	e->base = event_base_new();
	e->checks = smtpd_checks_new(e->cf, e->base, &err);
	if (e->checks == NULL) {
		fprintf(stderr, "outpost: %s\n", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	session_reset(e);
	return 0;
}

/* remove_entry - nftw callback emptying the scratch directory */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* run_script - read config/file blocks, then replay the steps */
static int run_script(struct explain *e, const char *path, const char *config_dir)
{
	FILE *fp = fopen(path, "r");
	char line[8192];
	int lineno = 0, rc = 0;
	struct buf block = BUF_INIT, where = BUF_INIT;
	char *block_name = NULL;
	char tmpl[] = "/tmp/outpost-explain.XXXXXX";
	char *tmp = NULL;
	char cwd[4096];
	bool started = false;

	if (fp == NULL) {
		fprintf(stderr, "outpost: open %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		buf_reset(&where);
		buf_printf(&where, "%s:%d", path, lineno);
		if (block_name) {
			if (strcmp(line + strspn(line, " \t"), "end") == 0) {
				if (tmp == NULL && (tmp = mkdtemp(tmpl)) == NULL) {
					fprintf(stderr, "outpost: mkdtemp: %s\n", strerror(errno));
					rc = -1;
					break;
				}
				rc = write_file(tmp, block_name, buf_cstr(&block));
				xfree(&block_name);
				buf_reset(&block);
				continue;
			}
			/* block lines are indented by two spaces in scripts; drop them */
			buf_puts(&block, strncmp(line, "  ", 2) == 0 ? line + 2 : line);
			buf_putc(&block, '\n');
			continue;
		}
		{
			char *s = str_trim(line);

			if (*s == '#' || *s == '\0')
				continue;
			if (strcmp(s, "config") == 0) {
				block_name = xstrdup("main.cf");
				continue;
			}
			if (strncmp(s, "file ", 5) == 0) {
				block_name = xstrdup(str_trim(s + 5));
				if (strchr(block_name, '/') || strcmp(block_name, "main.cf") == 0) {
					fprintf(stderr, "outpost: %s: bad file name\n", buf_cstr(&where));
					rc = -1;
				}
				continue;
			}
			if (!started) {
				const char *dir = config_dir;

				if (tmp) {
					struct buf mcf = BUF_INIT;

					buf_printf(&mcf, "%s/master.cf", tmp);
					if (access(buf_cstr(&mcf), F_OK) != 0)
						write_file(tmp, "master.cf", "");
					buf_free(&mcf);
					dir = tmp;
					if (chdir(tmp) != 0) {
						rc = -1;
						break;
					}
				}
				if (start(e, dir) < 0) {
					rc = -1;
					break;
				}
				started = true;
			}
			rc = step(e, s, buf_cstr(&where));
		}
	}
	fclose(fp);
	if (rc == 0 && block_name) {
		fprintf(stderr, "outpost: %s: block \"%s\" has no \"end\"\n", path, block_name);
		rc = -1;
	}
	free(block_name);
	buf_free(&block);
	buf_free(&where);
	if (tmp) {
		if (cwd[0] && chdir(cwd) != 0)
			rc = -1;
		/* the scratch directory holds only what this script wrote */
		nftw(tmp, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	return rc < 0 ? 2 : 0;
}

/* usage - to stderr */
static void usage(void)
{
	fprintf(stderr, "usage: outpost explain [-c DIR] [-v] --script FILE\n"
		"       outpost explain [-c DIR] [-v] [--client ADDR[=NAME]] [--helo NAME]\n"
		"                       [--sasl LOGIN] [--tls] --from ADDR --to ADDR [--to ADDR...]\n");
}

/* explain_free - everything explain set up */
static void explain_free(struct explain *e)
{
	smtpd_check_session_free(&e->sess);
	smtpd_checks_free(&e->checks);
	if (e->base)
		event_base_free(e->base);
	config_free(&e->cf);
	strv_free(&e->trace);
	strv_free(&e->effects);
	buf_free(&e->reply);
	free(e->client_addr);
	free(e->client_name);
	free(e->reverse_name);
	free(e->helo);
	free(e->sasl);
	free(e->sender);
	free(e->fingerprint);
	free(e->last_rcpt);
}

/* run_options - one transaction from the command line */
static int run_options(struct explain *e, const char *dir, const char *client,
		       const char *helo, const char *sasl, bool tls, const char *from,
		       const struct strv *to)
{
	struct buf line = BUF_INIT;
	int rc = 0;

	if (start(e, dir) < 0)
		return 2;
	if (client) {
		char *c = xstrdup(client), *eq = strchr(c, '=');

		if (eq)
			*eq++ = '\0';
		buf_printf(&line, "client %s %s", c, eq ? eq : "unknown");
		free(c);
		rc |= step(e, line.data, "--client");
	}
	if (tls)
		rc |= step(e, (char[]){ "tls" }, "--tls");
	buf_reset(&line);
	buf_printf(&line, "ehlo %s", helo ? helo : "client.example");
	rc |= step(e, line.data, "--helo");
	if (sasl) {
		buf_reset(&line);
		buf_printf(&line, "sasl %s", sasl);
		rc |= step(e, line.data, "--sasl");
	}
	buf_reset(&line);
	buf_printf(&line, "mail <%s>", from);
	rc |= step(e, line.data, "--from");
	for (size_t i = 0; i < to->n; i++) {
		buf_reset(&line);
		buf_printf(&line, "rcpt <%s>", to->v[i]);
		rc |= step(e, line.data, "--to");
	}
	buf_free(&line);
	return rc ? 2 : 0;
}

/* cmd_explain - replay a transaction through the restrictions */
int cmd_explain(int argc, char **argv)
{
	struct explain e;
	const char *dir = NULL, *script = NULL, *client = NULL, *helo = NULL, *sasl = NULL;
	const char *from = NULL;
	struct strv to = STRV_INIT;
	bool tls = false;
	int rc;

	memset(&e, 0, sizeof(e));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-v") == 0) {
			e.verbose = true;
			continue;
		}
		if (strcmp(a, "--tls") == 0) {
			tls = true;
			continue;
		}
		if (v == NULL) {
			usage();
			strv_free(&to);
			return 2;
		}
		if (strcmp(a, "-c") == 0)
			dir = v;
		else if (strcmp(a, "--script") == 0)
			script = v;
		else if (strcmp(a, "--client") == 0)
			client = v;
		else if (strcmp(a, "--helo") == 0)
			helo = v;
		else if (strcmp(a, "--sasl") == 0)
			sasl = v;
		else if (strcmp(a, "--from") == 0)
			from = v;
		else if (strcmp(a, "--to") == 0)
			strv_push(&to, v);
		else {
			usage();
			strv_free(&to);
			return 2;
		}
		i++;
	}
	if (dir == NULL)
		dir = getenv("OUTPOST_CONFIG_DIR") ? getenv("OUTPOST_CONFIG_DIR") : CONFIG_DEFAULT_DIR;
	if (script)
		rc = run_script(&e, script, dir);
	else if (from && to.n > 0)
		rc = run_options(&e, dir, client, helo, sasl, tls, from, &to);
	else {
		usage();
		rc = 2;
	}
	fflush(stdout);
	explain_free(&e);
	strv_free(&to);
	return rc;
}
