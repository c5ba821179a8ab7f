/*
 * cmd_deliver_test - `outpost deliver-test`, a hidden driver for the
 * routing and delivery code, so tests can exercise them without a queue
 * manager:
 *
 *   outpost deliver-test [-c DIR] route [-f SENDER] RCPT...
 *   outpost deliver-test [-c DIR] route --batch < "sender TAB rcpt" lines
 *   outpost deliver-test [-c DIR] deliver -t TRANSPORT [-n NEXTHOP]
 *           [-f SENDER] [-a ARRIVAL] [-q QUEUEID] [-o RCPT=ORIGINAL]
 *           [--notify RCPT=SUCCESS,FAILURE] [--envid ID] [--ret FULL|HDRS]
 *           [--repeat N] MESSAGE_FILE RCPT...
 *
 * route prints one JSON object per recipient (transport, nexthop, class,
 * source), or in batch mode the tab-separated form of the recorded
 * fixtures. deliver runs the agent of TRANSPORT's master.cf command (with
 * the service's -o overrides) on the file's bytes and prints a JSON array
 * of per-recipient results (one array per run with --repeat, which hands
 * the same batch to the agent N times in one process, as qmgr does for a
 * busy destination); the Postfix-style log lines go to stderr. Mail the
 * local agent forwards goes through cleanup into incoming/, as under qmgr.
 * "<>" means the null address.
 *
 * Public: cmd_deliver_test.
 * Bad input: usage errors exit 2, configuration errors 1, with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup/cleanup.h"
#include "cli/commands.h"
#include "cli/queue_services.h"
#include "config/config.h"
#include "deliver/deliver.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/route.h"

/* json_str - a JSON string literal */
static void json_str(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(out, "\\%c", *p);
		else if (*p < 0x20)
			buf_printf(out, "\\u%04x", *p);
		else
			buf_putc(out, (char)*p);
	}
	buf_putc(out, '"');
}

/* null_addr - "<>" stands for the null address on the command line */
static const char *null_addr(const char *s)
{
	return strcmp(s, "<>") == 0 ? "" : s;
}

/* usage - the synopsis; exit status 2 */
static int usage(void)
{
	fprintf(stderr,
		"usage: outpost deliver-test [-c DIR] route [-f SENDER] RCPT...\n"
		"       outpost deliver-test [-c DIR] route --batch\n"
		"       outpost deliver-test [-c DIR] deliver -t TRANSPORT [-n NEXTHOP] [-f SENDER]\n"
		"              [-a ARRIVAL] [-q QUEUEID] [-o RCPT=ORIGINAL] [--notify RCPT=LIST]\n"
		"              [--envid ID] [--ret FULL|HDRS] [--repeat N] MESSAGE_FILE RCPT...\n");
	return 2;
}

/* route_one - print one route */
static int route_one(struct route_ctx *rc, const char *sender, const char *rcpt, bool batch)
{
	struct route r;
	struct buf out = BUF_INIT;
	int ret = 0;

	route_init(&r);
	if (route_lookup(rc, null_addr(sender), null_addr(rcpt), &r) != ROUTE_OK) {
		log_warn("%s: %s", rcpt, buf_cstr(&r.reason));
		ret = 1;
	} else if (batch) {
		printf("%s\t%s\t%s\t%s\t%s\n", sender, rcpt, buf_cstr(&r.transport),
		       buf_cstr(&r.nexthop), route_class_name(r.cls));
	} else {
		buf_puts(&out, "{\"recipient\": ");
		json_str(&out, rcpt);
		buf_puts(&out, ", \"transport\": ");
		json_str(&out, buf_cstr(&r.transport));
		buf_puts(&out, ", \"nexthop\": ");
		json_str(&out, buf_cstr(&r.nexthop));
		buf_puts(&out, ", \"class\": ");
		json_str(&out, route_class_name(r.cls));
		buf_puts(&out, ", \"source\": ");
		json_str(&out, route_source_name(r.source));
		buf_puts(&out, "}");
		printf("%s\n", buf_cstr(&out));
	}
	buf_free(&out);
	route_free(&r);
	return ret;
}

