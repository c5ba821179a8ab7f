/*
 * cleanup_test - whole messages through cleanup into a scratch queue,
 * synchronously: Received:, added headers, drops, header rewriting,
 * limits, header/body check actions, alias expansion and the replies and
 * log lines of Postfix 3.7 (recorded by hand from its smtpd/cleanup).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup/cleanup.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/qfile.h"

static char dir[64];
static struct buf logged = BUF_INIT;

/* hook - collect log lines */
static void hook(enum log_level level, const char *text, void *ctx)
{
	(void)ctx;
	buf_printf(&logged, "%s%s\n", level == LOG_LEVEL_WARN ? "warning: " : "", text);
}

/* put_file - write a small file below dir */
static void put_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* setup - scratch queue and configuration, cleanup_init without a loop */
static int setup(void **state)
{
	struct buf maincf = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
	struct config *cf;

	snprintf(dir, sizeof(dir), "/tmp/cleanup_test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (const char *const *d = (const char *const[]){ "incoming", "hold", NULL }; *d; d++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, *d);
		assert_int_equal(mkdir(path.data, 0700), 0);
	}
	put_file("virtual", "alias@example.com bob@remote.example, carol@remote.example\n"
			    "loop1@example.com loop2@example.com\n"
			    "loop2@example.com loop1@example.com\n");
	put_file("hc", "/^Subject: reject-me/ REJECT custom reject text\n"
		       "/^Subject: plain-reject/ REJECT\n"
		       "/^X-Hold:/ HOLD held for review\n"
		       "/^X-Discard:/ DISCARD dropped it\n"
		       "/^X-Ignore:/ IGNORE\n"
		       "/^X-Replace: (.*)/ REPLACE X-Replaced: $1\n"
		       "/^X-Prepend:/ PREPEND X-Prepended: yes\n"
		       "/^X-Bcc:/ BCC bcc@remote.example\n"
		       "/^X-Multi: a.*b/ WARN multi-line seen\n"
		       "/^X-Redirect:/ REDIRECT redir@remote.example\n");
	put_file("mc", "/^Content-Type: application\\/x-evil/ REJECT evil attachment\n");
	put_file("nc", "/^Subject: nested-bad/ REJECT nested bad\n");
	put_file("bc", "/^badbody/ REJECT 5.7.0 body says no\n"
		       "/^Content-Type:/ REJECT body checks saw a part header\n"
		       "/^replace-me/ REPLACE replaced line\n");
	buf_printf(&maincf,
		   "queue_directory = %s\n"
		   "myhostname = mx.example.com\n"
		   "mydomain = example.com\n"
		   "myorigin = $mydomain\n"
		   "mydestination = mx.example.com, localhost, example.com\n"
		   "inet_interfaces = 127.0.0.1\n"
		   "mynetworks = 127.0.0.0/8\n"
		   "virtual_alias_maps = texthash:%s/virtual\n"
		   "canonical_maps = inline:{ {@old.example = @new.example} }\n"
		   "header_checks = regexp:%s/hc\n"
		   "body_checks = regexp:%s/bc\n"
		   "mime_header_checks = regexp:%s/mc\n"
		   "nested_header_checks = regexp:%s/nc\n"
		   "message_size_limit = 4000\n"
		   "hopcount_limit = 10\n"
		   "header_size_limit = 200\n"
		   "sender_bcc_maps = inline:{ {archived@example.com = archive@remote.example} }\n"
		   "recipient_bcc_maps = inline:{ {alias@example.com = ab@remote.example},"
		   " {carol@remote.example = never@remote.example} }\n",
		   dir, dir, dir, dir, dir, dir);
	put_file("main.cf", maincf.data);
	buf_reset(&path);
	buf_printf(&path, "%s/main.cf", dir);
	cf = config_load_files(path.data, NULL, &err);
	if (cf == NULL)
		fail_msg("config: %s", err.data);
	if (cleanup_init(NULL, cf, &err) < 0)
		fail_msg("cleanup_init: %s", err.data);
	*state = cf;
	log_set_hook(hook, NULL);
	buf_free(&maincf);
	buf_free(&err);
	buf_free(&path);
	return 0;
}

