/*
 * deliver - the table of delivery agents by master.cf command name, which
 * the scheduler (qmgr) and `outpost deliver-test` use to find the agent
 * of a transport.
 *
 * Public: deliver_agents[], deliver_agent_find.
 */
#include "deliver/deliver.h"
#include "deliver/smtp.h"

#include <string.h>

const struct delivery_agent deliver_agents[] = {
	{ "smtp", deliver_smtp, smtp_session_cache_expire },
	{ "lmtp", deliver_lmtp, smtp_session_cache_expire },
	{ "local", deliver_local, NULL },
	{ "virtual", deliver_virtual, NULL },
	{ "pipe", deliver_pipe, NULL },
	{ NULL, NULL, NULL },
};

/* deliver_agent_find - the agent for a master.cf command name, or NULL */
const struct delivery_agent *deliver_agent_find(const char *command)
{
	for (const struct delivery_agent *a = deliver_agents; a->command; a++)
		if (strcmp(a->command, command) == 0)
			return a;
	return NULL;
}