/* cmd_route - the route subcommand */
static int cmd_route(struct config *cf, int argc, char **argv)
{
	const char *sender = "";
	bool batch = false;
	struct route_ctx *rc;
	struct buf err = BUF_INIT;
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
			sender = argv[++i];
		} else if (strcmp(argv[i], "--batch") == 0) {
			batch = true;
		} else if (argv[i][0] == '-' && strcmp(argv[i], "<>") != 0) {
			return usage();
		} else {
			argv[ret++] = argv[i];	/* collect recipients in place */
		}
	}
	argc = ret;
	ret = 0;
	if (!batch && argc == 0)
		return usage();
	if ((rc = route_open(cf, &err)) == NULL) {
		log_warn("%s", buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	if (batch) {
		char line[2048];
		while (fgets(line, sizeof(line), stdin)) {
			char *cursor = line, *s, *r;
			line[strcspn(line, "\r\n")] = 0;
			if (line[0] == 0 || line[0] == '#')
				continue;
			s = str_token(&cursor, "\t");
			r = str_token(&cursor, "\t");
			if (s == NULL || r == NULL) {
				log_warn("bad batch line: \"%s\"", line);
				ret = 1;
				continue;
			}
			ret |= route_one(rc, s, r, true);
		}
	} else {
		for (int i = 0; i < argc; i++)
			ret |= route_one(rc, sender, argv[i], false);
	}
	route_close(&rc);
	buf_free(&err);
	return ret;
}

/* pair_value - "RCPT=VALUE" options: the value for rcpt, or NULL */
static const char *pair_value(const struct strv *pairs, const char *rcpt)
{
	size_t n = strlen(rcpt);

	for (size_t i = 0; i < pairs->n; i++)
		if (strncmp(pairs->v[i], rcpt, n) == 0 && pairs->v[i][n] == '=')
			return pairs->v[i] + n + 1;
	return NULL;
}

/* notify_bits - "SUCCESS,FAILURE,DELAY" or "NEVER" */
static unsigned notify_bits(const char *s)
{
	unsigned bits = 0;

	if (s == NULL)
		return 0;
	if (strstr(s, "NEVER"))
		bits |= CLEANUP_NOTIFY_NEVER;
	if (strstr(s, "SUCCESS"))
		bits |= CLEANUP_NOTIFY_SUCCESS;
	if (strstr(s, "FAILURE"))
		bits |= CLEANUP_NOTIFY_FAILURE;
	if (strstr(s, "DELAY"))
		bits |= CLEANUP_NOTIFY_DELAY;
	return bits;
}

/* print_results - JSON array of per-recipient results */
static void print_results(const struct delivery *d)
{
	struct buf out = BUF_INIT;

	buf_puts(&out, "[");
	for (size_t i = 0; i < d->nrcpt; i++) {
		const struct delivery_rcpt *r = &d->rcpt[i];
		buf_puts(&out, i ? ",\n {" : "{");
		buf_puts(&out, "\"recipient\": ");
		json_str(&out, r->address);
		buf_puts(&out, ", \"status\": ");
		json_str(&out, deliver_status_name(r->status));
		buf_puts(&out, ", \"dsn\": ");
		json_str(&out, r->dsn);
		buf_puts(&out, ", \"reply\": ");
		json_str(&out, buf_cstr(&r->reply));
		buf_puts(&out, ", \"relay\": ");
		json_str(&out, buf_cstr(&r->relay));
		buf_printf(&out, ", \"conn_delay\": %.3f, \"xfer_delay\": %.3f}",
			   r->conn_delay, r->xfer_delay);
	}
	buf_puts(&out, "]");
	printf("%s\n", buf_cstr(&out));
	buf_free(&out);
}

struct deliver_args {
	const char *transport, *nexthop, *sender, *queue_id, *envid, *ret;
	time_t arrival;
	long repeat;		/* run the agent this many times in this process */
	struct strv originals, notifies;
};

/* run_agent - build the request and run the transport's agent */
static int run_agent(struct config *base, const struct deliver_args *a, const char *file,
		     int nrcpt, char **rcpts)
{
	const struct master_service *svc = config_service(base, a->transport);
	const struct delivery_agent *agent;
	struct config *cf = base;
	struct buf err = BUF_INIT;
	struct delivery d = { 0 };
	struct stat st;
	int fd, ret = 0;

	agent = deliver_agent_find(svc ? svc->command : a->transport);
	if (agent == NULL) {
		log_warn("transport %s: no delivery agent for command \"%s\"", a->transport,
			 svc ? svc->command : a->transport);
		return 1;
	}
	if (svc && (cf = config_for_service(base, a->transport, &err)) == NULL) {
		log_warn("%s", buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		log_warn("%s: %m", file);
		if (cf != base)
			config_free(&cf);
		return 1;
	}
	d.queue_id = a->queue_id;
	d.transport = a->transport;
	d.nexthop = a->nexthop;
	d.cf = cf;
	d.sender = null_addr(a->sender);
	d.envid = a->envid;
	d.ret = a->ret;
	d.arrival = a->arrival;
	d.content_fd = fd;
	d.content_offset = 0;
	d.content_length = st.st_size;
	d.nrcpt = (size_t)nrcpt;
	d.rcpt = xcalloc((size_t)nrcpt, sizeof(*d.rcpt));
	for (int i = 0; i < nrcpt; i++) {
		d.rcpt[i].address = rcpts[i];
		d.rcpt[i].original = pair_value(&a->originals, rcpts[i]);
		d.rcpt[i].notify = notify_bits(pair_value(&a->notifies, rcpts[i]));
		d.rcpt[i].index = (size_t)i;
	}
	for (long n = 0; n < (a->repeat > 0 ? a->repeat : 1); n++) {
		for (size_t i = 0; i < d.nrcpt; i++) {	/* as qmgr hands the agent a new batch */
			d.rcpt[i].status = DELIVERY_PENDING;
			buf_reset(&d.rcpt[i].reply);
			buf_reset(&d.rcpt[i].relay);
		}
		agent->fn(&d);
		for (size_t i = 0; i < d.nrcpt; i++) {
			if (d.rcpt[i].status == DELIVERY_PENDING) {
				log_warn("agent %s left %s pending", agent->command, d.rcpt[i].address);
				ret = 1;
			}
			deliver_log_result(&d, &d.rcpt[i]);
		}
		print_results(&d);
	}
	for (size_t i = 0; i < d.nrcpt; i++) {
		buf_free(&d.rcpt[i].reply);
		buf_free(&d.rcpt[i].relay);
	}
	xfree(&d.rcpt);
	close(fd);
	if (cf != base)
		config_free(&cf);
	return ret;
}

/* cmd_deliver - the deliver subcommand */
static int cmd_deliver(struct config *cf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "notify", required_argument, NULL, 'N' },
		{ "envid", required_argument, NULL, 'E' },
		{ "ret", required_argument, NULL, 'R' },
		{ "repeat", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct deliver_args a = { .sender = "", .queue_id = "TESTQUEUEID", .nexthop = "",
				  .originals = STRV_INIT, .notifies = STRV_INIT };
	long arrival;
	int c, ret;

	a.arrival = time(NULL);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:n:f:a:q:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': a.transport = optarg; break;
		case 'n': a.nexthop = optarg; break;
		case 'f': a.sender = optarg; break;
		case 'q': a.queue_id = optarg; break;
		case 'o': strv_push(&a.originals, optarg); break;
		case 'N': strv_push(&a.notifies, optarg); break;
		case 'E': a.envid = optarg; break;
		case 'R': a.ret = optarg; break;
		case 'P':
			if (str_parse_long(optarg, &a.repeat) < 0 || a.repeat < 1)
				return usage();
			break;
		case 'a':
			if (str_parse_long(optarg, &arrival) < 0)
				return usage();
			a.arrival = (time_t)arrival;
			break;
		default:
			return usage();
		}
	}
	if (a.transport == NULL || argc - optind < 2)
		return usage();
	ret = run_agent(cf, &a, argv[optind], argc - optind - 1, argv + optind + 1);
	strv_free(&a.originals);
	strv_free(&a.notifies);
	return ret;
}

/* cmd_deliver_test - dispatch */
int cmd_deliver_test(int argc, char **argv)
{
	const char *dir = getenv("OUTPOST_CONFIG_DIR");
	struct config *cf;
	struct buf err = BUF_INIT;
	int i = 1, ret;

	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		dir = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	if ((cf = config_load(dir ? dir : CONFIG_DEFAULT_DIR, &err)) == NULL) {
		fprintf(stderr, "%s", buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	if (strcmp(argv[i], "route") == 0)
		ret = cmd_route(cf, argc - i, argv + i);
	else if (strcmp(argv[i], "deliver") == 0) {
		deliver_set_resubmit(cli_resubmit);	/* forwarded mail through cleanup, as qmgr's agents */
		ret = cmd_deliver(cf, argc - i, argv + i);
	}
	else
		ret = usage();
	config_free(&cf);
	buf_free(&err);
	return ret;
}