/* teardown - remove the scratch tree */
static int teardown(void **state)
{
	struct config *cf = *state;
	char cmd[128];

	cleanup_shutdown();
	config_free(&cf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	buf_free(&logged);
	return 0;
}

struct msg {
	const char *addr;	/* client address, NULL = local submission */
	const char *sender;
	const char *rcpt[4];
	const char *text;	/* lines separated by \n */
};

/* run - one message; returns the finish status, fills id and reply */
static int run(struct config *cf, const struct msg *m, struct buf *id, struct buf *reply)
{
	struct cleanup_client cl = { 0 };
	struct buf err = BUF_INIT;
	struct cleanup *c;
	const char *s = m->text;
	int rc;

	if (m->addr) {
		cl.addr = m->addr;
		cl.name = "client.example";
		cl.helo = "helo.example";
		cl.proto = "ESMTP";
	} else {
		cl.proto = "local";
		cl.local_user = "root";
	}
	buf_reset(&logged);
	c = cleanup_open(cf, &cl, &err);
	if (c == NULL)
		fail_msg("cleanup_open: %s", err.data);
	cleanup_sender(c, m->sender, NULL, NULL, 0, false);
	for (size_t i = 0; i < 4 && m->rcpt[i]; i++)
		cleanup_recipient(c, m->rcpt[i], NULL, 0);
	for (;;) {
		const char *nl = strchr(s, '\n');

		assert_int_equal(cleanup_line(c, s, nl ? (size_t)(nl - s) : strlen(s)), 0);
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	rc = cleanup_finish_sync(c, id, reply);
	buf_free(&err);
	return rc;
}

/* open_queued - the committed file of a queue ID in subdir */
static struct qfile *open_queued(const char *subdir, const char *id, struct buf *content)
{
	char path[256];
	struct buf err = BUF_INIT;
	struct qfile *q;
	int why;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, subdir, id);
	q = qfile_open(path, false, &why, &err);
	if (q == NULL)
		fail_msg("%s: %s", path, err.data);
	buf_reset(content);
	assert_int_equal(qfile_read_content(q, content, 0), 0);
	buf_free(&err);
	return q;
}

/* count_files - entries in a queue subdirectory */
static int count_files(const char *subdir)
{
	char path[256];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, subdir);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* test_remote - Received: for one recipient, no added headers, drops */
static void test_remote(void **state)
{
	struct msg m = { "192.0.2.1", "s@example.com", { "r@remote.example" },
			 "Bcc: x@y.example\nReturn-Path: <rp@x>\nTo: alice\n"
			 "From: Joe <joe@old.example>\nSubject: hi\n\nbody" };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT, want = BUF_INIT;
	struct qfile *q;

	assert_int_equal(run(*state, &m, &id, &reply), 0);
	q = open_queued("incoming", id.data, &content);
	buf_printf(&want, "Received: from helo.example (client.example [192.0.2.1])\n"
			  "\tby mx.example.com (Outpost) with ESMTP id %s\n"
			  "\tfor <r@remote.example>; ", id.data);
	assert_true(str_has_prefix(content.data, want.data));
	/* a remote client's headers stay as they are; nothing is added */
	assert_non_null(strstr(content.data, "\nTo: alice\nFrom: Joe <joe@old.example>\n"
					     "Subject: hi\n\nbody\n"));
	assert_null(strstr(content.data, "Bcc:"));
	assert_null(strstr(content.data, "Return-Path:"));
	assert_null(strstr(content.data, "Message-Id:"));
	assert_string_equal(q->sender, "s@example.com");
	assert_int_equal(q->nrcpt, 1);
	assert_string_equal(q->rcpt[0].address, "r@remote.example");
	assert_string_equal(q->rcpt[0].orcpt, "rfc822;r@remote.example");
	assert_string_equal(q->rcpt[0].original, "r@remote.example");
	assert_string_equal(qfile_attr(q, "client_address"), "192.0.2.1");
	assert_null(qfile_attr(q, QATTR_8BIT));
	assert_non_null(strstr(logged.data, ": message-id=<>"));
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
	buf_free(&want);
}

/* test_local_client - 127.0.0.1: header rewriting and added headers */
static void test_local_client(void **state)
{
	struct msg m = { "127.0.0.1", "s@example.com", { "a@remote.example", "b@remote.example" },
			 "To: alice, Joe <joe@old.example>\nSubject: hi\n\nbody" };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT, want = BUF_INIT;
	struct qfile *q;

	assert_int_equal(run(*state, &m, &id, &reply), 0);
	q = open_queued("incoming", id.data, &content);
	buf_printf(&want, "\tby mx.example.com (Outpost) with ESMTP id %s;\n\t", id.data);
	assert_non_null(strstr(content.data, want.data));
	assert_non_null(strstr(content.data,
			       "\nTo: alice@example.com, Joe <joe@new.example>\nSubject: hi\n"
			       "Message-Id: <"));
	assert_non_null(strstr(content.data, "\nFrom: s@example.com\n\nbody\n"));
	assert_non_null(strstr(content.data, "\nDate: "));
	assert_int_equal(q->nrcpt, 2);
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
	buf_free(&want);
}

/* test_local_submission - sendmail's Received: and virtual expansion */
static void test_local_submission(void **state)
{
	struct msg m = { NULL, "root", { "alias", "alias@example.com", "bob@remote.example" },
			 "Subject: local\n\nbody" };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT, want = BUF_INIT;
	struct qfile *q;

	assert_int_equal(run(*state, &m, &id, &reply), 0);
	q = open_queued("incoming", id.data, &content);
	buf_printf(&want, "Received: by mx.example.com (Outpost, from userid 0)\n\tid %s; ",
		   id.data);
	assert_true(str_has_prefix(content.data, want.data));
	assert_string_equal(q->sender, "root@example.com");
	assert_non_null(strstr(content.data, "\nFrom: root@example.com\n"));
	/* alias and alias@example.com differ as originals; bob is listed once
	 * per original; alias's recipient_bcc_maps address (ab) only once;
	 * carol's BCC never fires (lookups happen before aliasing) */
	assert_int_equal(q->nrcpt, 6);
	assert_string_equal(q->rcpt[0].address, "bob@remote.example");
	assert_string_equal(q->rcpt[0].original, "alias");
	assert_string_equal(q->rcpt[0].orcpt, "rfc822;alias@example.com");
	assert_string_equal(q->rcpt[1].address, "carol@remote.example");
	assert_string_equal(q->rcpt[2].address, "ab@remote.example");
	assert_string_equal(q->rcpt[5].address, "bob@remote.example");
	assert_string_equal(q->rcpt[5].original, "bob@remote.example");
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
	buf_free(&want);
}

/* test_internal_forward - what local delivery forwards: virtual aliasing
 * and the original recipient kept, no header checks, a bare Received: */
static void test_internal_forward(void **state)
{
	struct cleanup_client cl = { .proto = "local", .name = "localhost", .internal = true };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT, want = BUF_INIT,
		   err = BUF_INIT;
	const char *text = "Delivered-To: list@example.com\nSubject: reject-me\n\nbody";
	struct cleanup *c;
	struct qfile *q;

	buf_reset(&logged);
	c = cleanup_open(*state, &cl, &err);
	assert_non_null(c);
	cleanup_sender(c, "s@remote.example", "HDRS", "env1", 0, false);
	cleanup_body_8bit(c, true);
	cleanup_recipient_orig(c, "alias@example.com", "rfc822;orig@example.com",
			       CLEANUP_NOTIFY_FAILURE, "list@example.com");
	assert_int_equal(cleanup_text(c, text, strlen(text)), 0);
	assert_int_equal(cleanup_finish_sync(c, &id, &reply), 0);
	q = open_queued("incoming", id.data, &content);
	buf_printf(&want, "Received: by mx.example.com (Outpost)\n\tid %s; ", id.data);
	assert_true(str_has_prefix(content.data, want.data));
	assert_non_null(strstr(content.data, "\nDelivered-To: list@example.com\n"
					     "Subject: reject-me\n"));
	assert_string_equal(qfile_attr(q, QATTR_ENVID), "env1");
	assert_string_equal(qfile_attr(q, QATTR_RET), "HDRS");
	assert_string_equal(qfile_attr(q, QATTR_8BIT), "1");
	assert_int_equal(q->nrcpt, 3);	/* two alias members and alias's BCC */
	assert_string_equal(q->rcpt[0].address, "bob@remote.example");
	assert_string_equal(q->rcpt[0].original, "list@example.com");
	assert_string_equal(q->rcpt[0].orcpt, "rfc822;orig@example.com");
	assert_int_equal(q->rcpt[0].notify, CLEANUP_NOTIFY_FAILURE);
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
	buf_free(&want);
	buf_free(&err);
}

struct fail_case {
	const char *what;
	const char *text;
	const char *rcpt;
	const char *reply;
	const char *log;	/* expected in the log ("" = any) */
};

/* test_failures - refused messages: reply, log line, no file left */
static void test_failures(void **state)
{
	static const struct fail_case cases[] = {
		{ "header REJECT with text", "Subject: reject-me now\n\nx", "r@remote.example",
		  "550 5.7.1 custom reject text",
		  ": reject: header Subject: reject-me now from client.example[192.0.2.1]; "
		  "from=<s@example.com> to=<r@remote.example> proto=ESMTP helo=<helo.example>: "
		  "5.7.1 custom reject text" },
		{ "header REJECT bare", "Subject: plain-reject\n\nx", "r@remote.example",
		  "550 5.7.1 message content rejected", ": 5.7.1 message content rejected" },
		{ "body REJECT with code", "Subject: x\n\nok\nbadbody here", "r@remote.example",
		  "550 5.7.0 body says no", ": reject: body badbody here from " },
		{ "virtual loop", "Subject: x\n\nx", "loop1@example.com",
		  "451 4.6.0 Alias expansion error",
		  "unreasonable virtual_alias_maps map nesting for loop1@example.com -- message "
		  "not accepted, try again later" },
		/* Postfix 3.7 counts its own Received: too: 49 + 1 reach hopcount_limit 50 */
		{ "hop count", "Received: a\nReceived: b\nReceived: c\nReceived: d\nReceived: e\n"
			       "Received: f\nReceived: g\nReceived: h\nReceived: i\n\nx",
		  "r@remote.example", "554 5.4.0 Error: too many hops",
		  ": message rejected: hopcount exceeded" },
		{ "mime part header", "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
				      "preamble\n--b1\nContent-Type: text/plain\n\ntext\n--b1\n"
				      "Content-Type: application/x-evil;\n name=x\n\nAAAA\n--b1--\n",
		  "r@remote.example", "550 5.7.1 evil attachment",
		  ": reject: header Content-Type: application/x-evil;? name=x from " },
		{ "nested message header", "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n"
					   "Content-Type: message/rfc822\n\nFrom: x@y\n"
					   "Subject: nested-bad\n\nhi\n--b1--\n",
		  "r@remote.example", "550 5.7.1 nested bad", ": reject: header Subject: nested-bad" },
		{ "size", NULL, "r@remote.example", "552 5.3.4 Message size exceeds fixed limit",
		  "exceeds message_size_limit" },
	};
	struct buf id = BUF_INIT, reply = BUF_INIT, big = BUF_INIT;

	buf_puts(&big, "Subject: big\n");
	for (int i = 0; i < 100; i++)
		buf_puts(&big, "\n0123456789012345678901234567890123456789012345678901234567890");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fail_case *f = &cases[i];
		struct msg m = { "192.0.2.1", "s@example.com", { f->rcpt }, f->text ? f->text
										     : big.data };

		int before = count_files("incoming");

		print_message("case: %s\n", f->what);
		assert_int_equal(run(*state, &m, &id, &reply), -1);
		assert_string_equal(reply.data, f->reply);
		if (strstr(logged.data, f->log) == NULL)
			fail_msg("log lacks \"%s\":\n%s", f->log, logged.data);
		assert_int_equal(count_files("incoming"), before);
	}
	buf_free(&id);
	buf_free(&reply);
	buf_free(&big);
}

