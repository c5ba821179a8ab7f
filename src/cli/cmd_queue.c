/*
 * cmd_queue - `outpost queue`: look at and act on the mail queue
 * (postqueue, postsuper and mailq in one command).
 *
 *	outpost queue [-c DIR] [list] [--json|-j]   mailq format or JSON lines
 *	outpost queue [-c DIR] -p                   same as list (postqueue -p)
 *	outpost queue [-c DIR] show ID              envelope, status, content
 *	outpost queue [-c DIR] flush [ID|DOMAIN]    ask qmgr to retry now
 *	outpost queue [-c DIR] delete ID|ALL        remove messages
 *	outpost queue [-c DIR] hold ID|ALL          set aside
 *	outpost queue [-c DIR] release ID|ALL       back from hold
 *	outpost queue [-c DIR] requeue ID|ALL       retry from incoming
 *
 * Invoked as `mailq`, it lists. Public: cmd_queue, cmd_mailq.
 * Bad input: an unknown or malformed ID prints "ID: no such message" (or
 * "not a queue ID") and exits 1; a flush with qmgr down exits 75 with
 * "mail system is down"; usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "config/config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/qfile.h"
#include "queue/queue.h"

#define EXIT_TEMPFAIL	75

static const enum queue_state list_order[] = {
	QUEUE_ACTIVE, QUEUE_INCOMING, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_MAILDROP,
};

/* usage - one line, then exit 2 */
static int usage(void)
{
	fprintf(stderr, "usage: outpost queue [-c DIR] [list [--json] | show ID | flush [ID|DOMAIN] |"
			" delete ID|ALL | hold ID|ALL | release ID|ALL | requeue ID|ALL]\n");
	return 2;
}

/* json_str - a JSON string literal */
static void json_str(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\u%04x", c);
		else
			buf_putc(b, c);
	}
	buf_putc(b, '"');
}

/* rcpt_status_name - for humans and JSON */
static const char *rcpt_status_name(const struct qfile_rcpt *r, const struct queue_log_entry *e)
{
	if (r->status == QFILE_RCPT_SENT)
		return "sent";
	if (r->status == QFILE_RCPT_BOUNCED)
		return "bounced";
	return e ? "deferred" : "pending";
}

/* open_msg - the message file of an ID in a state; NULL if gone or bad */
static struct qfile *open_msg(const char *qdir, enum queue_state st, const char *id)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct qfile *q;
	int why;

	queue_path(&path, qdir, st, id);
	q = qfile_open(path.data, false, &why, &err);
	if (q == NULL && why == QFILE_ERR_CORRUPT && st != QUEUE_INCOMING && st != QUEUE_MAILDROP)
		log_warn("%s: %s", id, buf_cstr(&err));
	buf_free(&path);
	buf_free(&err);
	return q;
}

