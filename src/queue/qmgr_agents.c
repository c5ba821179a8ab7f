/*
 * qmgr_agents - the queue manager's own delivery agents, and the registry
 * of the others (which the cli layer passes in).
 *
 *   error    fails every recipient with the nexthop as the reason, as
 *            Postfix's error(8): "5.1.1 User unknown" bounces with 5.1.1,
 *            a leading 4.X.X defers instead, no code means 5.0.0.
 *   discard  reports every recipient delivered without sending anything,
 *            as discard(8), with the nexthop as the reason.
 *
 * Public: qmgr_register_agents, qmgr_find_agent (qmgr.h),
 * qmgr_agent_error, qmgr_agent_discard (qmgr_impl.h).
 */
#include "queue/qmgr_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define AGENTS_MAX 32

static struct delivery_agent registered[AGENTS_MAX];
static size_t nregistered;

static const struct delivery_agent builtin[] = {
	{ "error", qmgr_agent_error, NULL },
	{ "discard", qmgr_agent_discard, NULL },
};

/* qmgr_register_agents - add agents; a later one replaces an earlier name */
void qmgr_register_agents(const struct delivery_agent *agents, size_t n)
{
	for (size_t i = 0; i < n && agents[i].command; i++) {
		size_t k;

		for (k = 0; k < nregistered; k++)
			if (strcmp(registered[k].command, agents[i].command) == 0)
				break;
		if (k == nregistered && nregistered == AGENTS_MAX)
			log_panic("qmgr_register_agents: more than %d agents", AGENTS_MAX);
		registered[k] = agents[i];
		if (k == nregistered)
			nregistered++;
	}
}

/* qmgr_find_agent - by master.cf command name */
const struct delivery_agent *qmgr_find_agent(const char *command)
{
	for (size_t k = 0; k < nregistered; k++)
		if (strcmp(registered[k].command, command) == 0)
			return &registered[k];
	for (size_t k = 0; k < sizeof(builtin) / sizeof(builtin[0]); k++)
		if (strcmp(builtin[k].command, command) == 0)
			return &builtin[k];
	return NULL;
}

/* split_dsn - a leading "X.Y.Z " detail code, if any */
static const char *split_dsn(const char *text, char dsn[16])
{
	const char *p = text;
	size_t n;

	if ((p[0] == '2' || p[0] == '4' || p[0] == '5') && p[1] == '.') {
		p += 2;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '.' && isdigit((unsigned char)p[1])) {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
			n = (size_t)(p - text);
			if ((*p == ' ' || *p == 0) && n < 16) {
				memcpy(dsn, text, n);
				dsn[n] = 0;
				while (*p == ' ')
					p++;
				return p;
			}
		}
	}
	dsn[0] = 0;
	return text;
}

/* fill_all - every recipient the same outcome */
static void fill_all(struct delivery *d, enum delivery_status st, const char *dsn,
		     const char *text)
{
	for (size_t i = 0; i < d->nrcpt; i++) {
		struct delivery_rcpt *r = &d->rcpt[i];

		r->status = st;
		snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
		buf_set(&r->reply, text);
		buf_set(&r->relay, "none");
	}
}

/* qmgr_agent_error - bounce (or defer, for 4.X.X) with the nexthop text */
void qmgr_agent_error(struct delivery *d)
{
	char dsn[16];
	const char *text = split_dsn(d->nexthop ? d->nexthop : "", dsn);

	if (dsn[0] == 0 || dsn[0] == '2')
		snprintf(dsn, sizeof(dsn), "5.0.0");
	fill_all(d, dsn[0] == '4' ? DELIVERY_DEFERRED : DELIVERY_BOUNCED, dsn,
		 *text ? text : "delivery refused by the error transport");
}

/* qmgr_agent_discard - pretend success, say so in the log */
void qmgr_agent_discard(struct delivery *d)
{
	char dsn[16];
	const char *text = split_dsn(d->nexthop ? d->nexthop : "", dsn);
	struct buf why = BUF_INIT;

	buf_printf(&why, "discarded%s%s", *text ? ": " : "", text);
	fill_all(d, DELIVERY_SENT, "2.0.0", why.data);
	buf_free(&why);
}