/* test_actions - HOLD, IGNORE, REPLACE, PREPEND, BCC, WARN, body REPLACE */
static void test_actions(void **state)
{
	struct msg m = { "192.0.2.1", "s@example.com", { "r@remote.example" },
			 "Subject: actions\nX-Multi: a\n b\nX-Hold: 1\nX-Ignore: gone\n"
			 "X-Replace: old value\nX-Prepend: 1\nX-Bcc: 1\n\nreplace-me\nkeep" };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT;
	struct qfile *q;
	int before = count_files("incoming");

	assert_int_equal(run(*state, &m, &id, &reply), 0);
	assert_int_equal(count_files("incoming"), before);
	q = open_queued("hold", id.data, &content);
	assert_non_null(strstr(content.data,
			       "\nSubject: actions\nX-Multi: a\n b\nX-Hold: 1\n"
			       "X-Replaced: old value\nX-Prepended: yes\nX-Prepend: 1\nX-Bcc: 1\n"
			       "\nreplaced line\nkeep\n"));
	assert_string_equal(qfile_attr(q, "hold_reason"), "held for review");
	assert_int_equal(q->nrcpt, 2);
	assert_string_equal(q->rcpt[1].address, "bcc@remote.example");
	assert_int_equal(q->rcpt[1].notify, CLEANUP_NOTIFY_NEVER);
	assert_non_null(strstr(logged.data, ": warning: header X-Multi: a? b from "));
	assert_non_null(strstr(logged.data, ": hold: header X-Hold: 1 from "));
	assert_non_null(strstr(logged.data, ": replace: header X-Replace: old value from "));
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
}