/* list_json - one object per message */
static void list_json(const char *qdir, enum queue_state st, struct qfile *q)
{
	struct queue_log dlog, blog;
	struct buf b = BUF_INIT;

	queue_log_read(qdir, QUEUE_LOG_DEFER, q->id, &dlog);
	queue_log_read(qdir, QUEUE_LOG_BOUNCE, q->id, &blog);
	buf_puts(&b, "{\"queue_name\": ");
	json_str(&b, queue_state_name(st));
	buf_puts(&b, ", \"queue_id\": ");
	json_str(&b, q->id);
	buf_printf(&b, ", \"arrival_time\": %lld, \"message_size\": %lld, \"sender\": ",
		   (long long)q->arrival.tv_sec, (long long)q->content_length);
	json_str(&b, q->sender);
	buf_puts(&b, ", \"recipients\": [");
	for (size_t i = 0; i < q->nrcpt; i++) {
		const struct queue_log_entry *e = queue_log_last(&dlog, i);
		const struct queue_log_entry *f = queue_log_last(&blog, i);
		const struct queue_log_entry *last = f ? f : e;

		buf_puts(&b, i ? ", {\"address\": " : "{\"address\": ");
		json_str(&b, q->rcpt[i].address);
		buf_puts(&b, ", \"status\": ");
		json_str(&b, rcpt_status_name(&q->rcpt[i], e));
		if (last) {
			buf_puts(&b, ", \"dsn\": ");
			json_str(&b, last->dsn);
			buf_puts(&b, ", \"relay\": ");
			json_str(&b, last->relay);
			buf_puts(&b, ", \"last_reply\": ");
			json_str(&b, last->reply);
		}
		if (e && q->rcpt[i].status == QFILE_RCPT_PENDING) {
			buf_puts(&b, ", \"delay_reason\": ");
			json_str(&b, e->reply);
		}
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	fputs(b.data, stdout);
	buf_free(&b);
	queue_log_free(&dlog);
	queue_log_free(&blog);
}

/* list_mailq - Postfix's mailq layout */
static void list_mailq(const char *qdir, enum queue_state st, struct qfile *q)
{
	struct queue_log dlog;
	char when[64];
	time_t t = q->arrival.tv_sec;
	struct tm tm;
	const char *last_reason = NULL;
	int mark = st == QUEUE_ACTIVE ? '*' : st == QUEUE_HOLD ? '!' : ' ';

	queue_log_read(qdir, QUEUE_LOG_DEFER, q->id, &dlog);
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
	char idm[QFILE_ID_MAX + 2];

	snprintf(idm, sizeof(idm), "%s%c", q->id, mark);
	printf("%-17s %8lld %-20.20s  %s\n", idm, (long long)q->content_length, when,
	       *q->sender ? q->sender : "MAILER-DAEMON");
	for (size_t i = 0; i < q->nrcpt; i++) {
		const struct queue_log_entry *e = queue_log_last(&dlog, i);

		if (q->rcpt[i].status != QFILE_RCPT_PENDING)
			continue;
		if (e && (last_reason == NULL || strcmp(last_reason, e->reply) != 0)) {
			printf("%*s(%s)\n", 8, "", e->reply);
			last_reason = e->reply;
		}
		printf("%*s%s\n", 50, "", q->rcpt[i].address);
	}
	putchar('\n');
	queue_log_free(&dlog);
}

/* do_list - every message in every visible state */
static int do_list(const char *qdir, bool json)
{
	long long bytes = 0;
	size_t count = 0;

	for (size_t s = 0; s < sizeof(list_order) / sizeof(list_order[0]); s++) {
		struct strv ids = STRV_INIT;

		if (queue_scan(qdir, list_order[s], &ids) < 0 && errno != ENOENT &&
		    list_order[s] != QUEUE_MAILDROP)
			log_warn("cannot read %s/%s: %m", qdir, queue_state_name(list_order[s]));
		for (size_t i = 0; i < ids.n; i++) {
			struct qfile *q = open_msg(qdir, list_order[s], ids.v[i]);

			if (q == NULL)
				continue;
			if (count == 0 && !json)
				printf("-Queue ID-       --Size-- ----Arrival Time---- "
				       "-Sender/Recipient-------\n");
			if (json)
				list_json(qdir, list_order[s], q);
			else
				list_mailq(qdir, list_order[s], q);
			bytes += q->content_length;
			count++;
			qfile_free(&q);
		}
		strv_free(&ids);
	}
	if (!json) {
		if (count == 0)
			printf("Mail queue is empty\n");
		else
			printf("-- %lld Kbytes in %zu Request%s.\n", (bytes + 1023) / 1024, count,
			       count == 1 ? "" : "s");
	}
	return 0;
}

/* find_or_complain - the state of an ID, or a message and -1 */
static int find_or_complain(const char *qdir, const char *id, enum queue_state *st)
{
	if (!qfile_valid_id(id)) {
		fprintf(stderr, "outpost queue: %s: not a queue ID\n", id);
		return -1;
	}
	if (queue_find(qdir, id, st) < 0) {
		fprintf(stderr, "outpost queue: %s: no such message\n", id);
		return -1;
	}
	return 0;
}

/* do_show - envelope, per-recipient status, then the content */
static int do_show(const char *qdir, const char *id)
{
	enum queue_state st;
	struct queue_log dlog, blog;
	struct buf content = BUF_INIT;
	struct qfile *q;

	if (find_or_complain(qdir, id, &st) < 0)
		return 1;
	if ((q = open_msg(qdir, st, id)) == NULL) {
		fprintf(stderr, "outpost queue: %s: cannot read the queue file\n", id);
		return 1;
	}
	queue_log_read(qdir, QUEUE_LOG_DEFER, id, &dlog);
	queue_log_read(qdir, QUEUE_LOG_BOUNCE, id, &blog);
	printf("*** ENVELOPE RECORDS %s ***\n", id);
	printf("queue: %s\n", queue_state_name(st));
	printf("message_size: %lld\n", (long long)q->content_length);
	printf("message_arrival_time: %s", ctime(&q->arrival.tv_sec));
	printf("sender: %s\n", q->sender);
	for (size_t i = 0; i < q->attr_names.n; i++)
		printf("%s: %s\n", q->attr_names.v[i], q->attr_values.v[i]);
	for (size_t i = 0; i < q->nrcpt; i++) {
		const struct qfile_rcpt *r = &q->rcpt[i];
		const struct queue_log_entry *e = queue_log_last(&blog, i);

		if (e == NULL)
			e = queue_log_last(&dlog, i);
		printf("recipient: %s (%s)", r->address, rcpt_status_name(r, queue_log_last(&dlog, i)));
		if (r->orcpt)
			printf(" orcpt=%s", r->orcpt);
		if (r->original)
			printf(" original=%s", r->original);
		if (r->notify)
			printf(" notify=%u", r->notify);
		if (e)
			printf(" dsn=%s relay=%s reply=(%s)", e->dsn, e->relay, e->reply);
		putchar('\n');
	}
	printf("*** MESSAGE CONTENTS %s ***\n", id);
	if (qfile_read_content(q, &content, 0) == 0)
		fwrite(content.data, 1, content.len, stdout);
	printf("*** END OF MESSAGE %s ***\n", id);
	buf_free(&content);
	queue_log_free(&dlog);
	queue_log_free(&blog);
	qfile_free(&q);
	return 0;
}

enum queue_op { OP_DELETE, OP_HOLD, OP_RELEASE, OP_REQUEUE };

/* apply_one - act on one message; 1 if something changed */
static int apply_one(const char *qdir, enum queue_op op, const char *id, enum queue_state st)
{
	switch (op) {
	case OP_DELETE:
		if (queue_remove(qdir, id, st) < 0)
			return 0;
		log_info("%s: removed", id);
		return 1;
	case OP_HOLD:
		if (st == QUEUE_HOLD || st == QUEUE_CORRUPT || st == QUEUE_MAILDROP)
			return 0;
		if (queue_move(qdir, id, st, QUEUE_HOLD) < 0)
			return 0;
		log_info("%s: placed on hold", id);
		return 1;
	case OP_RELEASE:
		if (st != QUEUE_HOLD || queue_move(qdir, id, st, QUEUE_DEFERRED) < 0)
			return 0;
		log_info("%s: released from hold", id);
		return 1;
	case OP_REQUEUE:
		if (st == QUEUE_HOLD || st == QUEUE_CORRUPT || st == QUEUE_MAILDROP ||
		    st == QUEUE_INCOMING)
			return 0;
		if (queue_move(qdir, id, st, QUEUE_INCOMING) < 0)
			return 0;
		log_info("%s: requeued", id);
		return 1;
	}
	return 0;
}

static const char *const op_done[] = { "Deleted", "Placed on hold", "Released from hold",
				       "Requeued" };

/* do_op - one ID or ALL */
static int do_op(const char *qdir, enum queue_op op, const char *what)
{
	size_t n = 0;

	if (strcmp(what, "ALL") == 0) {
		for (int s = QUEUE_INCOMING; s < QUEUE_NSTATES; s++) {
			struct strv ids = STRV_INIT;

			if (s == QUEUE_CORRUPT && op != OP_DELETE)
				continue;
			queue_scan(qdir, (enum queue_state)s, &ids);
			for (size_t i = 0; i < ids.n; i++)
				n += (size_t)apply_one(qdir, op, ids.v[i], (enum queue_state)s);
			strv_free(&ids);
		}
	} else {
		enum queue_state st;

		if (find_or_complain(qdir, what, &st) < 0)
			return 1;
		n = (size_t)apply_one(qdir, op, what, st);
		if (n == 0) {
			fprintf(stderr, "outpost queue: %s: nothing to do in queue %s\n", what,
				queue_state_name(st));
			return 1;
		}
	}
	fprintf(stderr, "outpost queue: %s: %zu message%s\n", op_done[op], n, n == 1 ? "" : "s");
	if (n > 0 && op != OP_DELETE && op != OP_HOLD)
		(void)qfile_wakeup(qdir, "W");
	return 0;
}

/* do_flush - a request line to qmgr */
static int do_flush(const char *qdir, const char *what)
{
	struct buf cmd = BUF_INIT;
	int rc;

	if (what == NULL)
		buf_puts(&cmd, "F");
	else if (qfile_valid_id(what)) {
		enum queue_state st;

		if (find_or_complain(qdir, what, &st) < 0)
			return 1;
		buf_printf(&cmd, "I %s", what);
	} else if (strchr(what, '/') == NULL && strchr(what, ' ') == NULL && *what)
		buf_printf(&cmd, "F %s", what);
	else {
		fprintf(stderr, "outpost queue: %s: neither a queue ID nor a domain\n", what);
		buf_free(&cmd);
		return 2;
	}
	rc = qfile_wakeup(qdir, cmd.data);
	buf_free(&cmd);
	if (rc < 0 && errno == EACCES) {
		fprintf(stderr, "outpost queue: fatal: cannot reach the queue manager in %s/public: "
				"permission denied\n", qdir);
		return EXIT_TEMPFAIL;
	}
	if (rc < 0) {
		fprintf(stderr, "outpost queue: fatal: Cannot flush mail queue - mail system is down\n");
		return EXIT_TEMPFAIL;
	}
	return 0;
}

/* queue_dir_of - queue_directory from the configuration */
static char *queue_dir_of(const char *confdir)
{
	struct buf err = BUF_INIT;
	struct config *cf = config_load(confdir, &err);
	char *qdir;

	if (cf == NULL) {
		fprintf(stderr, "%s", buf_cstr(&err));
		if (err.len && err.data[err.len - 1] != '\n')
			fputc('\n', stderr);
		buf_free(&err);
		return NULL;
	}
	qdir = xstrdup(config_str(cf, "queue_directory"));
	config_free(&cf);
	buf_free(&err);
	return qdir;
}

/* dispatch - run one verb */
static int dispatch(const char *qdir, int argc, char **argv, int i, bool json)
{
	const char *verb = i < argc ? argv[i] : "list";
	const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
	static const char *const verbs[] = { "delete", "hold", "release", "requeue" };

	if (strcmp(verb, "list") == 0) {
		if (arg && (strcmp(arg, "--json") == 0 || strcmp(arg, "-j") == 0))
			return do_list(qdir, true);
		return arg ? usage() : do_list(qdir, json);
	}
	if (strcmp(verb, "show") == 0)
		return arg && i + 2 == argc ? do_show(qdir, arg) : usage();
	if (strcmp(verb, "flush") == 0)
		return i + 2 >= argc ? do_flush(qdir, arg) : usage();
	for (int k = 0; k < 4; k++)
		if (strcmp(verb, verbs[k]) == 0)
			return arg && i + 2 == argc ? do_op(qdir, (enum queue_op)k, arg) : usage();
	fprintf(stderr, "outpost queue: unknown action \"%s\"\n", verb);
	return usage();
}

/* cmd_queue - parse options, load the configuration, dispatch */
int cmd_queue(int argc, char **argv)
{
	const char *confdir = getenv("OUTPOST_CONFIG_DIR");
	bool json = false, flush = false;
	char *qdir;
	int i, rc;

	if (confdir == NULL)
		confdir = CONFIG_DEFAULT_DIR;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			confdir = argv[++i];
		else if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			json = true;
		else if (strcmp(argv[i], "-p") == 0)
			json = false;
		else if (strcmp(argv[i], "-f") == 0)
			flush = true;
		else
			return usage();
	}
	if ((qdir = queue_dir_of(confdir)) == NULL)
		return 1;
	if (flush)
		rc = i == argc ? do_flush(qdir, NULL) : usage();
	else
		rc = dispatch(qdir, argc, argv, i, json);
	free(qdir);
	return rc;
}

/* cmd_mailq - mailq(1): list the queue */
int cmd_mailq(int argc, char **argv)
{
	char *args[4] = { "queue", NULL, NULL, NULL };
	int n = 1;

	for (int i = 1; i < argc && n < 3; i++) {
		if (strcmp(argv[i], "-C") == 0 && i + 1 < argc) {
			args[n++] = "-c";
			args[n++] = argv[++i];
		}
	}
	return cmd_queue(n, args);
}
