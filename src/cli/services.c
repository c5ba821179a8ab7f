/*
 * services - which master.cf commands Outpost runs as processes, one line
 * per command (see master.h). Add yours above the NULL line.
 *
 * Public: service_impls[], service_impl_find.
 */
#include "cli/master.h"
#include "cli/queue_services.h"
#include "smtpd/smtpd_service.h"

#include <string.h>

const struct service_impl service_impls[] = {
	{ "qmgr", cli_qmgr_main, SERVICE_LISTEN_FIFO },
	{ "smtpd", smtpd_service_main, SERVICE_LISTEN_DEFAULT },
	{ "pickup", cli_pickup_main, SERVICE_LISTEN_FIFO },
	{ NULL, NULL, SERVICE_LISTEN_DEFAULT },
};

/* service_impl_find - the implementation of a master.cf command, or NULL */
const struct service_impl *service_impl_find(const char *command)
{
	const struct service_impl *s;

	for (s = service_impls; s->command; s++)
		if (strcmp(s->command, command) == 0)
			return s;
	return NULL;
}