/* test_discard_redirect - DISCARD queues nothing; REDIRECT replaces rcpts */
static void test_discard_redirect(void **state)
{
	struct msg d = { "192.0.2.1", "s@example.com", { "r@remote.example" },
			 "X-Discard: 1\n\nx" };
	struct msg r = { "192.0.2.1", "s@example.com", { "r@remote.example", "t@remote.example" },
			 "X-Redirect: 1\n\nx" };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT;
	struct qfile *q;
	int before = count_files("incoming");

	assert_int_equal(run(*state, &d, &id, &reply), 0);
	assert_int_equal(count_files("incoming"), before);
	assert_non_null(strstr(logged.data, ": discard: header X-Discard: 1 from "));
	assert_int_equal(run(*state, &r, &id, &reply), 0);
	assert_non_null(strstr(logged.data, ": redirect: header X-Redirect: 1 from "
					    "client.example[192.0.2.1]; from=<s@example.com> "
					    "to=<t@remote.example> proto=ESMTP"));
	q = open_queued("incoming", id.data, &content);
	assert_int_equal(q->nrcpt, 2);
	assert_string_equal(q->rcpt[0].address, "redir@remote.example");
	assert_string_equal(q->rcpt[0].original, "r@remote.example");
	assert_string_equal(q->rcpt[1].original, "t@remote.example");
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
}

/* test_mime_clean - part headers are not body lines; boundaries nest */
static void test_mime_clean(void **state)
{
	struct msg m = { "192.0.2.1", "s@example.com", { "r@remote.example" },
			 "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
			 "Content-Type: multipart/alternative; boundary=\"inner\"\n\n--inner\n"
			 "Content-Type: text/plain\n\ntext\n--inner--\n--outer\n"
			 "Content-Type: message/rfc822\n\nSubject: fine\n\nbody\n--outer--\nepilogue" };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT;
	struct qfile *q;

	if (run(*state, &m, &id, &reply) != 0)
		fail_msg("refused: %s\n%s", reply.data, logged.data);
	q = open_queued("incoming", id.data, &content);
	assert_non_null(strstr(content.data, "\n--outer--\nepilogue\n"));
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
}

/* test_header_limit - a header past header_size_limit is cut there */
static void test_header_limit(void **state)
{
	struct buf text = BUF_INIT, id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT;
	struct msg m = { "192.0.2.1", "s@example.com", { "r@remote.example" }, NULL };
	struct qfile *q;
	const char *x, *end;

	buf_puts(&text, "X-Long: start");
	for (int i = 0; i < 10; i++)
		buf_puts(&text, "\n 0123456789012345678901234567890123456789");
	buf_puts(&text, "\nSubject: after\n\nbody");
	m.text = text.data;
	assert_int_equal(run(*state, &m, &id, &reply), 0);
	q = open_queued("incoming", id.data, &content);
	x = strstr(content.data, "X-Long: start");
	assert_non_null(x);
	end = strstr(x, "\nSubject: after\n\nbody\n");
	assert_non_null(end);
	assert_int_equal(end - x, 200);
	qfile_free(&q);
	buf_free(&text);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
}

/* test_line_cont - pieces of over-long lines join their line */
static void test_line_cont(void **state)
{
	struct cleanup_client cl = { .addr = "192.0.2.1", .proto = "ESMTP" };
	struct buf err = BUF_INIT, id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT;
	struct cleanup *c = cleanup_open(*state, &cl, &err);
	struct qfile *q;

	assert_non_null(c);
	cleanup_sender(c, "s@example.com", NULL, NULL, 0, false);
	cleanup_recipient(c, "r@remote.example", NULL, 0);
	assert_int_equal(cleanup_line(c, "Subject: long", 13), 0);
	assert_int_equal(cleanup_line_cont(c, " subject", 8), 0);
	assert_int_equal(cleanup_line(c, "", 0), 0);
	assert_int_equal(cleanup_line(c, "abc", 3), 0);
	assert_int_equal(cleanup_line_cont(c, "def", 3), 0);
	assert_int_equal(cleanup_line(c, "next", 4), 0);
	assert_int_equal(cleanup_finish_sync(c, &id, &reply), 0);
	q = open_queued("incoming", id.data, &content);
	assert_non_null(strstr(content.data, "\nSubject: long subject\n\nabcdef\nnext\n"));
	assert_true(str_has_suffix(content.data, "\nnext\n"));
	qfile_free(&q);
	buf_free(&err);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
}

/* test_local_reject_log - a local submission's check log line */
static void test_local_reject_log(void **state)
{
	struct msg m = { NULL, "s@example.com", { "r@remote.example" },
			 "Subject: reject-me\n\nx" };
	struct buf id = BUF_INIT, reply = BUF_INIT;

	assert_int_equal(run(*state, &m, &id, &reply), -1);
	assert_string_equal(reply.data, "550 5.7.1 custom reject text");
	assert_non_null(strstr(logged.data, ": reject: header Subject: reject-me from local; "
					    "from=<s@example.com> to=<r@remote.example>: "
					    "5.7.1 custom reject text\n"));
	buf_free(&id);
	buf_free(&reply);
}

/* test_hops_below_limit - hopcount_limit - 2 earlier hops pass */
static void test_hops_below_limit(void **state)
{
	struct msg m = { "192.0.2.1", "s@example.com", { "r@remote.example" },
			 "Received: a\nReceived: b\nReceived: c\nReceived: d\nReceived: e\n"
			 "Received: f\nReceived: g\nReceived: h\n\nx" };
	struct buf id = BUF_INIT, reply = BUF_INIT;

	assert_int_equal(run(*state, &m, &id, &reply), 0);
	buf_free(&id);
	buf_free(&reply);
}

/* test_bcc_maps - as recorded from Postfix 3.7: the sender's BCC first,
 * each recipient's BCC after its expansion, looked up before aliasing */
static void test_bcc_maps(void **state)
{
	struct msg m = { "192.0.2.1", "archived@example.com", { "alias@example.com" },
			 "Subject: x\n\nx" };
	struct buf id = BUF_INIT, reply = BUF_INIT, content = BUF_INIT;
	struct qfile *q;
	static const char *want[] = { "archive@remote.example", "bob@remote.example",
				      "carol@remote.example", "ab@remote.example" };

	assert_int_equal(run(*state, &m, &id, &reply), 0);
	q = open_queued("incoming", id.data, &content);
	assert_int_equal(q->nrcpt, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(q->rcpt[i].address, want[i]);
	assert_int_equal(q->rcpt[0].notify, CLEANUP_NOTIFY_NEVER);
	assert_string_equal(q->rcpt[0].original, "archive@remote.example");
	assert_int_equal(q->rcpt[3].notify, CLEANUP_NOTIFY_NEVER);
	qfile_free(&q);
	buf_free(&id);
	buf_free(&reply);
	buf_free(&content);
}

/* test_abort - an aborted message leaves nothing behind */
static void test_abort(void **state)
{
	struct cleanup_client cl = { .addr = "192.0.2.1", .proto = "SMTP" };
	struct buf err = BUF_INIT;
	int before = count_files("incoming");
	struct cleanup *c = cleanup_open(*state, &cl, &err);

	assert_non_null(c);
	cleanup_sender(c, "s@example.com", NULL, NULL, 0, false);
	cleanup_recipient(c, "r@remote.example", NULL, 0);
	assert_int_equal(cleanup_line(c, "Subject: x", 10), 0);
	cleanup_abort(&c);
	assert_null(c);
	assert_int_equal(count_files("incoming"), before);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote),
		cmocka_unit_test(test_local_client),
		cmocka_unit_test(test_local_submission),
		cmocka_unit_test(test_internal_forward),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_discard_redirect),
		cmocka_unit_test(test_mime_clean),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_line_cont),
		cmocka_unit_test(test_hops_below_limit),
		cmocka_unit_test(test_local_reject_log),
		cmocka_unit_test(test_bcc_maps),
		cmocka_unit_test(test_abort),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
